//! Preemption: the fewest whole gangs to stop so that a workload fits, chosen in the order the
//! policy states — borrowed devices reclaimed for a tenant within its nominal quota, then lower
//! priority work of the same tenant — and among equals the one that loses the least work since
//! its last checkpoint. Nothing is preempted for a workload that would still not fit.
//!
//! The best victims overall are tried first, one at a time. On a large fleet they can be spread
//! over many nodes, none left with room for a replica; victims are then chosen node by node, as
//! Volcano and KAI choose them: the nodes whose best victims free a replica's devices for the
//! least, as many as the gang needs. Either way the set is then cut down to the fewest it needs.

use crate::allocation::UsageClass;
use crate::cycle::Cycle;
use crate::holdings::Held;
use crate::ids::{NodeId, WorkloadId};
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

/// A possible victim: (rank, lost work, id, why); best first in that order.
type Victim = (u8, i64, WorkloadId, VictimReason);

/// Victims stopped so far, with what each held.
type Released = Vec<(WorkloadId, VictimReason, Vec<Held>)>;

/// A victim's devices on one node: (node, the victim's index among all, devices).
type OnNode = (NodeId, usize, u32);

fn victim_key(v: &Victim) -> (u8, i64, WorkloadId) {
    (v.0, v.1, v.2)
}

/// Tries to start `w`'s gang by preempting; returns whether it did.
pub(crate) fn make_room(cx: &mut Cycle, w: WorkloadId, attempt: &Attempt, replicas: u32) -> bool {
    let s = cx.s;
    let devices = replicas * s.workloads[w.ix()].devices_per_replica;
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
        let mut all = eligible(cx, w, c, within_nominal);
        if all.is_empty() {
            continue;
        }
        let best = best_first(&mut all);
        // With every victim tried, none of them together making room, no subset can (see
        // `fits_with_stopped`): choosing node by node is for when there were more to choose from.
        let released = match stop_best_first(cx, w, c, replicas, &all[..best]) {
            Some(released) => released,
            None if all.len() > MAX_VICTIMS => match stop_node_by_node(cx, w, c, replicas, &all) {
                Some(released) => released,
                None => continue,
            },
            None => continue,
        };
        return settle(cx, w, c, replicas, released);
    }
    false
}

/// Moves the best [`MAX_VICTIMS`] of `all` to its front, best first (the rest follow in no
/// particular order), and says how many that is.
fn best_first(all: &mut [Victim]) -> usize {
    let best = all.len().min(MAX_VICTIMS);
    if all.len() > best {
        all.select_nth_unstable_by_key(best, victim_key);
    }
    all[..best].sort_unstable_by_key(victim_key);
    best
}

/// Stops victims best first until the gang fits; undoes it all and says `None` when it does not.
fn stop_best_first(
    cx: &mut Cycle,
    w: WorkloadId,
    c: &Candidate,
    replicas: u32,
    victims: &[Victim],
) -> Option<Released> {
    let devices = replicas * cx.s.workloads[w.ix()].devices_per_replica;
    let freeable: u32 = victims
        .iter()
        .flat_map(|&(_, _, v, _)| &cx.held[v])
        .filter(|h| h.model == c.model)
        .map(|h| h.mask.count_ones())
        .sum();
    let free: u32 = c.partitions.iter().map(|&p| cx.cap.partitions[p].total_free).sum();
    if free + freeable < devices {
        return None;
    }
    let mut released: Released = Vec::new();
    for (i, &(_, _, v, why)) in victims.iter().enumerate() {
        // Past the first few, go on only if stopping all the rest as well would do.
        if i == QUICK_TRIES && !fits_with_stopped(cx, w, c, replicas, &victims[i..]) {
            break;
        }
        let held = cx.release(v);
        released.push((v, why, held));
        if try_fit(cx, w, c, replicas).is_some() {
            return Some(released);
        }
    }
    undo(cx, released);
    None
}

/// When the best victims overall are spread too thin to leave any node room for a replica,
/// victims chosen node by node, as Volcano and KAI choose them: on each node of the candidate's
/// partitions, the best of the victims there that together leave room for one replica; then the
/// nodes whose victims lose least (lowest rank first), as many as the gang needs beyond the room
/// already free. They are all stopped at once; `None` (with nothing stopped) when the gang still
/// does not fit.
fn stop_node_by_node(cx: &mut Cycle, w: WorkloadId, c: &Candidate, replicas: u32, all: &[Victim]) -> Option<Released> {
    let per_replica = cx.s.workloads[w.ix()].devices_per_replica;
    let free_slots: u32 = c.partitions.iter().map(|&p| cx.cap.replica_slots(p, per_replica)).sum();
    let need = replicas.checked_sub(free_slots).filter(|&n| n > 0)? as usize;
    // Each victim's devices on the nodes of the candidate's partitions that lack room.
    let mut on_nodes: Vec<OnNode> = Vec::new();
    let mut freeable = vec![0u32; cx.s.nodes.len()];
    for (i, &(_, _, v, _)) in all.iter().enumerate() {
        for h in &cx.held[v] {
            let in_candidate = cx.cap.partition_of(h.node).is_some_and(|p| c.partitions.contains(&p));
            if h.model == c.model && in_candidate && cx.cap.free_count(h.node) < per_replica {
                on_nodes.push((h.node, i, h.mask.count_ones()));
                freeable[h.node.ix()] += h.mask.count_ones();
            }
        }
    }
    // Before sorting, whether enough nodes could have room at all.
    let mut roomy = 0;
    for &(node, _, _) in &on_nodes {
        if freeable[node.ix()] > 0 {
            roomy += usize::from(cx.cap.free_count(node) + freeable[node.ix()] >= per_replica);
            freeable[node.ix()] = 0;
        }
    }
    if roomy < need {
        return None;
    }
    on_nodes.sort_unstable_by_key(|&(node, i, _)| (node, victim_key(&all[i])));
    // Per node: what its best victims cost, and how many of them.
    let mut nodes: Vec<((u8, i64), NodeId, &[OnNode])> = Vec::new();
    for run in on_nodes.chunk_by(|a, b| a.0 == b.0) {
        let node = run[0].0;
        let free = cx.cap.free_count(node);
        let (mut freed, mut cost) = (0, (0u8, 0i64));
        for (k, &(_, i, n)) in run.iter().enumerate() {
            freed += n;
            cost = (cost.0.max(all[i].0), cost.1 + all[i].1);
            if free + freed >= per_replica {
                nodes.push((cost, node, &run[..=k]));
                break;
            }
        }
    }
    nodes.sort_unstable_by_key(|&(cost, node, _)| (cost, node));
    let mut chosen: Vec<usize> = nodes[..need].iter().flat_map(|&(_, _, run)| run.iter().map(|&(_, i, _)| i)).collect();
    chosen.sort_unstable_by_key(|&i| victim_key(&all[i]));
    chosen.dedup();
    let released: Released = chosen.into_iter().map(|i| (all[i].2, all[i].3, cx.release(all[i].2))).collect();
    if try_fit(cx, w, c, replicas).is_some() {
        return Some(released);
    }
    undo(cx, released);
    None
}

/// Restores stopped victims, last first.
fn undo(cx: &mut Cycle, mut released: Released) {
    while let Some((v, _, held)) = released.pop() {
        cx.restore(v, held);
    }
}

/// With `released` stopped and the gang fitting: gives back every victim it fits without, starts
/// it and records the preemptions.
fn settle(cx: &mut Cycle, w: WorkloadId, c: &Candidate, replicas: u32, mut released: Released) -> bool {
    let s = cx.s;
    // Minimal set: give back every victim the workload fits without, the last chosen first.
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
    cx.record_selection(|_| {
        let victims: Vec<String> = released.iter().map(|(v, _, _)| s.workloads[v.ix()].name.clone()).collect();
        Selection {
            workload: w,
            model: c.model,
            alternatives: vec![Alternative { model: c.model, hours: None, cost: None, rejected: None }],
            reason: format!(
                "no free capacity on an accepted model; preempting {} to start on {}",
                victims.join(", "),
                s.catalogue.model(c.model).name
            ),
        }
    });
    true
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
fn fits_with_stopped(cx: &mut Cycle, w: WorkloadId, c: &Candidate, replicas: u32, victims: &[Victim]) -> bool {
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

/// Victims that may be stopped for `w` on candidate `c`, in no particular order.
fn eligible(cx: &Cycle, w: WorkloadId, c: &Candidate, within_nominal: bool) -> Vec<Victim> {
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
    // The order victims are found in does not matter: they are sorted where they are tried.
    for &(_, v) in cx.running().of_tenant(c.model, wl.tenant).iter().filter(|(p, _)| *p <= ceiling) {
        if on_candidate(v) {
            out.push((1, lost_work(cx, v), v, VictimReason::LowerPriority));
        }
    }
    out
}
