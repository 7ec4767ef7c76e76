//! The applier: carries out one plan. Victims are evicted with their grace period; stopped pods
//! that are replaced, and the running pods of training jobs that ended, are deleted (see
//! [`crate::completion`]); each bind becomes a replica pod created and bound (binds that wait on
//! victims are left to a later pass, once the victims have stopped); every workload and tenant
//! whose status would change gets it written by server-side apply under the field manager
//! `tidepool-controller`. Every step is idempotent, so a pass interrupted anywhere is finished by
//! the next. It does not decide anything.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::ResourceExt;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use tidepool_crds::common::Placement;
use tidepool_crds::tenant::TenantStatus;
use tidepool_crds::workload::{Alternative, Selection};
use tidepool_crds::{InferenceService, Tenant, TrainingJob};
use tidepool_engine::mask::devices_of;
use tidepool_engine::{ModelId, Plan, UsageClass, WorkloadId};

use crate::bind::{self, Bound};
use crate::context::Context;
use crate::error::Error;
use crate::expectations::Expectations;
use crate::labels;
use crate::pods::{Placed, replica_pod};
use crate::snapshot::{Assembled, Object};
use crate::status::{self, Outcome};
use crate::tenant_status::{self, Holding};

/// What one application did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Pods created (and bound).
    pub created: usize,
    /// Pods bound (created now or found unbound).
    pub bound: usize,
    /// Pods evicted.
    pub evicted: usize,
    /// Pods deleted: stopped ones to be replaced, inference replicas beyond demand, and the
    /// running pods of training jobs that ended.
    pub removed: usize,
    /// Workloads preempted now (their first pod evicted this pass).
    pub preempted: usize,
    /// Replicas newly bound (not found bound), by accelerator model.
    pub placed: BTreeMap<String, u64>,
    /// Statuses written.
    pub statuses: usize,
    /// Calls that failed; the next pass retries them.
    pub errors: Vec<Error>,
    /// What the watch layer should show before the next pass is planned.
    pub expectations: Expectations,
}

fn usage(u: UsageClass) -> &'static str {
    match u {
        UsageClass::Guaranteed => "Guaranteed",
        UsageClass::Borrowed => "Borrowed",
        UsageClass::Tidal => "Tidal",
    }
}

/// A replica held after this pass: node index, devices, model, usage.
type Held = (usize, Vec<u16>, usize, UsageClass);

/// Applies `plan`, made from `a`, at `now`.
pub async fn apply(ctx: &Context, a: &Assembled, plan: &Plan, now: &Time) -> Applied {
    let mut out = Applied::default();
    let victims: BTreeMap<WorkloadId, (String, String)> = plan
        .preemptions
        .iter()
        .map(|p| {
            let why = format!("preempted with {}s notice: {}", p.grace_seconds, p.why);
            (p.victim, (why, a.workload(p.for_workload).object.reference()))
        })
        .collect();

    // 1. Evictions, whole gangs, with grace.
    // Pods already terminating were evicted by an earlier pass: not again, and not counted again.
    let evictions: Vec<(WorkloadId, String, String, i64)> = plan
        .preemptions
        .iter()
        .flat_map(|p| {
            let w = a.workload(p.victim);
            w.pods
                .iter()
                .filter(|pod| !pod.terminating)
                .map(move |pod| (p.victim, w.object.namespace(), pod.name.clone(), p.grace_seconds))
        })
        .collect();
    let results: Vec<_> = stream::iter(evictions)
        .map(|(victim, ns, name, grace)| {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
            async move {
                let result = bind::evict(&pods, &name, grace).await;
                (victim, ns, name, result)
            }
        })
        .buffer_unordered(ctx.config.concurrency.max(1))
        .collect()
        .await;
    // Victims with a pod evicted now (their count of preemptions goes up by one).
    let mut newly_evicted: BTreeSet<WorkloadId> = BTreeSet::new();
    for (victim, ns, name, r) in results {
        match r {
            Ok(()) => {
                out.evicted += 1;
                out.expectations.evicted(ns, name);
                newly_evicted.insert(victim);
            }
            Err(e) => {
                out.errors.push(e);
            }
        }
    }

    out.preempted = newly_evicted.len();

    // 2. Pods that stopped and are replaced, inference replicas beyond demand, and the pods of
    // training jobs that ended.
    let removals: Vec<(String, String)> = a
        .to_delete
        .iter()
        .cloned()
        .chain(a.ended.iter().flat_map(|e| e.running.iter().map(|name| (e.object.namespace(), name.clone()))))
        .collect();
    let results: Vec<_> = stream::iter(removals)
        .map(|(ns, name)| {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
            async move {
                let result = bind::remove(&pods, &name).await;
                (ns, name, result)
            }
        })
        .buffer_unordered(ctx.config.concurrency.max(1))
        .collect()
        .await;
    for (ns, name, r) in results {
        match r {
            Ok(()) => {
                out.removed += 1;
                out.expectations.evicted(ns, name);
            }
            Err(e) => out.errors.push(e),
        }
    }

    // 3. Binds that need no victim to stop first.
    let mut jobs = Vec::new();
    for b in plan.binds.iter().filter(|b| !b.after_preemption) {
        let w = a.workload(b.workload);
        let node = &a.snapshot.nodes[b.node.ix()];
        let model_name = &a.snapshot.catalogue.models[b.model.ix()].name;
        let Some(model) = a.catalogue.get(model_name) else { continue };
        let placed = Placed {
            replica: b.replica,
            node: &node.name,
            devices: b.devices.iter().map(|&d| node.devices[usize::from(d)].id.clone()).collect(),
            model,
            usage: usage(b.usage),
            tenant: &w.tenant,
            lender: (b.usage == UsageClass::Tidal)
                .then(|| a.snapshot.lent.iter().find(|l| l.node == b.node && b.devices.contains(&l.device)))
                .flatten()
                .map(|l| {
                    let lender = &a.workload(l.lender).object;
                    format!("{}/{}", lender.namespace(), lender.name())
                }),
        };
        jobs.push((b, w.object.namespace(), replica_pod(&w.object, &placed), node.name.clone()));
    }
    let results: Vec<_> = stream::iter(jobs)
        .map(|(b, ns, pod, node)| {
            let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
            async move {
                let result = bind::ensure_bound(&pods, &pod, &node).await;
                (b, ns, pod.metadata.name.unwrap_or_default(), node, result)
            }
        })
        .buffer_unordered(ctx.config.concurrency.max(1))
        .collect()
        .await;
    let mut held: BTreeMap<WorkloadId, Vec<Held>> = BTreeMap::new();
    for al in &a.snapshot.allocations {
        if !victims.contains_key(&al.workload) {
            held.entry(al.workload).or_default().push((al.node.ix(), devices_of(al.devices), al.model.ix(), al.usage));
        }
    }
    for (b, ns, name, node, r) in results {
        match r {
            Ok(done) => {
                out.bound += 1;
                out.expectations.bound(ns, name, node);
                if done != Bound::AlreadyBound {
                    let model = &a.snapshot.catalogue.models[b.model.ix()].name;
                    *out.placed.entry(model.clone()).or_insert(0) += 1;
                }
                out.created += usize::from(done == Bound::Created);
                held.entry(b.workload).or_default().push((b.node.ix(), b.devices.clone(), b.model.ix(), b.usage));
            }
            Err(e) => out.errors.push(e),
        }
    }

    // 4. Status.
    let pending: BTreeMap<WorkloadId, &str> = plan.pending.iter().map(|p| (p.workload, p.reason.as_str())).collect();
    let waiting_on_victims: BTreeSet<WorkloadId> =
        plan.binds.iter().filter(|b| b.after_preemption).map(|b| b.workload).collect();
    let selections: BTreeMap<WorkloadId, &tidepool_engine::Selection> =
        plan.selections.iter().map(|s| (s.workload, s)).collect();
    let mut patches = Vec::new();
    for id in a.snapshot.workload_ids() {
        let w = a.workload(id);
        let engine_w = &a.snapshot.workloads[id.ix()];
        let mine = held.get(&id).map_or(&[][..], Vec::as_slice);
        let pending_reason = pending.get(&id).map(|r| (*r).to_owned()).or_else(|| {
            waiting_on_victims
                .contains(&id)
                .then(|| "waiting for preempted workloads to stop and free their devices".to_owned())
        });
        let outcome = Outcome {
            replicas: mine.len() as u32,
            replicas_min: engine_w.replicas_min,
            replicas_wanted: engine_w.replicas_wanted,
            lent_devices: a.snapshot.lent.iter().filter(|l| l.lender == id).count() as u32,
            placement: placement(a, &ctx.config.cluster, mine),
            selection: selections.get(&id).map(|s| selection(a, s)),
            pending_reason,
            cost_per_hour: cost(a, mine),
            preempted: victims.get(&id).cloned(),
            newly_preempted: newly_evicted.contains(&id),
        };
        let want = status::desired(&w.object, &outcome, now);
        if status::differs(&w.object, &want) {
            patches.push((w.object.clone(), want));
        }
    }
    for e in &a.ended {
        let want = status::ended(&e.object, &e.ending, now);
        if status::differs(&e.object, &want) {
            patches.push((e.object.clone(), want));
        }
    }
    for r in &a.rejected {
        let want = status::rejected(&r.object, &r.message, now);
        if status::differs(&r.object, &want) {
            patches.push((r.object.clone(), want));
        }
    }
    let written = stream::iter(patches).map(|(object, want)| write_status(ctx, object, want));
    out.count_statuses(written.buffer_unordered(ctx.config.concurrency.max(1)).collect().await);

    // 5. Tenant usage.
    let holdings: Vec<Holding> = held
        .iter()
        .flat_map(|(id, mine)| {
            let tenant = a.snapshot.workloads[id.ix()].tenant;
            mine.iter().map(move |(_, ds, m, u)| (tenant, ModelId(*m as u32), ds.len() as u32, *u))
        })
        .collect();
    let generations: Vec<Option<i64>> =
        a.tenants.iter().map(|t| t.as_ref().and_then(|t| t.metadata.generation)).collect();
    let wanted = tenant_status::statuses(&a.snapshot, &holdings, &generations);
    let tenant_patches: Vec<(&Tenant, TenantStatus)> = a
        .tenants
        .iter()
        .zip(wanted)
        .filter_map(|(t, want)| Some((t.as_ref()?, want)))
        .filter(|(t, want)| !tenant_status::same_usage(t.status.as_ref(), want))
        .collect();
    let written = stream::iter(tenant_patches).map(|(tenant, want)| write_tenant_status(ctx, tenant, want));
    out.count_statuses(written.buffer_unordered(ctx.config.concurrency.max(1)).collect().await);
    out
}

impl Applied {
    fn count_statuses(&mut self, results: Vec<Result<(), Error>>) {
        for r in results {
            match r {
                Ok(()) => self.statuses += 1,
                Err(e) => self.errors.push(e),
            }
        }
    }
}

/// Tenants are cluster-scoped; one stored in a namespace (as the test API keeps them) is
/// addressed there.
async fn write_tenant_status(ctx: &Context, tenant: &Tenant, status: TenantStatus) -> Result<(), Error> {
    let name = tenant.name_any();
    let body = json!({
        "apiVersion": format!("{}/{}", tidepool_crds::GROUP, tidepool_crds::VERSION),
        "kind": "Tenant",
        "metadata": {"name": name},
        "status": status,
    });
    let resource = ApiResource::erase::<Tenant>(&());
    let api: Api<DynamicObject> = match tenant.metadata.namespace.as_deref() {
        Some(ns) => Api::namespaced_with(ctx.client.clone(), ns, &resource),
        None => Api::all_with(ctx.client.clone(), &resource),
    };
    let params = PatchParams::apply(labels::FIELD_MANAGER).force();
    api.patch_status(&name, &params, &Patch::Apply(&body)).await.map(drop).map_err(|source| Error::Object {
        action: "patching status of",
        object: format!("Tenant/{name}"),
        source,
    })
}

/// Where the replicas in `mine` run, devices listed by node then device index, so the same
/// placement always reads the same.
fn placement(a: &Assembled, cluster: &str, mine: &[Held]) -> Option<Placement> {
    let mut mine = mine.to_vec();
    mine.sort();
    let (_, _, model, use_) = mine.first()?;
    let s = &a.snapshot;
    let nodes: BTreeSet<&str> = mine.iter().map(|(n, ..)| s.nodes[*n].name.as_str()).collect();
    Some(Placement {
        cluster: Some(cluster.to_owned()),
        model: Some(s.catalogue.models[*model].name.clone()),
        nodes: nodes.into_iter().map(str::to_owned).collect(),
        devices: mine
            .iter()
            .flat_map(|(n, ds, ..)| {
                let node = &s.nodes[*n];
                ds.iter().map(move |d| format!("{}/{}", node.name, node.devices[usize::from(*d)].id))
            })
            .collect(),
        usage_class: Some(usage(*use_).to_owned()),
    })
}

fn cost(a: &Assembled, mine: &[Held]) -> Option<String> {
    if mine.is_empty() {
        return None;
    }
    let total: Decimal = mine
        .iter()
        .map(|(_, ds, m, _)| a.snapshot.catalogue.models[*m].price_per_hour * Decimal::from(ds.len() as u64))
        .sum();
    Some(total.round_dp(2).to_string())
}

fn selection(a: &Assembled, s: &tidepool_engine::Selection) -> Selection {
    let name = |m: ModelId| a.snapshot.catalogue.models[m.ix()].name.clone();
    Selection {
        model: name(s.model),
        reason: s.reason.clone(),
        alternatives: s
            .alternatives
            .iter()
            .map(|alt| Alternative {
                model: name(alt.model),
                expected_hours: alt.hours.map(|h| format!("{h:.2}")),
                expected_cost: alt.cost.map(|c| c.round_dp(2).to_string()),
                rejected_because: alt.rejected.clone(),
            })
            .collect(),
    }
}

async fn write_status(ctx: &Context, object: Object, status: Value) -> Result<(), Error> {
    let ns = object.namespace();
    let name = object.name();
    let body = json!({
        "apiVersion": format!("{}/{}", tidepool_crds::GROUP, tidepool_crds::VERSION),
        "kind": object.kind(),
        "metadata": {"name": name},
        "status": status,
    });
    let params = PatchParams::apply(labels::FIELD_MANAGER).force();
    let patch = Patch::Apply(&body);
    let result = match object {
        Object::Training(_) => {
            Api::<TrainingJob>::namespaced(ctx.client.clone(), &ns).patch_status(&name, &params, &patch).await.map(drop)
        }
        Object::Inference(_) => Api::<InferenceService>::namespaced(ctx.client.clone(), &ns)
            .patch_status(&name, &params, &patch)
            .await
            .map(drop),
    };
    result.map_err(|source| Error::Object { action: "patching status of", object: object.reference(), source })
}
