//! Chip-aware selection: which models a workload may run on, what each would take and cost, and
//! which one the policy's objective picks.
//!
//! Feasible models = accepted (software stack: the workload lists the models or families it has
//! images for) ∩ enough memory ∩ a throughput figure for its class ∩ present in a cluster its
//! tenant may use, on nodes its isolation allows. Expected runtime = work ÷ (devices × relative
//! throughput × scaling efficiency of the placement); expected cost = runtime × devices × price.

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use crate::allocation::UsageClass;
use crate::capacity::PartitionId;
use crate::cycle::Cycle;
use crate::ids::{ModelId, WorkloadId};
use crate::place::Placement;
use crate::policy::Objective;
use crate::workload::{Target, WorkloadKind};

/// A model the workload accepts, with the partitions it may use.
#[derive(Clone, Debug)]
pub(crate) struct Candidate {
    pub model: ModelId,
    /// Position of the accepted entry that admits it in the workload's list.
    pub rank: usize,
    pub throughput: f64,
    pub partitions: Vec<PartitionId>,
}

/// A way to start the workload now.
#[derive(Clone, Debug)]
pub(crate) struct Option_ {
    pub model: ModelId,
    pub placement: Placement,
    pub usage: UsageClass,
    pub hours: Option<f64>,
    /// Whole-run cost when the work is known, else cost per hour.
    pub cost: Decimal,
    /// Cost per reference-device-hour of work: the ranking key when the work is unknown.
    pub cost_per_work: f64,
    /// Reference-device-hours of work done per hour on this placement.
    pub speed: f64,
    /// The candidate's position in the workload's accepted list.
    pub rank: usize,
    pub meets_deadline: bool,
}

/// Accepted models with a throughput figure and enough memory, and the reasons others were left out
/// (empty when the policy does not explain).
pub(crate) fn candidates(cx: &Cycle, w: WorkloadId) -> (Vec<Candidate>, Vec<(ModelId, String)>) {
    let s = cx.s;
    let wl = &s.workloads[w.ix()];
    let tenant = &s.tenants[wl.tenant.ix()];
    let running_model = cx.held[w].first().map(|h| h.model);
    // A training gang lives in one cluster: replicas added to a running job stay in its cluster.
    let running_cluster =
        (wl.kind == WorkloadKind::Training).then(|| cx.held[w].first().map(|h| s.cluster_of(h.node))).flatten();
    let mut out = Vec::new();
    let mut excluded = Vec::new();
    for m in s.catalogue.model_ids() {
        let model = s.catalogue.model(m);
        let covers = |t: &Target| match *t {
            Target::Model(id) => id == m,
            Target::Family(f) => f == model.family,
        };
        let accept = wl
            .accepts
            .iter()
            .position(|a| a.target == Target::Model(m))
            .or_else(|| wl.accepts.iter().position(|a| covers(&a.target)));
        let Some(rank) = accept else { continue };
        let accept = &wl.accepts[rank];
        if running_model.is_some_and(|r| r != m) && !wl.allow_mixed_models {
            continue;
        }
        if model.memory_gib < accept.min_memory_gib {
            excluded.push((m, cx.explain(|| format!("has {} GiB, needs {}", model.memory_gib, accept.min_memory_gib))));
            continue;
        }
        let Some(throughput) = accept.throughput.or(model.throughput[wl.class as usize]).filter(|t| *t > 0.0) else {
            excluded.push((m, cx.explain(|| format!("has no throughput figure for {:?}", wl.class))));
            continue;
        };
        let partitions: Vec<PartitionId> = cx
            .cap
            .by_model(m)
            .iter()
            .copied()
            .filter(|&p| {
                let key = cx.cap.partitions[p].key();
                tenant.allows_cluster(key.cluster)
                    && running_cluster.is_none_or(|rc| rc == key.cluster)
                    && match key.dedicated {
                        None => !tenant.dedicated_only,
                        Some(d) => s.tenant_path(wl.tenant).any(|t| t == d),
                    }
            })
            .collect();
        if partitions.is_empty() {
            excluded.push((m, cx.explain(|| format!("is in no cluster or node pool tenant {} may use", tenant.name))));
            continue;
        }
        out.push(Candidate { model: m, rank, throughput, partitions });
    }
    (out, excluded)
}

/// Expected hours and cost of running `replicas` × `devices` of a model at a scaling efficiency.
pub(crate) fn estimate(
    cx: &Cycle,
    w: WorkloadId,
    c: &Candidate,
    replicas: u32,
    efficiency: f64,
) -> (Option<f64>, Decimal, f64) {
    let wl = &cx.s.workloads[w.ix()];
    let price = cx.s.catalogue.model(c.model).price_per_hour;
    let cost_per_work = price_f64(price) / (c.throughput * efficiency);
    let per_hour = price * Decimal::from(replicas * wl.devices_per_replica);
    match estimate_hours(cx, w, c, replicas, efficiency) {
        Some(hours) => {
            let h = Decimal::from_f64(hours).unwrap_or(Decimal::MAX).round_dp(4);
            ((Some(hours)), (per_hour * h).round_dp(2), cost_per_work)
        }
        None => (None, per_hour, cost_per_work),
    }
}

/// Expected hours alone (as [`estimate`] gives them), when the work is known.
pub(crate) fn estimate_hours(cx: &Cycle, w: WorkloadId, c: &Candidate, replicas: u32, efficiency: f64) -> Option<f64> {
    let wl = &cx.s.workloads[w.ix()];
    let devices = f64::from(replicas * wl.devices_per_replica);
    let speed = c.throughput * efficiency;
    wl.expected_work.map(|work| work / (devices * speed))
}

fn price_f64(price: Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    price.to_f64().unwrap_or(f64::MAX)
}

/// Picks the option the objective prefers; `None` when there is none.
pub(crate) fn choose(options: &[Option_], objective: Objective, slack: f64) -> Option<usize> {
    if options.is_empty() {
        return None;
    }
    let pool: Vec<usize> = {
        let meeting: Vec<usize> = (0..options.len()).filter(|&i| options[i].meets_deadline).collect();
        if meeting.is_empty() { (0..options.len()).collect() } else { meeting }
    };
    // Soonest finish: fewest hours when the work is known, else the most work done per hour.
    let speed_key = |o: &Option_| o.hours.unwrap_or(-o.speed);
    let cheapest = |ids: &mut dyn Iterator<Item = usize>| {
        ids.min_by(|&a, &b| {
            let (x, y) = (&options[a], &options[b]);
            x.cost_per_work.total_cmp(&y.cost_per_work).then(x.cost.cmp(&y.cost)).then(x.model.cmp(&y.model))
        })
    };
    match objective {
        Objective::Speed => pool.iter().copied().min_by(|&a, &b| {
            speed_key(&options[a]).total_cmp(&speed_key(&options[b])).then(options[a].model.cmp(&options[b].model))
        }),
        Objective::Cost => cheapest(&mut pool.iter().copied()),
        Objective::FirstAcceptable => (0..options.len()).min_by_key(|&i| (options[i].rank, options[i].model)),
        Objective::Balanced => {
            let fastest = pool.iter().map(|&i| options[i].hours).collect::<Option<Vec<f64>>>();
            match fastest {
                Some(hours) => {
                    let best = hours.iter().copied().fold(f64::INFINITY, f64::min);
                    cheapest(
                        &mut pool
                            .iter()
                            .copied()
                            .filter(|&i| options[i].hours.unwrap_or(f64::INFINITY) <= best * slack),
                    )
                }
                None => cheapest(&mut pool.iter().copied()),
            }
        }
    }
}
