//! Preemption: the fewest whole gangs to stop so that a workload fits, chosen in the order the
//! policy states — borrowed devices reclaimed for a tenant within its nominal quota, then lower
//! priority work of the same tenant — and among equals the one that loses the least work since
//! its last checkpoint. Nothing is preempted for a workload that would still not fit.

use crate::allocation::UsageClass;
use crate::cycle::Cycle;
use crate::holdings::Held;
use crate::ids::WorkloadId;
use crate::place::Placement;
use crate::plan::{Alternative, Preemption, Selection, VictimReason};
use crate::schedule::{Attempt, first_placement};
use crate::select::Candidate;

/// Most gangs tried as victims for one workload.
const MAX_VICTIMS: usize = 64;
/// Victims stopped one at a time before checking that stopping all of them would be enough.
const QUICK_TRIES: usize = 4;

/// Device-seconds of work a workload would lose if stopped now.
pub(crate) fn lost_work(cx: &Cycle, v: WorkloadId) -> i64 {
    cx.held[v]
        .iter()
        .map(|h| {
            let since = h.last_checkpoint.unwrap_or(h.started);
            (cx.now.0 - since.0).max(0) * i64::from(h.mask.count_ones())
        })
        .sum()
}

/// Tries to start `w`'s gang by preempting; returns whether it did.
pub(crate) fn make_room(cx: &mut Cycle, w: WorkloadId, attempt: &Attempt, replicas: u32) -> bool {
    let s = cx.s;
    let wl = &s.workloads[w.ix()];
    let devices = replicas * wl.devices_per_replica;
    let mut order: Vec<&Candidate> = attempt.candidates.iter().collect();
    order.sort_by(|a, b| {
        let cost = |c: &Candidate| {
            use rust_decimal::prelude::ToPrimitive;
            s.catalogue.model(c.model).price_per_hour.to_f64().unwrap_or(f64::MAX) / c.throughput
        };
        cost(a).total_cmp(&cost(b)).then(a.model.cmp(&b.model))
    });
    for c in order {
        let within_nominal = within_nominal(cx, w, c, devices);
        let victims = eligible(cx, w, c, within_nominal);
        let freeable: u32 = victims
            .iter()
            .flat_map(|&(_, _, v, _)| &cx.held[v])
            .filter(|h| h.model == c.model)
            .map(|h| h.mask.count_ones())
            .sum();
        let free: u32 = c.partitions.iter().map(|&p| cx.cap.partitions[p].total_free).sum();
        if victims.is_empty() || free + freeable < devices {
            continue;
        }
        let mut released: Vec<(WorkloadId, VictimReason, Vec<Held>)> = Vec::new();
        let mut fits = false;
        for (i, &(_, _, v, why)) in victims.iter().enumerate() {
            // Past the first few, go on only if stopping all the rest as well would do.
            if i == QUICK_TRIES && !fits_with_stopped(cx, w, c, replicas, &victims[i..]) {
                break;
            }
            let held = cx.release(v);
            released.push((v, why, held));
            if try_fit(cx, w, c, replicas).is_some() {
                fits = true;
                break;
            }
        }
        if !fits {
            while let Some((v, _, held)) = released.pop() {
                cx.restore(v, held);
            }
            continue;
        }
        // Minimal set: give back every victim the workload fits without, newest choice last.
        let mut i = released.len();
        while i > 0 {
            i -= 1;
            let (v, why, held) = released.remove(i);
            cx.restore(v, held);
            if try_fit(cx, w, c, replicas).is_none() {
                let held = cx.release(v);
                released.insert(i, (v, why, held));
            }
        }
        let Some((placement, class)) = try_fit(cx, w, c, replicas) else { return false };
        cx.commit(w, c.model, &placement, class, true);
        for (v, why, held) in &released {
            finish_victim(cx, *v, w, *why, held);
        }
        let victims: Vec<String> = released.iter().map(|(v, _, _)| s.workloads[v.ix()].name.clone()).collect();
        cx.plan.selections.push(Selection {
            workload: w,
            model: c.model,
            alternatives: vec![Alternative { model: c.model, hours: None, cost: None, rejected: None }],
            reason: format!(
                "no free capacity on an accepted model; preempting {} to start on {}",
                victims.join(", "),
                s.catalogue.model(c.model).name
            ),
        });
        return true;
    }
    false
}

/// Records a victim's preemption and keeps the devices it frees, beyond what the preemptor
/// took, out of this cycle: they are free only once it has stopped.
pub(crate) fn finish_victim(cx: &mut Cycle, v: WorkloadId, for_workload: WorkloadId, why: VictimReason, held: &[Held]) {
    cx.preempted[v.ix()] = true;
    cx.preemptor[for_workload.ix()] = true;
    if cx.bound[v.ix()] {
        // Replicas it was given earlier in this cycle go with it.
        cx.plan.binds.retain(|b| b.workload != v);
        cx.plan.selections.retain(|s| s.workload != v);
    }
    for h in held {
        let still_free = h.mask & (cx.cap.free[h.node.ix()] | cx.cap.lent_free[h.node.ix()]);
        if still_free != 0 {
            cx.cap.take(h.node, still_free);
        }
    }
    cx.plan.preemptions.push(Preemption {
        victim: v,
        for_workload,
        why,
        grace_seconds: cx.s.workloads[v.ix()].grace(),
    });
}

/// Whether the workload would fit were `victims` stopped too: checked before the rest of the
/// victims are released one by one, as stopping fewer of them never frees more devices or more
/// quota (a victim of another tenant gives back no more to lend than it frees), so a gang that
/// does not fit then fits with no subset of them.
fn fits_with_stopped(
    cx: &mut Cycle,
    w: WorkloadId,
    c: &Candidate,
    replicas: u32,
    victims: &[(u8, i64, WorkloadId, VictimReason)],
) -> bool {
    // Only free devices and quota usage decide whether it fits: they alone change, and go back.
    let s = cx.s;
    let stopped = |cx: &mut Cycle, stop: bool| {
        for &(_, _, v, _) in victims {
            let tenant = s.workloads[v.ix()].tenant;
            for h in &cx.held[v] {
                let n = h.mask.count_ones();
                let counted = h.usage != UsageClass::Tidal;
                if stop {
                    cx.cap.give(h.node, h.mask);
                    if counted {
                        cx.usage.remove(s, tenant, h.model, n);
                    }
                } else {
                    cx.cap.take(h.node, h.mask);
                    if counted {
                        cx.usage.add(s, tenant, h.model, n);
                    }
                }
            }
        }
    };
    stopped(cx, true);
    let fits = try_fit(cx, w, c, replicas).is_some();
    stopped(cx, false);
    fits
}

fn try_fit(cx: &Cycle, w: WorkloadId, c: &Candidate, replicas: u32) -> Option<(Placement, UsageClass)> {
    let wl = &cx.s.workloads[w.ix()];
    let class =
        cx.usage.admit(cx.s, &cx.cap, wl.tenant, c.model, replicas * wl.devices_per_replica, wl.preemptible).ok()?;
    let placement = first_placement(cx, &c.partitions, replicas, wl.devices_per_replica, &|_| true)?;
    Some((placement, class))
}

/// Whether `devices` more fit within the nominal quota of the tenant's nearest quota on the path.
fn within_nominal(cx: &Cycle, w: WorkloadId, c: &Candidate, devices: u32) -> bool {
    let s = cx.s;
    let tenant = s.workloads[w.ix()].tenant;
    let family = s.catalogue.model(c.model).family;
    s.tenant_path(tenant)
        .find_map(|a| s.tenants[a.ix()].quota_for(c.model, family).map(|q| (a, *q)))
        .is_some_and(|(a, q)| cx.usage.used(a, q.key) + devices <= q.nominal)
}

/// Victims that may be stopped for `w` on candidate `c`, best first: (rank, lost work, id, why).
/// Only the first [`MAX_VICTIMS`] are sorted; the rest follow in no particular order.
fn eligible(
    cx: &Cycle,
    w: WorkloadId,
    c: &Candidate,
    within_nominal: bool,
) -> Vec<(u8, i64, WorkloadId, VictimReason)> {
    let s = cx.s;
    let wl = &s.workloads[w.ix()];
    let on_candidate = |v: WorkloadId| {
        let held = &cx.held[v];
        v != w
            && !cx.preempted[v.ix()]
            && !cx.preemptor[v.ix()]
            && held
                .iter()
                .any(|h| h.model == c.model && cx.cap.partition_of(h.node).is_some_and(|p| c.partitions.contains(&p)))
            && !held.iter().all(|h| h.usage == UsageClass::Tidal)
    };
    let mut out = Vec::new();
    if within_nominal && cx.policy.reclaim_borrowed {
        for &v in cx.running().borrowers(c.model) {
            if s.workloads[v.ix()].tenant != wl.tenant && on_candidate(v) {
                out.push((0, lost_work(cx, v), v, VictimReason::BorrowedReclaim));
            }
        }
    }
    let ceiling = wl.priority.saturating_sub(cx.policy.min_priority_gap);
    // The order victims are found in does not matter: they are sorted below, each once.
    for &(_, v) in cx.running().of_tenant(c.model, wl.tenant).iter().filter(|(p, _)| *p <= ceiling) {
        if on_candidate(v) {
            out.push((1, lost_work(cx, v), v, VictimReason::LowerPriority));
        }
    }
    let key = |e: &(u8, i64, WorkloadId, VictimReason)| (e.0, e.1, e.2);
    if out.len() > MAX_VICTIMS {
        out.select_nth_unstable_by_key(MAX_VICTIMS, key);
        out.truncate(MAX_VICTIMS);
    }
    out.sort_unstable_by_key(key);
    out
}
