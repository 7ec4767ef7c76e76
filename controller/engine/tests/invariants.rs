//! Property tests of the engine's invariants.
//!
//! A strategy generates random but valid small group clouds: one to three clusters, interconnect
//! groups, nodes of 4 or 8 devices (some unhealthy, some nodes cordoned or dedicated), a catalogue
//! of one to three models from two or three families, tenant trees with nested quotas, and
//! training jobs and inference services, some already running (guaranteed, borrowed, or tidal on
//! devices an inference service lent). Every plan `schedule` returns for them under a random
//! policy is checked against what the crate documents: no device held twice, gangs all or
//! nothing, quotas and lending limits, whole-gang preemptions for a reason the policy allows,
//! replica numbering, pending reasons, and determinism (also through a fleet index made before any
//! work existed, and with withdrawn workloads anywhere in the snapshot). A second, narrower strategy checks that a tenant within its nominal quota gets
//! back devices other tenants borrowed.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rust_decimal::Decimal;
use support::{Builder, pending_reason};
use tidepool_engine::*;

const NOW: i64 = 1_000_000;

const CLASSES: [WorkloadClass; WorkloadClass::COUNT] = [
    WorkloadClass::LlmTraining,
    WorkloadClass::LlmInference,
    WorkloadClass::CvTraining,
    WorkloadClass::CvInference,
    WorkloadClass::RecsysTraining,
    WorkloadClass::RecsysInference,
];

/// 256 cases per property, unless `PROPTEST_CASES` says otherwise (for longer hunts).
fn config() -> ProptestConfig {
    let cases = if std::env::var_os("PROPTEST_CASES").is_some() { ProptestConfig::default().cases } else { 256 };
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// Raw material: plain numbers proptest generates and shrinks; `build` turns any of it into a
// snapshot that passes `Snapshot::check` (selectors are taken modulo the table they point into).
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct RawModel {
    family: u8,
    memory_gib: u32,
    price_cents: i64,
    throughput: [Option<f64>; WorkloadClass::COUNT],
}

#[derive(Clone, Debug)]
struct RawNode {
    group: u8,
    model: u8,
    eight: bool,
    two_domains: bool,
    unhealthy: u8,
    schedulable: bool,
    dedicated: Option<u8>,
}

#[derive(Clone, Debug)]
struct RawQuota {
    per_model: bool,
    target: u8,
    nominal: u32,
    borrowing: Option<u32>,
    lending: Option<u32>,
}

#[derive(Clone, Debug)]
struct RawTenant {
    parent: Option<u8>,
    weight: u32,
    quotas: Vec<RawQuota>,
    allowed: Option<Vec<u8>>,
    dedicated_only: bool,
}

#[derive(Clone, Debug)]
struct RawAccept {
    per_model: bool,
    target: u8,
    min_memory_gib: u32,
    throughput: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunMode {
    Waiting,
    Running,
    Partial,
    Tidal,
}

#[derive(Clone, Debug)]
struct RawRun {
    mode: RunMode,
    model: u8,
    start: u8,
    extra: u32,
    age: i64,
    checkpointed: Option<i64>,
    /// Replica 0 is gone: the running replicas are numbered from 1.
    gap: bool,
}

#[derive(Clone, Debug)]
struct RawWorkload {
    tenant: u8,
    inference: bool,
    class: u8,
    priority: i32,
    preemptible: bool,
    replicas_min: u32,
    wanted_delta: i32,
    devices: u32,
    accepts: Vec<RawAccept>,
    mixed: bool,
    work: Option<f64>,
    checkpoint: Option<(i64, i64)>,
    deadline: Option<i64>,
    submitted: i64,
    run: RawRun,
}

#[derive(Clone, Debug)]
struct RawLent {
    lender: u8,
    node: u8,
    count: u8,
    /// The lender's demand returns: it wants one more replica than it runs.
    wants_back: bool,
}

#[derive(Clone, Debug)]
struct Raw {
    families: u32,
    models: Vec<RawModel>,
    clusters: u32,
    groups: Vec<u8>,
    nodes: Vec<RawNode>,
    tenants: Vec<RawTenant>,
    workloads: Vec<RawWorkload>,
    lent: Vec<RawLent>,
}

fn raw_model() -> impl Strategy<Value = RawModel> {
    let figure = prop::option::weighted(0.85, prop::sample::select(vec![0.3, 0.6, 1.0, 1.5]));
    (any::<u8>(), prop::sample::select(vec![32u32, 64, 80, 96]), 100i64..3000, prop::array::uniform6(figure)).prop_map(
        |(family, memory_gib, price_cents, throughput)| RawModel { family, memory_gib, price_cents, throughput },
    )
}

fn raw_node() -> impl Strategy<Value = RawNode> {
    let unhealthy = prop_oneof![6 => Just(0u8), 2 => (0u8..8).prop_map(|b| 1 << b), 1 => any::<u8>()];
    (
        any::<u8>(),
        any::<u8>(),
        any::<bool>(),
        prop::bool::weighted(0.8),
        unhealthy,
        prop::bool::weighted(0.85),
        prop::option::weighted(0.1, any::<u8>()),
    )
        .prop_map(|(group, model, eight, two_domains, unhealthy, schedulable, dedicated)| RawNode {
            group,
            model,
            eight,
            two_domains,
            unhealthy,
            schedulable,
            dedicated,
        })
}

fn raw_quota() -> impl Strategy<Value = RawQuota> {
    (
        any::<bool>(),
        any::<u8>(),
        0u32..=24,
        prop::option::weighted(0.5, 0u32..=16),
        prop::option::weighted(0.4, 0u32..=24),
    )
        .prop_map(|(per_model, target, nominal, borrowing, lending)| RawQuota {
            per_model,
            target,
            nominal,
            borrowing,
            lending,
        })
}

fn raw_tenant() -> impl Strategy<Value = RawTenant> {
    (
        prop::option::weighted(0.75, any::<u8>()),
        1u32..=3,
        prop::collection::vec(raw_quota(), 0..=3),
        prop::option::weighted(0.2, prop::collection::vec(any::<u8>(), 1..=2)),
        prop::bool::weighted(0.05),
    )
        .prop_map(|(parent, weight, quotas, allowed, dedicated_only)| RawTenant {
            parent,
            weight,
            quotas,
            allowed,
            dedicated_only,
        })
}

fn raw_accept() -> impl Strategy<Value = RawAccept> {
    (
        prop::bool::weighted(0.6),
        any::<u8>(),
        prop::sample::select(vec![0u32, 0, 0, 64, 80, 96]),
        prop::option::weighted(0.15, prop::sample::select(vec![0.5, 1.0, 2.0])),
    )
        .prop_map(|(per_model, target, min_memory_gib, throughput)| RawAccept {
            per_model,
            target,
            min_memory_gib,
            throughput,
        })
}

fn raw_run() -> impl Strategy<Value = RawRun> {
    let mode = prop_oneof![
        10 => Just(RunMode::Waiting),
        9 => Just(RunMode::Running),
        1 => Just(RunMode::Partial),
        4 => Just(RunMode::Tidal),
    ];
    (
        mode,
        any::<u8>(),
        any::<u8>(),
        0u32..=2,
        0i64..200_000,
        prop::option::weighted(0.5, 0i64..200_000),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(mode, model, start, extra, age, checkpointed, gap)| RawRun {
            mode,
            model,
            start,
            extra,
            age,
            checkpointed,
            gap,
        })
}

fn raw_workload() -> impl Strategy<Value = RawWorkload> {
    let shape = (
        any::<u8>(),
        prop::bool::weighted(0.3),
        0u8..6,
        -2i32..=3,
        any::<bool>(),
        1u32..=4,
        -1i32..=2,
        prop::sample::select(vec![1u32, 2, 4, 8]),
    );
    let accepts = prop_oneof![1 => Just(Vec::new()), 15 => prop::collection::vec(raw_accept(), 1..=2)];
    let rest = (
        prop::bool::weighted(0.15),
        prop::option::weighted(0.7, 1.0f64..3000.0),
        prop::option::weighted(0.6, (60i64..7200, 0i64..600)),
        prop::option::weighted(0.2, 0i64..200_000),
        0i64..1000,
    );
    (shape, accepts, rest, raw_run()).prop_map(
        |(
            (tenant, inference, class, priority, preemptible, replicas_min, wanted_delta, devices),
            accepts,
            (mixed, work, checkpoint, deadline, submitted),
            run,
        )| RawWorkload {
            tenant,
            inference,
            class,
            priority,
            preemptible,
            replicas_min,
            wanted_delta,
            devices,
            accepts,
            mixed,
            work,
            checkpoint,
            deadline,
            submitted,
            run,
        },
    )
}

fn raw_snapshot() -> impl Strategy<Value = Raw> {
    let nodes = prop_oneof![
        3 => prop::collection::vec(raw_node(), 2..=8),
        1 => prop::collection::vec(raw_node(), 9..=24),
    ];
    let lent = prop::collection::vec(
        (any::<u8>(), any::<u8>(), 1u8..=6, any::<bool>()).prop_map(|(lender, node, count, wants_back)| RawLent {
            lender,
            node,
            count,
            wants_back,
        }),
        0..=6,
    );
    (
        2u32..=3,
        prop::collection::vec(raw_model(), 1..=3),
        1u32..=3,
        prop::collection::vec(any::<u8>(), 1..=4),
        nodes,
        prop::collection::vec(raw_tenant(), 1..=7),
        prop::collection::vec(raw_workload(), 0..=20),
        lent,
    )
        .prop_map(|(families, models, clusters, groups, nodes, tenants, workloads, lent)| Raw {
            families,
            models,
            clusters,
            groups,
            nodes,
            tenants,
            workloads,
            lent,
        })
}

fn snapshots() -> impl Strategy<Value = Cloud> {
    raw_snapshot().prop_map(|raw| Cloud(build(&raw)))
}

/// A generated snapshot, printed one line per thing so a shrunk counter-example is readable.
#[derive(Clone)]
struct Cloud(Snapshot);

impl fmt::Debug for Cloud {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.0;
        writeln!(f, "Cloud (now = {NOW}, times relative to it):")?;
        for (i, m) in s.catalogue.models.iter().enumerate() {
            let tp: Vec<String> = m.throughput.iter().map(|t| t.map_or("-".into(), |t| t.to_string())).collect();
            writeln!(
                f,
                "  model{i}: family{} {} GiB {}/h throughput [{}]",
                m.family.0,
                m.memory_gib,
                m.price_per_hour,
                tp.join(" ")
            )?;
        }
        for (i, g) in s.groups.iter().enumerate() {
            writeln!(f, "  group{i}: cluster{}", g.cluster.0)?;
        }
        for (i, n) in s.nodes.iter().enumerate() {
            let unhealthy: Vec<usize> = (0..n.devices.len()).filter(|&d| !n.devices[d].healthy).collect();
            let domains: Vec<u8> = n.devices.iter().map(|d| d.link_domain).collect();
            writeln!(
                f,
                "  node{i}: group{} model{} x{} domains {:?}{}{}{}",
                n.group.0,
                n.devices.first().map_or(0, |d| d.model.0),
                n.devices.len(),
                domains,
                if unhealthy.is_empty() { String::new() } else { format!(" unhealthy {unhealthy:?}") },
                if n.schedulable { "" } else { " CORDONED" },
                n.dedicated_to.map_or(String::new(), |t| format!(" dedicated to tenant{}", t.0)),
            )?;
        }
        for (i, t) in s.tenants.iter().enumerate() {
            let quotas: Vec<String> = t
                .quotas
                .iter()
                .map(|q| {
                    let key = match q.key {
                        QuotaKey::Model(m) => format!("model{}", m.0),
                        QuotaKey::Family(x) => format!("family{}", x.0),
                    };
                    format!("{key} nominal {} borrow {:?} lend {:?}", q.nominal, q.borrowing_limit, q.lending_limit)
                })
                .collect();
            writeln!(
                f,
                "  tenant{i}: parent {:?} weight {} quotas [{}]{}{}",
                t.parent.map(|p| p.0),
                t.weight,
                quotas.join(", "),
                t.allowed_clusters
                    .as_ref()
                    .map_or(String::new(), |c| format!(" clusters {:?}", c.iter().map(|c| c.0).collect::<Vec<_>>())),
                if t.dedicated_only { " dedicated-only" } else { "" },
            )?;
        }
        for (i, w) in s.workloads.iter().enumerate() {
            let accepts: Vec<String> = w
                .accepts
                .iter()
                .map(|a| {
                    let t = match a.target {
                        Target::Model(m) => format!("model{}", m.0),
                        Target::Family(x) => format!("family{}", x.0),
                    };
                    format!("{t} >={}GiB tp {:?}", a.min_memory_gib, a.throughput)
                })
                .collect();
            writeln!(
                f,
                "  w{i}: tenant{} {:?} {:?} priority {} {} min {} wanted {} x {} accepts [{}]{} work {:?} checkpoint {:?} deadline {:?} submitted {}",
                w.tenant.0,
                w.kind,
                w.class,
                w.priority,
                if w.preemptible { "preemptible" } else { "non-preemptible" },
                w.replicas_min,
                w.replicas_wanted,
                w.devices_per_replica,
                accepts.join(", "),
                if w.allow_mixed_models { " mixed" } else { "" },
                w.expected_work,
                w.checkpoint.map(|c| (c.interval, c.grace)),
                w.deadline.map(|d| d.0 - NOW),
                w.submitted.0 - NOW,
            )?;
        }
        for a in &s.allocations {
            writeln!(
                f,
                "  running w{} replica {} on node{} {:?} model{} {:?} started {} checkpoint {:?}",
                a.workload.0,
                a.replica,
                a.node.0,
                a.devices,
                a.model.0,
                a.usage,
                a.started.0 - NOW,
                a.last_checkpoint.map(|c| c.0 - NOW)
            )?;
        }
        for l in &s.lent {
            writeln!(f, "  lent node{} device {} by w{}", l.node.0, l.device, l.lender.0)?;
        }
        Ok(())
    }
}

fn policies() -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(vec![Objective::Cost, Objective::Balanced, Objective::Speed, Objective::FirstAcceptable]),
        prop::sample::select(vec![Packing::BestFit, Packing::Spread]),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.8),
        0i32..=2,
        prop::sample::select(vec![1.0, 1.25, 2.0]),
        any::<bool>(),
        prop::sample::select(vec![Admission::FairShare, Admission::Fifo]),
    )
        .prop_map(
            |(
                objective,
                packing,
                preemption,
                reclaim_borrowed,
                reclaim_tidal,
                min_priority_gap,
                balanced_slack,
                backfill,
                admission,
            )| {
                Policy {
                    admission,
                    objective,
                    packing,
                    preemption,
                    reclaim_borrowed,
                    reclaim_tidal,
                    min_priority_gap,
                    balanced_slack,
                    backfill,
                    explain: true,
                }
            },
        )
}

fn inputs() -> impl Strategy<Value = (Cloud, Policy)> {
    (snapshots(), policies())
}

// ---------------------------------------------------------------------------------------------
// Building a valid snapshot from raw material.
// ---------------------------------------------------------------------------------------------

fn ix(selector: u8, len: usize) -> usize {
    usize::from(selector) % len
}

/// The accepted entry that covers a model, as the engine resolves it (a model entry wins).
fn accept_for<'a>(s: &Snapshot, wl: &'a Workload, m: ModelId) -> Option<&'a Accept> {
    let family = s.catalogue.model(m).family;
    wl.accepts
        .iter()
        .find(|a| a.target == Target::Model(m))
        .or_else(|| wl.accepts.iter().find(|a| a.target == Target::Family(family)))
}

/// Whether a workload may run on a model at all: accepted, enough memory, a throughput figure.
fn runnable_on(s: &Snapshot, wl: &Workload, m: ModelId) -> bool {
    let model = s.catalogue.model(m);
    accept_for(s, wl, m).is_some_and(|a| {
        model.memory_gib >= a.min_memory_gib
            && a.throughput.or(model.throughput[wl.class as usize]).is_some_and(|t| t > 0.0)
    })
}

/// Whether a tenant's residency and isolation rules let it use a node.
fn may_use(s: &Snapshot, tenant: TenantId, node: NodeId) -> bool {
    let t = &s.tenants[tenant.ix()];
    t.allows_cluster(s.cluster_of(node))
        && match s.nodes[node.ix()].dedicated_to {
            None => !t.dedicated_only,
            Some(d) => s.tenant_path(tenant).any(|x| x == d),
        }
}

fn node_model(s: &Snapshot, node: NodeId) -> Option<ModelId> {
    s.nodes[node.ix()].devices.first().map(|d| d.model)
}

fn healthy_mask(node: &Node) -> u64 {
    node.devices.iter().enumerate().filter(|(_, d)| d.healthy).fold(0, |m, (i, _)| m | (1 << i))
}

/// First-fit placement of `count` replicas in one cluster, from a rotating start node, on the
/// devices `avail` marks.
fn place_replicas(
    s: &Snapshot,
    wl: &Workload,
    model: ModelId,
    count: u32,
    start: u8,
    avail: &[u64],
) -> Option<Vec<(NodeId, u64)>> {
    let n = s.nodes.len();
    let order: Vec<NodeId> = (0..n)
        .map(|k| NodeId(((usize::from(start) + k) % n) as u32))
        .filter(|&id| node_model(s, id) == Some(model) && may_use(s, wl.tenant, id))
        .collect();
    let mut avail = avail.to_vec();
    let mut out = Vec::new();
    let mut cluster = None;
    for _ in 0..count {
        let node = order.iter().copied().find(|&id| {
            cluster.is_none_or(|c| s.cluster_of(id) == c) && avail[id.ix()].count_ones() >= wl.devices_per_replica
        })?;
        cluster = Some(s.cluster_of(node));
        let mask = mask::lowest_bits(avail[node.ix()], wl.devices_per_replica);
        avail[node.ix()] &= !mask;
        out.push((node, mask));
    }
    Some(out)
}

/// Whether a quota key counts devices of a model.
fn key_counts(s: &Snapshot, key: QuotaKey, m: ModelId) -> bool {
    match key {
        QuotaKey::Model(x) => x == m,
        QuotaKey::Family(f) => s.catalogue.model(m).family == f,
    }
}

/// Guaranteed when within nominal at every quota on the path (and some quota covers the model);
/// otherwise borrowed for preemptible work, and (over-quota legacy) guaranteed for the rest.
fn running_class(s: &Snapshot, wl: &Workload, model: ModelId, n: u32) -> UsageClass {
    let family = s.catalogue.model(model).family;
    let mut covered = false;
    let mut within = true;
    for a in s.tenant_path(wl.tenant) {
        let Some(q) = s.tenants[a.ix()].quota_for(model, family) else { continue };
        covered = true;
        let used: u32 = s
            .allocations
            .iter()
            .filter(|x| x.usage != UsageClass::Tidal && key_counts(s, q.key, x.model))
            .filter(|x| s.tenant_path(s.workloads[x.workload.ix()].tenant).any(|t| t == a))
            .map(|x| x.devices.count_ones())
            .sum();
        within &= used + n <= q.nominal;
    }
    if (covered && within) || !wl.preemptible { UsageClass::Guaranteed } else { UsageClass::Borrowed }
}

fn build(raw: &Raw) -> Snapshot {
    let families = raw.families;
    let models = raw.models.len() as u32;
    let mut s = Snapshot::default();
    s.catalogue.families = (0..families).map(|f| format!("family{f}")).collect();
    s.catalogue.models = raw
        .models
        .iter()
        .enumerate()
        .map(|(i, m)| Model {
            name: format!("model{i}"),
            family: FamilyId(u32::from(m.family) % families),
            memory_gib: m.memory_gib,
            price_per_hour: Decimal::new(m.price_cents, 2),
            throughput: m.throughput,
        })
        .collect();
    s.clusters = (0..raw.clusters).map(|c| Cluster { name: format!("cluster{c}") }).collect();
    s.groups = raw
        .groups
        .iter()
        .enumerate()
        .map(|(i, &c)| Group {
            name: format!("group{i}"),
            cluster: ClusterId(u32::from(c) % raw.clusters),
            rack: i as u32,
        })
        .collect();
    let groups = s.groups.len();
    let tenants = raw.tenants.len();
    s.nodes = raw
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let count = if n.eight { 8 } else { 4 };
            let model = ModelId(u32::from(n.model) % models);
            Node {
                name: format!("node{i}"),
                group: GroupId(ix(n.group, groups) as u32),
                schedulable: n.schedulable,
                dedicated_to: n.dedicated.map(|t| TenantId(ix(t, tenants) as u32)),
                devices: (0..count)
                    .map(|d| Device {
                        id: format!("dev{d}"),
                        model,
                        link_domain: if n.two_domains { (d * 2 / count) as u8 } else { 0 },
                        healthy: n.unhealthy & (1 << d) == 0,
                    })
                    .collect(),
            }
        })
        .collect();

    for (i, t) in raw.tenants.iter().enumerate() {
        let parent = if i == 0 { None } else { t.parent.map(|p| TenantId(ix(p, i) as u32)) };
        let mut quotas: Vec<Quota> = Vec::new();
        for q in &t.quotas {
            let key = if q.per_model {
                QuotaKey::Model(ModelId(u32::from(q.target) % models))
            } else {
                QuotaKey::Family(FamilyId(u32::from(q.target) % families))
            };
            if quotas.iter().any(|x| x.key == key) {
                continue;
            }
            // Children's nominal quotas fit in their parent's (same key).
            let mut nominal = q.nominal;
            if let Some(p) = parent
                && let Some(pq) = s.tenants[p.ix()].quotas.iter().find(|x| x.key == key)
            {
                let taken: u32 = s
                    .tenants
                    .iter()
                    .filter(|x| x.parent == Some(p))
                    .filter_map(|x| x.quotas.iter().find(|y| y.key == key))
                    .map(|y| y.nominal)
                    .sum();
                nominal = nominal.min(pq.nominal.saturating_sub(taken));
            }
            quotas.push(Quota {
                key,
                nominal,
                borrowing_limit: q.borrowing,
                lending_limit: q.lending.map(|l| l.min(nominal)),
            });
        }
        let allowed_clusters = t.allowed.as_ref().map(|cs| {
            let mut v: Vec<ClusterId> = cs.iter().map(|&c| ClusterId(u32::from(c) % raw.clusters)).collect();
            v.sort();
            v.dedup();
            v
        });
        s.tenants.push(Tenant {
            name: format!("tenant{i}"),
            parent,
            weight: t.weight,
            quotas,
            allowed_clusters,
            dedicated_only: t.dedicated_only,
        });
    }

    for (i, w) in raw.workloads.iter().enumerate() {
        let replicas_wanted = if w.inference {
            (w.replicas_min as i32 + w.wanted_delta).max(1) as u32
        } else {
            w.replicas_min + w.wanted_delta.max(0) as u32
        };
        let target = |per_model: bool, t: u8| {
            if per_model {
                Target::Model(ModelId(u32::from(t) % models))
            } else {
                Target::Family(FamilyId(u32::from(t) % families))
            }
        };
        // Work meant to run tidal is small enough to fit on a few lent devices.
        let (replicas_min, devices) = if w.run.mode == RunMode::Tidal {
            (1 + (w.replicas_min - 1) % 2, w.devices.min(2))
        } else {
            (w.replicas_min, w.devices)
        };
        let replicas_wanted = if w.run.mode == RunMode::Tidal {
            replicas_wanted.clamp(replicas_min, replicas_min + 2)
        } else {
            replicas_wanted
        };
        s.workloads.push(Workload {
            name: format!("ns/w{i}"),
            tenant: TenantId(ix(w.tenant, tenants) as u32),
            kind: if w.inference { WorkloadKind::Inference } else { WorkloadKind::Training },
            class: CLASSES[usize::from(w.class) % CLASSES.len()],
            priority: w.priority,
            preemptible: w.preemptible,
            replicas_min,
            replicas_wanted,
            devices_per_replica: devices,
            accepts: w
                .accepts
                .iter()
                .map(|a| Accept {
                    target: target(a.per_model, a.target),
                    min_memory_gib: a.min_memory_gib,
                    throughput: a.throughput,
                })
                .collect(),
            allow_mixed_models: w.mixed,
            expected_work: w.work,
            checkpoint: w.checkpoint.map(|(interval, grace)| Checkpoint { interval, grace }),
            deadline: w.deadline.map(|d| Seconds(NOW + d)),
            submitted: Seconds(NOW - 1000 + w.submitted),
        });
    }

    // Running work on free healthy devices, one model and one cluster per gang.
    let mut held = vec![0u64; s.nodes.len()];
    let running_model = |s: &Snapshot, i: usize, sel: u8| {
        let wl = &s.workloads[i];
        (0..models).map(|k| ModelId((u32::from(sel) + k) % models)).find(|&m| runnable_on(s, wl, m))
    };
    let push =
        |s: &mut Snapshot, held: &mut [u64], i: usize, run: &RawRun, model, placed: Vec<(NodeId, u64)>, usage| {
            let started = Seconds(NOW - run.age);
            for (replica, (node, mask)) in placed.into_iter().enumerate() {
                held[node.ix()] |= mask;
                s.allocations.push(Allocation {
                    workload: WorkloadId(i as u32),
                    replica: replica as u32 + u32::from(run.gap),
                    node,
                    devices: mask,
                    model,
                    usage,
                    started,
                    last_checkpoint: run.checkpointed.map(|c| Seconds(NOW - c.min(run.age))),
                });
            }
        };
    for (i, w) in raw.workloads.iter().enumerate() {
        let wl = s.workloads[i].clone();
        let count = match w.run.mode {
            RunMode::Running => (wl.replicas_min + w.run.extra).min(wl.replicas_min.max(wl.replicas_wanted)),
            RunMode::Partial if wl.replicas_min >= 2 => 1 + w.run.extra % (wl.replicas_min - 1),
            _ => continue,
        };
        let Some(model) = running_model(&s, i, w.run.model) else { continue };
        let avail: Vec<u64> = s.nodes.iter().zip(&held).map(|(n, h)| healthy_mask(n) & !h).collect();
        let Some(placed) = place_replicas(&s, &wl, model, count, w.run.start, &avail) else { continue };
        let usage = running_class(&s, &wl, model, count * wl.devices_per_replica);
        push(&mut s, &mut held, i, &w.run, model, placed, usage);
    }

    // Devices running inference services lent: free devices of their model on nodes they may use.
    let lenders: Vec<(WorkloadId, ModelId)> = s
        .workload_ids()
        .filter(|w| s.workloads[w.ix()].kind == WorkloadKind::Inference)
        .filter_map(|w| s.allocations.iter().find(|a| a.workload == w).map(|a| (w, a.model)))
        .collect();
    let mut lent = vec![0u64; s.nodes.len()];
    if !lenders.is_empty() {
        for l in &raw.lent {
            let (lender, model) = lenders[ix(l.lender, lenders.len())];
            let tenant = s.workloads[lender.ix()].tenant;
            let nodes: Vec<NodeId> = (0..s.nodes.len() as u32)
                .map(NodeId)
                .filter(|&n| node_model(&s, n) == Some(model) && may_use(&s, tenant, n))
                .collect();
            if nodes.is_empty() {
                continue;
            }
            let node = nodes[ix(l.node, nodes.len())];
            if l.wants_back {
                let running = s.allocations.iter().filter(|a| a.workload == lender).count() as u32;
                let wl = &mut s.workloads[lender.ix()];
                wl.replicas_wanted = wl.replicas_wanted.max(running + 1);
            }
            // Whole replicas' worth, so the lender can take a replica back.
            let mut left = s.workloads[lender.ix()].devices_per_replica * (1 + u32::from(l.count) / 5);
            for d in 0..s.nodes[node.ix()].devices.len() {
                let bit = 1u64 << d;
                if left > 0 && (held[node.ix()] | lent[node.ix()]) & bit == 0 {
                    lent[node.ix()] |= bit;
                    s.lent.push(Lent { node, device: d as u16, lender });
                    left -= 1;
                }
            }
        }
    }

    // Preemptible work running tidal on lent devices.
    for (i, w) in raw.workloads.iter().enumerate() {
        let wl = s.workloads[i].clone();
        if w.run.mode != RunMode::Tidal || !wl.preemptible {
            continue;
        }
        // The model of some lent device it can run on, else any.
        let lent_models: Vec<ModelId> = s.lent.iter().filter_map(|l| node_model(&s, l.node)).collect();
        let rotated = lent_models.len().max(1);
        let Some(model) = (0..lent_models.len())
            .map(|k| lent_models[(usize::from(w.run.model) + k) % rotated])
            .find(|&m| runnable_on(&s, &wl, m))
            .or_else(|| running_model(&s, i, w.run.model))
        else {
            continue;
        };
        let avail: Vec<u64> =
            s.nodes.iter().enumerate().map(|(n, node)| healthy_mask(node) & lent[n] & !held[n]).collect();
        let Some(placed) = place_replicas(&s, &wl, model, wl.replicas_min, w.run.start, &avail) else { continue };
        push(&mut s, &mut held, i, &w.run, model, placed, UsageClass::Tidal);
    }
    s
}

// ---------------------------------------------------------------------------------------------
// Facts about a plan, and the checks.
// ---------------------------------------------------------------------------------------------

struct Ctx<'a> {
    s: &'a Snapshot,
    policy: &'a Policy,
    plan: &'a Plan,
    /// Replicas running in the snapshot, per workload.
    running: Vec<u32>,
    /// Binds per workload, in plan order.
    binds: Vec<Vec<&'a Bind>>,
    /// The (first) preemption of each victim.
    victim: BTreeMap<WorkloadId, &'a Preemption>,
}

impl<'a> Ctx<'a> {
    fn new(s: &'a Snapshot, policy: &'a Policy, plan: &'a Plan) -> Self {
        let mut running = vec![0; s.workloads.len()];
        for a in &s.allocations {
            running[a.workload.ix()] += 1;
        }
        let mut binds = vec![Vec::new(); s.workloads.len()];
        for b in &plan.binds {
            binds[b.workload.ix()].push(b);
        }
        let mut victim = BTreeMap::new();
        for p in &plan.preemptions {
            victim.entry(p.victim).or_insert(p);
        }
        Ctx { s, policy, plan, running, binds, victim }
    }

    fn wanted(&self, w: WorkloadId) -> u32 {
        let wl = &self.s.workloads[w.ix()];
        wl.replicas_min.max(wl.replicas_wanted)
    }
}

fn schedule_checked(s: &Snapshot, policy: &Policy) -> Result<Plan, TestCaseError> {
    prop_assert_eq!(s.check(), Ok(()), "the strategy generated an invalid snapshot");
    Ok(schedule(s, policy, Seconds(NOW)))
}

/// Property 1: no device is held twice; binds use healthy devices of the bound model on
/// schedulable nodes, devices a running allocation holds only once it is preempted for them,
/// and lent devices only as tidal work or by their lender.
fn check_devices(cx: &Ctx) -> Result<(), TestCaseError> {
    let s = cx.s;
    let mut holder: BTreeMap<(NodeId, u16), WorkloadId> = BTreeMap::new();
    for a in &s.allocations {
        for d in mask::devices_of(a.devices) {
            holder.insert((a.node, d), a.workload);
        }
    }
    let lent: BTreeMap<(NodeId, u16), WorkloadId> = s.lent.iter().map(|l| ((l.node, l.device), l.lender)).collect();
    for b in &cx.plan.binds {
        let wl = &s.workloads[b.workload.ix()];
        prop_assert!(b.node.ix() < s.nodes.len(), "{:?} binds on an unknown node", b);
        let node = &s.nodes[b.node.ix()];
        prop_assert!(node.schedulable, "{:?} binds on unschedulable node {}", b, node.name);
        prop_assert_eq!(b.devices.len() as u32, wl.devices_per_replica, "{:?} has the wrong number of devices", b);
        prop_assert!(b.devices.windows(2).all(|w| w[0] < w[1]), "{:?} names a device twice", b);
        for &d in &b.devices {
            let Some(dev) = node.devices.get(usize::from(d)) else {
                return Err(TestCaseError::fail(format!("{b:?} names device {d} {} does not have", node.name)));
            };
            prop_assert!(dev.healthy, "{:?} binds unhealthy device {} of {}", b, d, node.name);
            prop_assert_eq!(dev.model, b.model, "{:?} binds a device of another model", b);
            if let Some(&h) = holder.get(&(b.node, d)) {
                let freed_for_it = cx.victim.get(&h).is_some_and(|p| p.for_workload == b.workload);
                prop_assert!(
                    b.after_preemption && freed_for_it,
                    "{:?} takes device {} of {}, held by {:?}, which is not preempted for it",
                    b,
                    d,
                    node.name,
                    h
                );
            }
            match lent.get(&(b.node, d)) {
                Some(&l) => prop_assert!(
                    b.usage == UsageClass::Tidal || l == b.workload,
                    "{:?} binds device {} lent by {:?} without being tidal",
                    b,
                    d,
                    l
                ),
                None => prop_assert!(b.usage != UsageClass::Tidal, "{:?} is tidal on a device nobody lent", b),
            }
            holder.insert((b.node, d), b.workload);
        }
    }
    Ok(())
}

/// Binds respect the workload's accepted accelerators and its tenant's residency and isolation.
fn check_bind_rules(cx: &Ctx) -> Result<(), TestCaseError> {
    let s = cx.s;
    for b in &cx.plan.binds {
        let wl = &s.workloads[b.workload.ix()];
        prop_assert!(runnable_on(s, wl, b.model), "{:?} is on a model {} cannot run on", b, wl.name);
        prop_assert!(may_use(s, wl.tenant, b.node), "{:?} is on a node tenant {} may not use", b, wl.tenant.0);
    }
    Ok(())
}

/// Property 2: a gang starts whole or not at all, in one cluster, and a workload's binds stay on
/// one model unless it allows mixing; no workload gets more replicas than it wants.
fn check_gangs(cx: &Ctx) -> Result<(), TestCaseError> {
    let s = cx.s;
    for w in s.workload_ids() {
        let wl = &s.workloads[w.ix()];
        let (r, binds) = (cx.running[w.ix()], &cx.binds[w.ix()]);
        if binds.is_empty() {
            continue;
        }
        prop_assert!(
            r + binds.len() as u32 <= cx.wanted(w),
            "{} runs {} and gets {} binds, more than max(min {}, wanted {})",
            wl.name,
            r,
            binds.len(),
            wl.replicas_min,
            wl.replicas_wanted
        );
        if r < wl.replicas_min {
            let need = (wl.replicas_min - r) as usize;
            prop_assert!(
                binds.len() >= need,
                "{} runs {} of a gang of {} and gets only {} binds",
                wl.name,
                r,
                wl.replicas_min,
                binds.len()
            );
        }
        if !wl.allow_mixed_models {
            let model = s.allocations.iter().find(|a| a.workload == w).map_or(binds[0].model, |a| a.model);
            prop_assert!(binds.iter().all(|b| b.model == model), "{} mixes models: {:?}", wl.name, binds);
        }
    }
    Ok(())
}

/// Property 2: the replicas a gang starts with are bound in one cluster — gangs placed on
/// ordinary capacity (`tidal == false`) or on lent devices as tidal work (`tidal == true`).
fn check_gang_clusters(cx: &Ctx, tidal: bool) -> Result<(), TestCaseError> {
    let s = cx.s;
    for w in s.workload_ids() {
        let wl = &s.workloads[w.ix()];
        let (r, binds) = (cx.running[w.ix()], &cx.binds[w.ix()]);
        if r >= wl.replicas_min || binds.is_empty() || (binds[0].usage == UsageClass::Tidal) != tidal {
            continue;
        }
        let gang = &binds[..binds.len().min((wl.replicas_min - r) as usize)];
        let cluster = s.cluster_of(gang[0].node);
        prop_assert!(
            gang.iter().all(|b| s.cluster_of(b.node) == cluster),
            "the gang of {} is bound across clusters: {:?}",
            wl.name,
            gang
        );
    }
    Ok(())
}

/// Devices per (workload) held, with their model and class, for quota replay.
type Holdings = BTreeMap<WorkloadId, Vec<(ModelId, u32, UsageClass)>>;

fn used(s: &Snapshot, holdings: &Holdings, tenant: TenantId, key: QuotaKey) -> u32 {
    holdings
        .iter()
        .filter(|(w, _)| s.tenant_path(s.workloads[w.ix()].tenant).any(|t| t == tenant))
        .flat_map(|(_, h)| h)
        .filter(|(m, _, u)| *u != UsageClass::Tidal && key_counts(s, key, *m))
        .map(|(_, n, _)| n)
        .sum()
}

/// Devices siblings along the path keep for themselves under their lending limits.
fn held_back(s: &Snapshot, holdings: &Holdings, tenant: TenantId, model: ModelId) -> u32 {
    let family = s.catalogue.model(model).family;
    let mut held = 0;
    for a in s.tenant_path(tenant) {
        let parent = s.tenants[a.ix()].parent;
        for (j, sib) in s.tenants.iter().enumerate() {
            if sib.parent != parent || j == a.ix() {
                continue;
            }
            let Some(q) = sib.quota_for(model, family) else { continue };
            let Some(lend) = q.lending_limit else { continue };
            let unused = q.nominal.saturating_sub(used(s, holdings, TenantId(j as u32), q.key));
            held += unused.saturating_sub(lend);
        }
    }
    held
}

fn snapshot_holdings(s: &Snapshot) -> Holdings {
    let mut h = Holdings::new();
    for a in &s.allocations {
        h.entry(a.workload).or_default().push((a.model, a.devices.count_ones(), a.usage));
    }
    h
}

/// Property 3: replaying the plan, every guaranteed or borrowed bind is admissible under the
/// quota semantics of `quota.rs` when it is made (within nominal + borrowing limit everywhere on
/// the path; guaranteed only within nominal everywhere; borrowed only for preemptible work and
/// only from what lending limits let others lend), and tidal binds are preemptible work. Then,
/// on the final state, every quota with a borrowing limit that held before still holds.
fn check_quota(cx: &Ctx) -> Result<(), TestCaseError> {
    let s = cx.s;
    let initial = snapshot_holdings(s);
    let mut holdings = initial.clone();
    let with_victims: BTreeSet<WorkloadId> = cx.plan.preemptions.iter().map(|p| p.for_workload).collect();
    // A victim that wanted more replicas than it ran may have been bound earlier in the cycle; its
    // binds leave the plan with it, so a replay undercounts usage at the binds made meanwhile and
    // only the checks that lower usage keeps sound are made then.
    let binds_vanished = cx.plan.preemptions.iter().any(|p| cx.running[p.victim.ix()] < cx.wanted(p.victim));
    let mut freed_for: BTreeSet<WorkloadId> = BTreeSet::new();
    let lent: BTreeSet<(NodeId, u16)> = s.lent.iter().map(|l| (l.node, l.device)).collect();
    let allocated: BTreeSet<(NodeId, u16)> =
        s.allocations.iter().flat_map(|a| mask::devices_of(a.devices).into_iter().map(move |d| (a.node, d))).collect();
    // Free devices as the engine counts them for lending limits: healthy, schedulable, unlent.
    let mut free: BTreeSet<(NodeId, u16)> = BTreeSet::new();
    for (n, node) in s.nodes.iter().enumerate().filter(|(_, node)| node.schedulable) {
        for (d, _) in node.devices.iter().enumerate().filter(|(_, dev)| dev.healthy) {
            let key = (NodeId(n as u32), d as u16);
            if !lent.contains(&key) && !allocated.contains(&key) {
                free.insert(key);
            }
        }
    }
    let binds = &cx.plan.binds;
    for (i, b) in binds.iter().enumerate() {
        let w = b.workload;
        let wl = &s.workloads[w.ix()];
        if b.after_preemption && freed_for.insert(w) {
            // Victims stop before the first bind that needs their devices (possibly earlier than
            // the engine released them, which only lowers usage: these checks stay sound).
            for p in cx.plan.preemptions.iter().filter(|p| p.for_workload == w) {
                holdings.remove(&p.victim);
            }
        }
        let n = b.devices.len() as u32;
        let family = s.catalogue.model(b.model).family;
        if b.usage == UsageClass::Tidal {
            prop_assert!(wl.preemptible, "{:?}: non-preemptible {} runs tidal", b, wl.name);
        } else {
            let mut covered = false;
            let mut within = true;
            for a in s.tenant_path(wl.tenant) {
                let Some(q) = s.tenants[a.ix()].quota_for(b.model, family) else { continue };
                covered = true;
                let u = used(s, &holdings, a, q.key);
                if let Some(limit) = q.borrowing_limit {
                    prop_assert!(
                        u + n <= q.nominal + limit,
                        "{:?} takes tenant {} to {} on {:?}, beyond nominal {} + borrowing limit {}",
                        b,
                        s.tenants[a.ix()].name,
                        u + n,
                        q.key,
                        q.nominal,
                        limit
                    );
                }
                within &= u + n <= q.nominal;
            }
            if b.usage == UsageClass::Guaranteed {
                prop_assert!(covered && within, "{:?} is guaranteed but beyond nominal quota (or no quota)", b);
            } else {
                prop_assert!(wl.preemptible, "{:?}: non-preemptible {} borrows", b, wl.name);
                // Exact replay only for workloads nothing was preempted for.
                let last_of_run = binds.get(i + 1).is_none_or(|x| x.workload != w || x.usage != b.usage);
                if !with_victims.contains(&w) && !binds_vanished && last_of_run {
                    prop_assert!(!(covered && within), "{:?} is borrowed though within nominal quota", b);
                }
                if !with_victims.contains(&w) && !binds_vanished {
                    let keep = held_back(s, &holdings, wl.tenant, b.model);
                    let free_family = free
                        .iter()
                        .filter(|(node, d)| {
                            s.catalogue.model(s.nodes[node.ix()].devices[usize::from(*d)].model).family == family
                        })
                        .count() as u32;
                    prop_assert!(
                        free_family >= n + keep,
                        "{:?} borrows {} of {} free devices of its family while lending limits keep {}",
                        b,
                        n,
                        free_family,
                        keep
                    );
                }
            }
        }
        holdings.entry(w).or_default().push((b.model, n, b.usage));
        for &d in &b.devices {
            free.remove(&(b.node, d));
        }
    }

    // Final state: snapshot − victims + binds.
    for p in &cx.plan.preemptions {
        holdings.remove(&p.victim);
    }
    for (j, t) in s.tenants.iter().enumerate() {
        let tenant = TenantId(j as u32);
        for q in &t.quotas {
            // A per-model quota wins over the family one for its model, so the family quota does
            // not bound the usage of models with their own quota here.
            if let QuotaKey::Family(f) = q.key
                && t.quotas.iter().any(|x| matches!(x.key, QuotaKey::Model(m) if s.catalogue.model(m).family == f))
            {
                continue;
            }
            let Some(limit) = q.borrowing_limit else { continue };
            if used(s, &initial, tenant, q.key) > q.nominal + limit {
                continue;
            }
            let after = used(s, &holdings, tenant, q.key);
            prop_assert!(
                after <= q.nominal + limit,
                "tenant {} ends at {} on {:?}, beyond nominal {} + borrowing limit {}",
                t.name,
                after,
                q.key,
                q.nominal,
                limit
            );
        }
    }
    Ok(())
}

/// Property 6: every workload short of its gang that got nothing (and was not preempted) is
/// pending with a reason; nothing is pending twice or while it has all it wants.
fn check_pending(cx: &Ctx) -> Result<(), TestCaseError> {
    let s = cx.s;
    let mut seen = BTreeSet::new();
    for p in &cx.plan.pending {
        let wl = &s.workloads[p.workload.ix()];
        prop_assert!(seen.insert(p.workload), "{} is pending twice", wl.name);
        prop_assert!(!p.reason.trim().is_empty(), "{} is pending without a reason", wl.name);
        let has = cx.running[p.workload.ix()] + cx.binds[p.workload.ix()].len() as u32;
        prop_assert!(has < cx.wanted(p.workload), "{} is pending with {} replicas: {}", wl.name, has, p.reason);
    }
    for w in s.workload_ids() {
        let wl = &s.workloads[w.ix()];
        if cx.running[w.ix()] < wl.replicas_min && cx.binds[w.ix()].is_empty() && !cx.victim.contains_key(&w) {
            prop_assert!(seen.contains(&w), "{} got nothing and is not pending", wl.name);
        }
    }
    Ok(())
}

/// Property 7: preemptions are whole gangs, once each, for a workload that gets a bind on freed
/// devices, with the victim's grace, for a reason the policy allows.
fn check_preemptions(cx: &Ctx) -> Result<(), TestCaseError> {
    let (s, policy, plan) = (cx.s, cx.policy, cx.plan);
    if !policy.preemption {
        prop_assert!(plan.preemptions.is_empty(), "preemption is off, yet {:?}", plan.preemptions);
        prop_assert!(plan.binds.iter().all(|b| !b.after_preemption), "preemption is off, yet a bind waits for one");
    }
    let lent: BTreeMap<(NodeId, u16), WorkloadId> = s.lent.iter().map(|l| ((l.node, l.device), l.lender)).collect();
    let mut seen = BTreeSet::new();
    for p in &plan.preemptions {
        let (v, f) = (p.victim, p.for_workload);
        let (vl, fl) = (&s.workloads[v.ix()], &s.workloads[f.ix()]);
        prop_assert!(seen.insert(v), "{} is preempted twice", vl.name);
        prop_assert_ne!(v, f, "{} preempts itself", vl.name);
        prop_assert!(
            cx.running[v.ix()] > 0 || !cx.binds[v.ix()].is_empty(),
            "{} is preempted but holds nothing",
            vl.name
        );
        prop_assert!(
            cx.binds[f.ix()].iter().any(|b| b.after_preemption),
            "{} is preempted for {}, which gets no bind on freed devices",
            vl.name,
            fl.name
        );
        prop_assert_eq!(p.grace_seconds, vl.grace(), "grace of {}", &vl.name);
        // What the victim held: its allocations and any binds this cycle.
        let held: Vec<(NodeId, u64, UsageClass)> = s
            .allocations
            .iter()
            .filter(|a| a.workload == v)
            .map(|a| (a.node, a.devices, a.usage))
            .chain(cx.binds[v.ix()].iter().map(|b| (b.node, mask::mask_of(&b.devices), b.usage)))
            .collect();
        match p.why {
            VictimReason::BorrowedReclaim => {
                prop_assert!(policy.reclaim_borrowed, "borrowed reclaim is off, yet {:?}", p);
                prop_assert_ne!(vl.tenant, fl.tenant, "borrowed reclaim within one tenant: {:?}", p);
                prop_assert!(held.iter().any(|h| h.2 == UsageClass::Borrowed), "{:?}: the victim borrowed nothing", p);
            }
            VictimReason::LowerPriority => {
                prop_assert_eq!(vl.tenant, fl.tenant, "lower-priority preemption across tenants: {:?}", p);
                prop_assert!(
                    vl.priority.saturating_add(policy.min_priority_gap) <= fl.priority,
                    "{:?}: priority {} does not trail {} by {}",
                    p,
                    vl.priority,
                    fl.priority,
                    policy.min_priority_gap
                );
            }
            VictimReason::TidalReclaim => {
                prop_assert!(policy.reclaim_tidal, "tidal reclaim is off, yet {:?}", p);
                let on_its_devices = held.iter().any(|(node, devices, usage)| {
                    *usage == UsageClass::Tidal
                        && mask::devices_of(*devices).into_iter().any(|d| lent.get(&(*node, d)) == Some(&f))
                });
                prop_assert!(on_its_devices, "{:?}: the victim runs on no device its preemptor lent", p);
            }
        }
        if !vl.preemptible {
            prop_assert_eq!(p.why, VictimReason::LowerPriority, "non-preemptible {} preempted: {:?}", &vl.name, p);
        }
    }
    Ok(())
}

/// Property 7, "no victim keeps running replicas": a workload preempted this cycle gets no binds
/// in the same plan, and so no two binds of one plan name one device.
fn check_victims_not_bound(cx: &Ctx) -> Result<(), TestCaseError> {
    let mut bound = BTreeMap::new();
    for b in &cx.plan.binds {
        for &d in &b.devices {
            if let Some(other) = bound.insert((b.node, d), b) {
                return Err(TestCaseError::fail(format!("{other:?} and {b:?} bind one device in one plan")));
            }
        }
    }
    for p in &cx.plan.preemptions {
        prop_assert!(
            cx.binds[p.victim.ix()].is_empty(),
            "{} is bound ({:?}) and preempted ({:?}) in one plan",
            cx.s.workloads[p.victim.ix()].name,
            cx.binds[p.victim.ix()],
            p
        );
    }
    Ok(())
}

/// Property 8: a workload's new replica indices are distinct and fill the lowest free indices.
fn check_replicas(cx: &Ctx) -> Result<(), TestCaseError> {
    let s = cx.s;
    for w in s.workload_ids() {
        let running: BTreeSet<u32> = s.allocations.iter().filter(|a| a.workload == w).map(|a| a.replica).collect();
        // New replicas take the lowest indices not in use, in order (a lost gang member gets its
        // rank back).
        let mut unused = (0..).filter(|r| !running.contains(r));
        let mut seen = running.clone();
        for b in &cx.binds[w.ix()] {
            prop_assert!(seen.insert(b.replica), "{:?} reuses replica index {}", b, b.replica);
            prop_assert_eq!(
                Some(b.replica),
                unused.next(),
                "{:?} is not the lowest free index after {:?}",
                b,
                &running
            );
        }
    }
    Ok(())
}

/// Selections: one per started workload, on the model it was bound to, alternatives by model with
/// exactly the chosen one not rejected.
fn check_selections(cx: &Ctx) -> Result<(), TestCaseError> {
    let s = cx.s;
    let mut seen = BTreeSet::new();
    for sel in &cx.plan.selections {
        let name = &s.workloads[sel.workload.ix()].name;
        prop_assert!(seen.insert(sel.workload), "{} has two selections", name);
        prop_assert!(
            cx.binds[sel.workload.ix()].iter().any(|b| b.model == sel.model),
            "{} selected a model it is not bound to",
            name
        );
        prop_assert!(!sel.reason.is_empty(), "selection for {} has no reason", name);
        prop_assert!(
            sel.alternatives.windows(2).all(|a| a[0].model < a[1].model),
            "alternatives of {}: {:?}",
            name,
            sel.alternatives
        );
        let chosen: Vec<&Alternative> = sel.alternatives.iter().filter(|a| a.rejected.is_none()).collect();
        prop_assert!(
            chosen.len() == 1 && chosen[0].model == sel.model,
            "alternatives of {}: {:?}",
            name,
            sel.alternatives
        );
    }
    for w in s.workload_ids() {
        if cx.running[w.ix()] < s.workloads[w.ix()].replicas_min && !cx.binds[w.ix()].is_empty() {
            prop_assert!(seen.contains(&w), "{} started without a selection", s.workloads[w.ix()].name);
        }
    }
    Ok(())
}

fn check_all(s: &Snapshot, policy: &Policy, plan: &Plan) -> Result<(), TestCaseError> {
    let cx = Ctx::new(s, policy, plan);
    check_devices(&cx)?;
    check_bind_rules(&cx)?;
    check_gangs(&cx)?;
    check_gang_clusters(&cx, false)?;
    check_gang_clusters(&cx, true)?;
    check_quota(&cx)?;
    check_pending(&cx)?;
    check_preemptions(&cx)?;
    check_victims_not_bound(&cx)?;
    check_replicas(&cx)?;
    check_selections(&cx)
}

proptest! {
    #![proptest_config(config())]

    /// Property 1.
    #[test]
    fn no_device_is_held_twice((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        let cx = Ctx::new(&s, &policy, &plan);
        check_devices(&cx)?;
        check_bind_rules(&cx)?;
    }

    /// Property 2.
    #[test]
    fn gangs_start_whole_or_not_at_all_on_one_model((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        check_gangs(&Ctx::new(&s, &policy, &plan))?;
    }

    /// Property 2, on ordinary capacity and on lent devices.
    #[test]
    fn gangs_start_in_one_cluster((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        let cx = Ctx::new(&s, &policy, &plan);
        check_gang_clusters(&cx, false)?;
        check_gang_clusters(&cx, true)?;
    }

    /// Property 3.
    #[test]
    fn quotas_and_lending_limits_hold((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        check_quota(&Ctx::new(&s, &policy, &plan))?;
    }

    /// Property 5.
    #[test]
    fn the_same_input_gives_the_same_plan((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        prop_assert_eq!(&plan, &schedule(&s, &policy, Seconds(NOW)));
        let copy = s.clone();
        prop_assert_eq!(&plan, &schedule(&copy, &policy.clone(), Seconds(NOW)));
        // A cache made before any work existed serves a later snapshot of the fleet.
        let fleet_only = Snapshot { workloads: Vec::new(), allocations: Vec::new(), lent: Vec::new(), ..s.clone() };
        prop_assert_eq!(&plan, &schedule_on(&s, &mut CycleCache::new(&fleet_only), &policy, Seconds(NOW)));
    }

    /// The order the snapshot lists allocations in, a workload's own included, changes no
    /// decision: the controller reads them in whatever order the API server lists pods.
    #[test]
    fn the_order_of_allocations_changes_no_decision((Cloud(s), policy) in inputs(), seed in any::<u64>()) {
        let plan = schedule_checked(&s, &policy)?;
        let mut shuffled = s.clone();
        // Every allocation in a seeded order, a workload's own among them too (the simulator moves
        // one workload's allocations around as others stop).
        let key = |w: WorkloadId, r: u32| ((u64::from(w.0) << 32 | u64::from(r)) ^ seed).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        shuffled.allocations.sort_by_key(|a| key(a.workload, a.replica));
        prop_assert_eq!(&plan, &schedule(&shuffled, &policy, Seconds(NOW)));
    }

    /// A plan that does not explain itself decides the same: it only leaves out the selections
    /// and the pending reasons.
    #[test]
    fn explanations_change_no_decision((Cloud(s), policy) in inputs()) {
        let mut plan = schedule_checked(&s, &policy)?;
        let quiet = schedule(&s, &Policy { explain: false, ..policy }, Seconds(NOW));
        prop_assert!(quiet.selections.is_empty());
        prop_assert!(quiet.pending.iter().all(|p| p.reason.is_empty()));
        plan.selections.clear();
        for p in &mut plan.pending {
            p.reason.clear();
        }
        prop_assert_eq!(plan, quiet);
    }

    /// A cycle cache kept over cycles in which work starts, is preempted, finishes and changes
    /// priority, expected work and demand, and a lent device is taken back, plans every cycle as a fresh
    /// schedule does, whether it finds what changed itself or is told (and when, once told, it is
    /// not).
    #[test]
    fn a_kept_cycle_cache_plans_as_a_fresh_schedule(
        (Cloud(s), policy) in inputs(),
        edits in prop::collection::vec((any::<u8>(), any::<u8>(), -300i32..300), 4),
    ) {
        let mut s = s;
        let (mut cache, mut told) = (CycleCache::new(&s), CycleCache::new(&s));
        let mut changed: Vec<WorkloadId> = Vec::new();
        for (cycle, &(finish, change, priority)) in edits.iter().enumerate() {
            let now = Seconds(NOW + 600 * cycle as i64);
            let plan = schedule(&s, &policy, now);
            prop_assert_eq!(&plan, &schedule_on(&s, &mut cache, &policy, now), "cycle {}", cycle);
            // Told every cycle but the first (nothing kept yet) and the third (it compares).
            match cycle {
                0 => {}
                2 => changed.clear(),
                _ => told.changed(changed.drain(..)),
            }
            prop_assert_eq!(&plan, &schedule_on(&s, &mut told, &policy, now), "cycle {}, told", cycle);
            // The plan happens: its victims stop and its binds run.
            let victims: BTreeSet<WorkloadId> = plan.preemptions.iter().map(|p| p.victim).collect();
            changed.extend(&victims);
            changed.extend(plan.binds.iter().map(|b| b.workload));
            s.allocations.retain(|a| !victims.contains(&a.workload));
            s.allocations.extend(plan.binds.iter().map(|b| Allocation {
                workload: b.workload,
                replica: b.replica,
                node: b.node,
                devices: mask::mask_of(&b.devices),
                model: b.model,
                usage: b.usage,
                started: now,
                last_checkpoint: None,
            }));
            // One running workload finishes; another is given a new priority and expected work.
            let running: Vec<WorkloadId> = s.allocations.iter().map(|a| a.workload).collect::<BTreeSet<_>>().into_iter().collect();
            if let (Some(&done), Some(&other)) = (running.get(usize::from(finish) % running.len().max(1)), running.get(usize::from(change) % running.len().max(1))) {
                s.allocations.retain(|a| a.workload != done);
                let w = &mut s.workloads[done.ix()];
                (w.replicas_min, w.replicas_wanted) = (0, 0);
                changed.extend([done, other]);
                if other != done {
                    let w = &mut s.workloads[other.ix()];
                    w.priority = priority;
                    w.expected_work = w.expected_work.map(|work| work / 2.0);
                    if w.kind == WorkloadKind::Inference {
                        w.replicas_wanted = w.replicas_wanted.max(w.replicas_min) + 1; // its demand rose
                    }
                }
            }
            // A service takes back the last device it lent.
            if cycle == 1 {
                s.lent.pop();
            }
            prop_assert_eq!(s.check(), Ok(()));
        }
    }

    /// Withdrawn workloads, wherever they sit, change no decision: the plan is the same once ids
    /// are mapped back, and none of them is named in it.
    #[test]
    fn withdrawn_workloads_change_no_decision(
        (Cloud(s), policy) in inputs(),
        at in prop::collection::vec((any::<u8>(), any::<u8>()), 1..=6),
    ) {
        let plan = schedule_checked(&s, &policy)?;
        let (with, old_to_new) = with_withdrawn(&s, &at);
        with.check().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let new_to_old: BTreeMap<WorkloadId, WorkloadId> = old_to_new.iter().enumerate().map(|(old, &new)| (new, WorkloadId(old as u32))).collect();
        let back = |w: WorkloadId| new_to_old.get(&w).copied().ok_or_else(|| TestCaseError::fail(format!("withdrawn {w:?} named in the plan")));
        let mut mapped = schedule(&with, &policy, Seconds(NOW));
        for b in &mut mapped.binds { b.workload = back(b.workload)?; }
        for p in &mut mapped.preemptions { (p.victim, p.for_workload) = (back(p.victim)?, back(p.for_workload)?); }
        for x in &mut mapped.selections { x.workload = back(x.workload)?; }
        for p in &mut mapped.pending { p.workload = back(p.workload)?; }
        prop_assert_eq!(&plan, &mapped);
    }

    /// Property 6.
    #[test]
    fn every_workload_left_waiting_is_pending_once_with_a_reason((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        check_pending(&Ctx::new(&s, &policy, &plan))?;
    }

    /// Property 7.
    #[test]
    fn preemptions_are_whole_gangs_for_an_allowed_reason((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        let cx = Ctx::new(&s, &policy, &plan);
        check_preemptions(&cx)?;
        check_victims_not_bound(&cx)?;
    }

    /// Property 8, and selections agree with binds.
    #[test]
    fn replica_indices_continue_and_selections_match((Cloud(s), policy) in inputs()) {
        let plan = schedule_checked(&s, &policy)?;
        let cx = Ctx::new(&s, &policy, &plan);
        check_replicas(&cx)?;
        check_selections(&cx)?;
    }

}

/// `s` with withdrawn copies of its workloads inserted (position and original chosen by `at`),
/// and where each of `s`'s workloads went.
fn with_withdrawn(s: &Snapshot, at: &[(u8, u8)]) -> (Snapshot, Vec<WorkloadId>) {
    let mut order: Vec<Option<usize>> = (0..s.workloads.len()).map(Some).collect();
    // Copies of the snapshot's own workloads: with none, nothing is inserted.
    for &(pos, _) in at.iter().filter(|_| !s.workloads.is_empty()) {
        order.insert(ix(pos, order.len() + 1), None);
    }
    let mut copies = at.iter().map(|&(_, of)| of);
    let mut old_to_new = vec![WorkloadId(0); s.workloads.len()];
    let mut workloads = Vec::with_capacity(order.len());
    for (new, slot) in order.into_iter().enumerate() {
        match slot {
            Some(old) => {
                old_to_new[old] = WorkloadId(new as u32);
                workloads.push(s.workloads[old].clone());
            }
            None => {
                let of = copies.next().unwrap_or(0);
                let mut w = s.workloads[ix(of, s.workloads.len())].clone();
                (w.name, w.replicas_min, w.replicas_wanted) = (format!("withdrawn-{new}"), 0, 0);
                workloads.push(w);
            }
        }
    }
    let mut with = Snapshot { workloads, ..s.clone() };
    for a in &mut with.allocations {
        a.workload = old_to_new[a.workload.ix()];
    }
    for l in &mut with.lent {
        l.lender = old_to_new[l.lender.ix()];
    }
    (with, old_to_new)
}

// ---------------------------------------------------------------------------------------------
// Property 4: a tenant within its nominal quota is not denied because others borrowed.
// One cluster, one model; tenants A and B (optionally under a root R whose nominal covers both);
// B's running work fills the devices, guaranteed up to B's nominal and borrowed beyond; A asks for
// one non-preemptible replica within its nominal quota.
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct RawReclaim {
    nodes: Vec<(bool, u8)>,
    two_groups: bool,
    parent_slack: Option<u32>,
    family_keys: bool,
    a_extra: u32,
    a_lending: Option<u32>,
    b_nominal: u32,
    a_running: Vec<(u32, u32, i32)>,
    b_work: Vec<(u32, u32, i32, Option<i64>, i64, bool)>,
    w_devices: u32,
    w_priority: i32,
    w_inference: bool,
}

fn raw_reclaim() -> impl Strategy<Value = RawReclaim> {
    let devices = || prop::sample::select(vec![1u32, 2, 4, 8]);
    let nodes =
        prop::collection::vec((any::<bool>(), prop_oneof![4 => Just(0u8), 1 => (0u8..8).prop_map(|b| 1 << b)]), 1..=6);
    let a_running = prop::collection::vec((1u32..=2, devices(), -2i32..=2), 0..=3);
    let b_work = prop::collection::vec(
        (1u32..=3, devices(), -2i32..=2, prop::option::weighted(0.5, 0i64..600), 0i64..100_000, any::<bool>()),
        1..=12,
    );
    (
        (nodes, any::<bool>(), prop::option::of(0u32..4), any::<bool>()),
        (0u32..4, prop::option::of(0u32..8), 0u32..=16),
        (a_running, b_work),
        (devices(), -2i32..=2, any::<bool>()),
    )
        .prop_map(
            |(
                (nodes, two_groups, parent_slack, family_keys),
                (a_extra, a_lending, b_nominal),
                (a_running, b_work),
                (w_devices, w_priority, w_inference),
            )| RawReclaim {
                nodes,
                two_groups,
                parent_slack,
                family_keys,
                a_extra,
                a_lending,
                b_nominal,
                a_running,
                b_work,
                w_devices,
                w_priority,
                w_inference,
            },
        )
}

/// The reclaim scenario's snapshot and its requester.
fn build_reclaim(raw: &RawReclaim) -> (Snapshot, WorkloadId) {
    let mut b = Builder::new();
    let cluster = b.cluster("c0");
    let groups = [b.group(cluster), b.group(cluster)];
    let m = support::A100;
    for (i, &(eight, unhealthy)) in raw.nodes.iter().enumerate() {
        let g = if raw.two_groups { groups[i % 2] } else { groups[0] };
        let n = b.node(g, m, if eight { 8 } else { 4 });
        for (d, dev) in b.s.nodes[n.ix()].devices.iter_mut().enumerate() {
            dev.healthy = unhealthy & (1 << d) == 0;
        }
    }
    let root = raw.parent_slack.map(|_| b.tenant("r", None, &[]));
    let ta = b.tenant("a", root, &[]);
    let tb = b.tenant("b", root, &[]);
    let mut avail: Vec<u64> = b.s.nodes.iter().map(healthy_mask).collect();
    let mut first_fit = |b: &mut Builder, w: WorkloadId, usage: UsageClass, age: i64| -> bool {
        let wl = b.s.workloads[w.ix()].clone();
        let Some(placed) = place_replicas(&b.s, &wl, m, wl.replicas_min, 0, &avail) else { return false };
        for (node, mask) in placed {
            avail[node.ix()] &= !mask;
            b.running(w, node, &mask::devices_of(mask), usage, NOW - age);
        }
        true
    };

    // A's running work: non-preemptible, guaranteed.
    let mut used_a = 0;
    for (i, &(replicas, devices, priority)) in raw.a_running.iter().enumerate() {
        let w = b.job(&format!("a/run{i}"), ta, &[m], replicas, devices);
        b.workload(w).priority = priority;
        if first_fit(&mut b, w, UsageClass::Guaranteed, 3600) {
            used_a += replicas * devices;
        } else {
            b.s.workloads.pop();
        }
    }
    let a_nominal = used_a + raw.w_devices + raw.a_extra;
    let b_nominal = raw.b_nominal;
    let key = if raw.family_keys { QuotaKey::Family(FamilyId(0)) } else { QuotaKey::Model(m) };
    let quota = |nominal: u32, lending: Option<u32>| Quota {
        key,
        nominal,
        borrowing_limit: None,
        lending_limit: lending.map(|l| l.min(nominal)),
    };
    b.s.tenants[ta.ix()].quotas = vec![quota(a_nominal, raw.a_lending)];
    b.s.tenants[tb.ix()].quotas = vec![quota(b_nominal, None)];
    if let (Some(r), Some(slack)) = (root, raw.parent_slack) {
        b.s.tenants[r.ix()].quotas = vec![quota(a_nominal + b_nominal + slack, None)];
    }

    // B's running work: guaranteed up to B's nominal, borrowed (and preemptible) beyond.
    let mut used_b = 0;
    for (i, &(replicas, devices, priority, grace, age, preemptible)) in raw.b_work.iter().enumerate() {
        let n = replicas * devices;
        let guaranteed = used_b + n <= b_nominal;
        let w = b.job(&format!("b/run{i}"), tb, &[m], replicas, devices);
        {
            let wl = b.workload(w);
            wl.priority = priority;
            wl.preemptible = preemptible || !guaranteed;
            wl.checkpoint = grace.map(|grace| Checkpoint { interval: 1800, grace });
        }
        let usage = if guaranteed { UsageClass::Guaranteed } else { UsageClass::Borrowed };
        if first_fit(&mut b, w, usage, age) {
            used_b += n;
        } else {
            b.s.workloads.pop();
        }
    }

    let w = b.job("a/want", ta, &[m], 1, raw.w_devices);
    let wl = b.workload(w);
    wl.priority = raw.w_priority;
    wl.preemptible = false;
    if raw.w_inference {
        wl.kind = WorkloadKind::Inference;
        wl.class = WorkloadClass::LlmInference;
    }
    if raw.family_keys {
        wl.accepts[0].target = Target::Family(FamilyId(0));
    }
    (b.s, w)
}

proptest! {
    #![proptest_config(config())]

    /// Property 4.
    #[test]
    fn a_tenant_within_nominal_gets_back_what_others_borrowed(raw in raw_reclaim(), policy in policies()) {
        let (s, w) = build_reclaim(&raw);
        let policy = Policy { preemption: true, reclaim_borrowed: true, ..policy };
        let plan = schedule_checked(&s, &policy)?;
        check_all(&s, &policy, &plan)?;

        let d = s.workloads[w.ix()].devices_per_replica;
        let tb = TenantId(s.tenants.len() as u32 - 1);
        let borrowed_on = |n: NodeId| -> u32 {
            s.allocations
                .iter()
                .filter(|a| a.node == n && a.usage == UsageClass::Borrowed && s.workloads[a.workload.ix()].tenant == tb)
                .map(|a| a.devices.count_ones())
                .sum()
        };
        let held: Vec<u64> = {
            let mut h = vec![0u64; s.nodes.len()];
            for a in &s.allocations {
                h[a.node.ix()] |= a.devices;
            }
            h
        };
        let fits = (0..s.nodes.len()).any(|n| {
            let free = (healthy_mask(&s.nodes[n]) & !held[n]).count_ones();
            free + borrowed_on(NodeId(n as u32)) >= d
        });
        if fits {
            prop_assert_eq!(
                plan.binds.iter().filter(|b| b.workload == w).count(),
                1,
                "A wants {} devices within its nominal quota and B's borrowed work would make room; plan: {:?}",
                d,
                plan
            );
        }
        for p in &plan.preemptions {
            let vl = &s.workloads[p.victim.ix()];
            let borrowed = s.allocations.iter().any(|a| a.workload == p.victim && a.usage == UsageClass::Borrowed);
            prop_assert!(vl.tenant != tb || borrowed, "B's guaranteed {} was preempted: {:?}", &vl.name, p);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Focused shapes the random strategy rarely produces.
// ---------------------------------------------------------------------------------------------

#[test]
fn an_empty_snapshot_gives_an_empty_plan() {
    let s = Snapshot::default();
    s.check().expect("an empty snapshot holds together");
    assert_eq!(schedule(&s, &Policy::default(), Seconds(NOW)), Plan::default());
}

#[test]
fn a_workload_accepting_nothing_waits_naming_the_catalogue() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    b.nodes(g, support::A100, 2, 8);
    let t = b.tenant("t", None, &[(support::A100, 16, None, None)]);
    let w = b.job("t/nothing", t, &[], 1, 1);
    let plan = b.schedule(&Policy::default(), NOW);
    assert!(plan.binds.is_empty(), "{plan:?}");
    let reason = pending_reason(&plan, w).expect("pending");
    assert!(reason.contains("catalogue"), "{reason}");
    check_all(&b.s, &Policy::default(), &plan).expect("invariants");
}

#[test]
fn when_every_device_is_unhealthy_work_waits() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    b.nodes(g, support::A100, 3, 8);
    for node in &mut b.s.nodes {
        for d in &mut node.devices {
            d.healthy = false;
        }
    }
    let t = b.tenant("t", None, &[(support::A100, 16, None, None)]);
    let jobs = [b.job("t/one", t, &[support::A100], 1, 1), b.job("t/gang", t, &[support::A100], 2, 8)];
    for policy in [Policy::default(), Policy { preemption: false, backfill: false, ..Policy::default() }] {
        let plan = b.schedule(&policy, NOW);
        assert!(plan.binds.is_empty() && plan.preemptions.is_empty(), "{plan:?}");
        for w in jobs {
            let reason = pending_reason(&plan, w).expect("pending");
            assert!(reason.contains("waiting for capacity"), "{reason}");
        }
        check_all(&b.s, &policy, &plan).expect("invariants");
    }
}

#[test]
fn when_every_node_is_cordoned_work_waits_naming_the_pool() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    b.nodes(g, support::ASCEND, 2, 8);
    for node in &mut b.s.nodes {
        node.schedulable = false;
    }
    let t = b.tenant("t", None, &[(support::ASCEND, 16, None, None)]);
    let w = b.job("t/job", t, &[support::ASCEND], 1, 4);
    let plan = b.schedule(&Policy::default(), NOW);
    assert!(plan.binds.is_empty(), "{plan:?}");
    let reason = pending_reason(&plan, w).expect("pending");
    assert!(reason.contains("ascend-910b") && reason.contains("no cluster or node pool"), "{reason}");
    check_all(&b.s, &Policy::default(), &plan).expect("invariants");
}

#[test]
fn a_model_without_a_throughput_figure_is_not_used() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    b.nodes(g, support::MLU, 2, 8);
    b.s.catalogue.models[support::MLU.ix()].throughput[WorkloadClass::CvTraining as usize] = None;
    let t = b.tenant("t", None, &[(support::MLU, 16, None, None)]);
    let w = b.job("t/cv", t, &[support::MLU], 1, 2);
    b.workload(w).class = WorkloadClass::CvTraining;
    let plan = b.schedule(&Policy::default(), NOW);
    assert!(plan.binds.is_empty(), "{plan:?}");
    let reason = pending_reason(&plan, w).expect("pending");
    assert!(reason.contains("no throughput figure"), "{reason}");
    check_all(&b.s, &Policy::default(), &plan).expect("invariants");
}

#[test]
fn a_fully_running_gang_is_left_alone() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    let nodes = b.nodes(g, support::A100, 2, 8);
    let t = b.tenant("t", None, &[(support::A100, 16, None, None)]);
    let w = b.job("t/job", t, &[support::A100], 2, 8);
    for &n in &nodes {
        b.running(w, n, &[0, 1, 2, 3, 4, 5, 6, 7], UsageClass::Guaranteed, NOW - 60);
    }
    let plan = b.schedule(&Policy::default(), NOW);
    assert_eq!(plan, Plan::default());
}

// ---------------------------------------------------------------------------------------------
// Regressions: minimal counter-examples the properties found, kept as plain tests.
// ---------------------------------------------------------------------------------------------

/// Found by `tidal_gangs_start_in_one_cluster`. A preemptible gang of 2 × 1 device whose tenant
/// has no quota (so it would borrow) goes tidal first; `tidal::place_on_lent` takes lent devices
/// from every partition the candidate may use, across clusters, so the gang is split over
/// cluster c0 and cluster c1. Expected: one cluster (here: none has room, so it waits).
#[test]

fn a_tidal_gang_stays_in_one_cluster() {
    let mut b = Builder::new();
    let (c0, c1) = (b.cluster("c0"), b.cluster("c1"));
    let (g0, g1) = (b.group(c0), b.group(c1));
    let n0 = b.node(g0, support::A100, 2);
    let n1 = b.node(g1, support::A100, 2);
    let serving = b.tenant("serving", None, &[(support::A100, 2, None, None)]);
    let research = b.tenant("research", None, &[]);
    let svc = b.job("serving/svc", serving, &[support::A100], 2, 1);
    b.workload(svc).kind = WorkloadKind::Inference;
    b.running(svc, n0, &[0], UsageClass::Guaranteed, NOW - 60);
    b.running(svc, n1, &[0], UsageClass::Guaranteed, NOW - 60);
    b.s.lent.push(Lent { node: n0, device: 1, lender: svc });
    b.s.lent.push(Lent { node: n1, device: 1, lender: svc });
    let gang = b.job("research/gang", research, &[support::A100], 2, 1);
    b.workload(gang).preemptible = true;

    let plan = b.schedule(&Policy::default(), NOW);
    let clusters: BTreeSet<ClusterId> = plan.binds.iter().map(|x| b.s.cluster_of(x.node)).collect();
    assert!(clusters.len() <= 1, "one gang bound in clusters {clusters:?}: {:?}", plan.binds);
}

/// Found by `a_preempted_workload_gets_no_binds`. Tenant b's preemptible inference service
/// (1 replica borrowed on n0 device 0, wants 2) comes first in fair-share order, since tenant a
/// holds every Ascend device, and scales up onto n0's last free device 1 (borrowed). Then a's
/// non-preemptible 1 × 2 job, within a's nominal quota, reclaims: it preempts the service and
/// binds n0 devices 0 and 1 after preemption. The plan binds b/svc replica 1 on n0 device 1 and
/// also stops b/svc, and binds n0 device 1 twice. Expected: a workload preempted in a cycle gets
/// no binds in it (the scale-up is dropped, or not chosen as a victim).
#[test]

fn a_workload_preempted_later_in_a_cycle_loses_its_binds_of_that_cycle() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    let n0 = b.node(g, support::A100, 2);
    let n1 = b.node(g, support::ASCEND, 4);
    let ta = b.tenant("a", None, &[(support::A100, 8, None, None), (support::ASCEND, 4, None, None)]);
    let tb = b.tenant("b", None, &[]);
    let ascend = b.job("a/ascend", ta, &[support::ASCEND], 1, 4);
    b.running(ascend, n1, &[0, 1, 2, 3], UsageClass::Guaranteed, NOW - 60);
    let svc = b.job("b/svc", tb, &[support::A100], 1, 1);
    {
        let wl = b.workload(svc);
        wl.kind = WorkloadKind::Inference;
        wl.preemptible = true;
        wl.replicas_wanted = 2;
    }
    b.running(svc, n0, &[0], UsageClass::Borrowed, NOW - 60);
    let job = b.job("a/job", ta, &[support::A100], 1, 2);

    let plan = b.schedule(&Policy::default(), NOW);
    assert_eq!(support::binds_of(&plan, job).len(), 1, "{plan:?}");
    assert!(
        plan.preemptions.iter().all(|p| support::binds_of(&plan, p.victim).is_empty()),
        "a victim is also bound: {:?} / {:?}",
        plan.binds,
        plan.preemptions
    );
}

/// Found by `binds_land_on_schedulable_nodes_only`. An inference service lent device 1 of node
/// n0, tidal work runs there, and n0 is then cordoned. The service's demand returns (it wants 2
/// replicas, runs 1): `tidal::reclaim_one` preempts the tidal work and binds the service's new
/// replica on n0 device 1 — `lent_nodes` is not filtered by partition, and `Capacity::give`
/// puts the released lent device back in `lent_free` even on an unschedulable node. Expected: no
/// bind on a cordoned node (and so no preemption for it).
#[test]

fn a_lender_never_reclaims_onto_a_cordoned_node() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    let n0 = b.node(g, support::A100, 2);
    let n1 = b.node(g, support::A100, 1);
    let serving = b.tenant("serving", None, &[(support::A100, 4, None, None)]);
    let research = b.tenant("research", None, &[]);
    let svc = b.job("serving/svc", serving, &[support::A100], 1, 1);
    {
        let wl = b.workload(svc);
        wl.kind = WorkloadKind::Inference;
        wl.replicas_wanted = 2;
    }
    b.running(svc, n0, &[0], UsageClass::Guaranteed, NOW - 60);
    b.s.lent.push(Lent { node: n0, device: 1, lender: svc });
    let tidal = b.job("research/tidal", research, &[support::A100], 1, 1);
    b.workload(tidal).preemptible = true;
    b.running(tidal, n0, &[1], UsageClass::Tidal, NOW - 60);
    // A schedulable node of the model (full) keeps the model a candidate.
    let other = b.job("serving/other", serving, &[support::A100], 1, 1);
    b.running(other, n1, &[0], UsageClass::Guaranteed, NOW - 60);
    b.s.nodes[n0.ix()].schedulable = false;

    let plan = b.schedule(&Policy::default(), NOW);
    assert!(
        plan.binds.iter().all(|x| b.s.nodes[x.node.ix()].schedulable),
        "bound on a cordoned node: {:?}",
        plan.binds
    );
    assert!(plan.preemptions.is_empty(), "{:?}", plan.preemptions);
}

/// Found by `replica_indices_continue_after_every_running_one`. An inference service wants 3
/// replicas and runs replicas 0 and 2 (replica 1 was lost). The engine numbers new replicas from
/// the number running (`Cycle::commit`: `replica = held.len()`), so it binds replica 2 again.
/// Expected: an index no running replica has (3, or the missing 1).
#[test]

fn a_new_replica_takes_the_lowest_free_index() {
    let mut b = Builder::new();
    let c = b.cluster("c0");
    let g = b.group(c);
    let n0 = b.node(g, support::A100, 8);
    let t = b.tenant("t", None, &[(support::A100, 8, None, None)]);
    let svc = b.job("t/svc", t, &[support::A100], 1, 1);
    {
        let wl = b.workload(svc);
        wl.kind = WorkloadKind::Inference;
        wl.replicas_wanted = 3;
    }
    b.running(svc, n0, &[0], UsageClass::Guaranteed, NOW - 60);
    b.running(svc, n0, &[2], UsageClass::Guaranteed, NOW - 60);
    b.s.allocations[1].replica = 2;

    let plan = b.schedule(&Policy::default(), NOW);
    let binds = support::binds_of(&plan, svc);
    assert_eq!(binds.len(), 1, "{plan:?}");
    assert_eq!(binds[0].replica, 1, "{:?} must fill the gap between running replicas 0 and 2", binds[0]);
}

// ---------------------------------------------------------------------------------------------
// Property 9: a gang that needs whole nodes finds them among many small victims, however they are
// spread. One cluster of 8 to 24 A100 nodes of 8 devices, one tenant; each device free, or held
// by a one-device job at priority 0 (a possible victim) or at priority 1000 (not one), started at
// a random time; a gang of one or two 8-device replicas at priority 500.
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(config())]

    /// Property 9.
    #[test]
    fn a_gang_needing_whole_nodes_finds_them_among_many_small_victims(
        fleet in prop::collection::vec(prop::collection::vec((0u8..10, 0i64..10_000), 8), 8..=24),
        replicas in 1u32..=2,
    ) {
        let mut b = Builder::new();
        let c = b.cluster("sh");
        let g = b.group(c);
        let nodes = b.nodes(g, support::A100, fleet.len(), 8);
        let t = b.tenant("bank", None, &[(support::A100, 8 * fleet.len() as u32, None, None)]);
        // Per device: 0–1 free, 2–8 a possible victim, 9 a job at priority 1000.
        let mut low: BTreeMap<WorkloadId, NodeId> = BTreeMap::new();
        for (k, devices) in fleet.iter().enumerate() {
            for (d, &(kind, started)) in devices.iter().enumerate() {
                if kind < 2 {
                    continue;
                }
                let w = b.job(&format!("bank/job-{k}-{d}"), t, &[support::A100], 1, 1);
                b.running(w, nodes[k], &[d as u16], UsageClass::Guaranteed, started);
                if kind == 9 {
                    b.workload(w).priority = 1000;
                } else {
                    low.insert(w, nodes[k]);
                }
            }
        }
        let gang = b.job("bank/gang", t, &[support::A100], replicas, 8);
        b.workload(gang).priority = 500;
        let plan = b.schedule(&Policy::default(), 20_000);

        let clearable = fleet.iter().filter(|devices| devices.iter().all(|&(kind, _)| kind != 9)).count();
        let bound: BTreeSet<NodeId> = plan.binds.iter().filter(|x| x.workload == gang).map(|x| x.node).collect();
        let victims: BTreeSet<WorkloadId> = plan.preemptions.iter().map(|p| p.victim).collect();
        if clearable >= replicas as usize {
            prop_assert_eq!(bound.len(), replicas as usize, "{} nodes could be cleared", clearable);
            let needed: BTreeSet<WorkloadId> = low.iter().filter(|(_, n)| bound.contains(n)).map(|(w, _)| *w).collect();
            prop_assert_eq!(victims, needed, "the victims are exactly the jobs on the nodes it took");
        } else {
            prop_assert!(bound.is_empty() && victims.is_empty(), "no node can be cleared: {:?}", plan.preemptions);
        }
    }
}
