//! The cycle: take workloads in fair-share order and, for each, start its gang on the chip the
//! objective prefers, make room by preemption when the rules allow, or say why it waits.

use crate::allocation::UsageClass;
use crate::backfill;
use crate::backfill::Endings;
use crate::capacity::PartitionId;
use crate::cycle::{Cycle, Start};
use crate::cycle_cache::{CycleCache, wants_of};
use crate::fleet_index::FleetIndex;
use crate::holdings::{Initial, Totals};
use crate::ids::{NodeId, Seconds, WorkloadId};
use crate::place::{Placement, place};
use crate::plan::{Alternative, Pending, PendingCause, Plan, Selection};
use crate::policy::Policy;
use crate::preempt;
use crate::quota::QuotaBlock;
use crate::reasons;
use crate::select::{self, Candidate, Option_};
use crate::snapshot::Snapshot;
use crate::tidal;
use crate::workload::WorkloadKind;

/// Decides, for a snapshot, which workloads start, where and on which chip, what is preempted,
/// and why the rest wait. Deterministic: the same snapshot, policy and `now` give the same plan.
/// The snapshot must pass [`Snapshot::check`].
pub fn schedule(snapshot: &Snapshot, policy: &Policy, now: Seconds) -> Plan {
    schedule_fresh(snapshot, &FleetIndex::new(snapshot), policy, now)
}

/// A cycle that makes every index of running work it needs.
fn schedule_fresh(snapshot: &Snapshot, fleet: &FleetIndex, policy: &Policy, now: Seconds) -> Plan {
    let initial = Initial::new(snapshot);
    let totals = Totals::new(snapshot, &initial);
    let endings = Endings::new(snapshot.catalogue.models.len());
    let wants = wants_of(snapshot);
    let start =
        Start { initial: &initial, totals: &totals, running: None, endings: &endings, base: None, wants: &wants };
    run(snapshot, fleet, policy, now, start)
}

/// [`schedule`] for a caller that schedules the same nodes cycle after cycle, with what it keeps
/// between cycles: `cache` must be [`CycleCache::new`] of a snapshot with the same catalogue,
/// groups and nodes (checked in debug builds), and a workload's accepted models must stay as
/// they were while it holds allocations. What [`CycleCache::changed`] was told must be true. The
/// plan is the same.
pub fn schedule_on(snapshot: &Snapshot, cache: &mut CycleCache, policy: &Policy, now: Seconds) -> Plan {
    debug_assert!(cache.fleet == FleetIndex::new(snapshot), "the cache is not for this snapshot's fleet");
    // Finding what changed since the last cycle pays where preemption or backfill search the
    // running work, or where the caller says what changed; otherwise counting it afresh is
    // cheaper (measured on the simulator). A cache that keeps indexes must see every cycle.
    if !policy.preemption && !policy.backfill && !cache.told() && !cache.keeps() {
        return schedule_fresh(snapshot, &cache.fleet, policy, now);
    }
    let (fleet, kept) = cache.advance(snapshot);
    let start = Start {
        initial: &kept.initial,
        totals: &kept.totals,
        running: Some(&kept.running),
        endings: &kept.endings,
        base: Some(&kept.base),
        wants: &kept.wants,
    };
    run(snapshot, fleet, policy, now, start)
}

fn run(snapshot: &Snapshot, fleet: &FleetIndex, policy: &Policy, now: Seconds, start: Start) -> Plan {
    let mut cx = Cycle::new(snapshot, fleet, policy, now, start);
    while let Some(w) = cx.fair.next(snapshot, &cx.usage) {
        if cx.preempted[w.ix()] {
            continue;
        }
        let wl = &snapshot.workloads[w.ix()];
        if cx.replicas(w) < wl.replicas_min {
            start_gang(&mut cx, w);
        }
        if wl.kind == WorkloadKind::Inference
            && cx.replicas(w) >= wl.replicas_min
            && cx.replicas(w) < wl.replicas_wanted
        {
            scale_up(&mut cx, w);
        }
    }
    // Elastic training replicas come last, on what every gang and service left, by priority.
    // Only a workload that waited when the cycle began can be short now: a workload loses
    // replicas in a cycle only when it is preempted.
    let mut elastic: Vec<WorkloadId> = cx
        .waiting
        .iter()
        .copied()
        .filter(|&w| {
            let wl = &snapshot.workloads[w.ix()];
            wl.kind == WorkloadKind::Training
                && !cx.preempted[w.ix()]
                && cx.replicas(w) >= wl.replicas_min
                && cx.replicas(w) < wl.replicas_wanted
        })
        .collect();
    elastic.sort_by_key(|&w| {
        (std::cmp::Reverse(snapshot.workloads[w.ix()].priority), snapshot.workloads[w.ix()].submitted, w)
    });
    for w in elastic {
        scale_up(&mut cx, w);
    }
    cx.plan
}

/// How one workload's attempt went, for its pending reason.
pub(crate) struct Attempt {
    pub candidates: Vec<Candidate>,
    pub excluded: Vec<(crate::ids::ModelId, String)>,
    pub blocks: Vec<(crate::ids::ModelId, QuotaBlock)>,
    pub no_room: Vec<crate::ids::ModelId>,
}

fn start_gang(cx: &mut Cycle, w: WorkloadId) {
    let wl = &cx.s.workloads[w.ix()];
    let replicas = wl.replicas_min - cx.replicas(w);
    let devices = replicas * wl.devices_per_replica;
    let (candidates, excluded) = select::candidates(cx, w);
    let mut attempt = Attempt { candidates, excluded, blocks: Vec::new(), no_room: Vec::new() };
    let end_of = |hours: Option<f64>| hours.map(|h| Seconds(cx.now.0 + (h * 3600.0).ceil() as i64));

    let mut options: Vec<Option_> = Vec::new();
    for c in &attempt.candidates {
        let (quota_class, block) = match cx.usage.admit(cx.s, &cx.cap, wl.tenant, c.model, devices, wl.preemptible) {
            Ok(class) => (Some(class), None),
            Err(b) => (None, Some(b)),
        };
        // Backfill: nodes reserved for a blocked gang only take work that ends before it starts.
        let est_hours = select::estimate_hours(cx, w, c, replicas, 1.0);
        let ends = end_of(est_hours);
        let reserved = &cx.reserved;
        let usable = |n: NodeId| reserved[n.ix()].is_none_or(|until| ends.is_some_and(|e| e <= until));
        let mut found: Option<(Placement, UsageClass)> = None;
        if let Some(class) = quota_class {
            let tidal_first = class == UsageClass::Borrowed;
            if tidal_first {
                found = tidal::place_on_lent(cx, c, replicas, wl.devices_per_replica).map(|p| (p, UsageClass::Tidal));
            }
            if found.is_none() {
                found =
                    first_placement(cx, &c.partitions, replicas, wl.devices_per_replica, &usable).map(|p| (p, class));
            }
        } else if wl.preemptible {
            found = tidal::place_on_lent(cx, c, replicas, wl.devices_per_replica).map(|p| (p, UsageClass::Tidal));
        }
        match found {
            Some((placement, usage)) => {
                let (hours, cost, cost_per_work) = select::estimate(cx, w, c, replicas, placement.scaling_efficiency());
                let meets_deadline = match (wl.deadline, end_of(hours)) {
                    (Some(deadline), Some(end)) => end <= deadline,
                    _ => true,
                };
                let speed = c.throughput * placement.scaling_efficiency();
                options.push(Option_ {
                    model: c.model,
                    placement,
                    usage,
                    hours,
                    cost,
                    cost_per_work,
                    speed,
                    rank: c.rank,
                    meets_deadline,
                });
            }
            None => match block {
                Some(b) => attempt.blocks.push((c.model, b)),
                None => attempt.no_room.push(c.model),
            },
        }
    }

    if let Some(i) = select::choose(&options, cx.policy.objective, cx.policy.balanced_slack) {
        let chosen = options[i].clone();
        cx.commit(w, chosen.model, &chosen.placement, chosen.usage, false);
        cx.record_selection(|cx| selection(cx, w, &options, i, &attempt));
        return;
    }
    if cx.policy.preemption && preempt::make_room(cx, w, &attempt, replicas) {
        return;
    }
    let reserved_from = if cx.policy.backfill && !attempt.no_room.is_empty() {
        backfill::reserve(cx, w, &attempt, replicas)
    } else {
        None
    };
    let reason = cx.explain(|| reasons::pending(cx, w, &attempt, replicas, reserved_from));
    let cause = if attempt.candidates.is_empty() {
        PendingCause::NoAcceptableAccelerator
    } else if attempt.no_room.is_empty() {
        PendingCause::Quota
    } else {
        PendingCause::Capacity
    };
    cx.plan.pending.push(Pending { workload: w, reason, cause, reserved_from });
}

/// The first partition, in order, with room for the gang.
pub(crate) fn first_placement(
    cx: &Cycle,
    partitions: &[PartitionId],
    replicas: u32,
    devices: u32,
    usable: &dyn Fn(NodeId) -> bool,
) -> Option<Placement> {
    partitions.iter().find_map(|&p| place(cx.s, &cx.cap, p, replicas, devices, cx.policy.packing, usable))
}

/// How `options[chosen]` was chosen: every model looked at, and why each other one was not.
fn selection(cx: &Cycle, w: WorkloadId, options: &[Option_], chosen: usize, attempt: &Attempt) -> Selection {
    let s = cx.s;
    let pick = &options[chosen];
    let mut alternatives: Vec<Alternative> = options
        .iter()
        .enumerate()
        .map(|(i, o)| Alternative {
            model: o.model,
            hours: o.hours,
            cost: Some(o.cost),
            rejected: (i != chosen).then(|| reasons::why_not(s, o, pick, cx.policy.objective)),
        })
        .collect();
    for (m, b) in &attempt.blocks {
        alternatives.push(Alternative { model: *m, hours: None, cost: None, rejected: Some(reasons::block(s, b)) });
    }
    for m in &attempt.no_room {
        alternatives.push(Alternative { model: *m, hours: None, cost: None, rejected: Some("no room now".into()) });
    }
    for (m, why) in &attempt.excluded {
        alternatives.push(Alternative { model: *m, hours: None, cost: None, rejected: Some(why.clone()) });
    }
    alternatives.sort_by_key(|a| a.model);
    let reason = reasons::chosen(s, pick, options.len(), cx.policy.objective, s.workloads[w.ix()].deadline.is_some());
    Selection { workload: w, model: pick.model, alternatives, reason }
}

/// Adds replicas beyond the gang one at a time, on the model already running: inference services
/// up to the replicas demand calls for (taking back devices they lent first), training jobs up
/// to their elastic ceiling. Only inference services report the shortfall as pending.
fn scale_up(cx: &mut Cycle, w: WorkloadId) {
    let wl = &cx.s.workloads[w.ix()];
    let Some(model) = cx.held[w].first().map(|h| h.model) else { return };
    let (candidates, _) = select::candidates(cx, w);
    let Some(c) = candidates.into_iter().find(|c| c.model == model) else { return };
    while cx.replicas(w) < wl.replicas_wanted {
        if tidal::reclaim_one(cx, w, &c) {
            continue;
        }
        let class = match cx.usage.admit(cx.s, &cx.cap, wl.tenant, model, wl.devices_per_replica, wl.preemptible) {
            Ok(class) => class,
            Err(b) => {
                if wl.kind == WorkloadKind::Inference {
                    let reason = cx.explain(|| {
                        format!(
                            "running {} of {} replicas demand calls for: {}",
                            cx.replicas(w),
                            wl.replicas_wanted,
                            reasons::block(cx.s, &b)
                        )
                    });
                    cx.plan.pending.push(Pending {
                        workload: w,
                        reason,
                        cause: PendingCause::Quota,
                        reserved_from: None,
                    });
                }
                return;
            }
        };
        let reserved = &cx.reserved;
        let usable = |n: NodeId| reserved[n.ix()].is_none();
        match first_placement(cx, &c.partitions, 1, wl.devices_per_replica, &usable) {
            Some(p) => cx.commit(w, model, &p, class, false),
            None => {
                if wl.kind == WorkloadKind::Inference {
                    let reason = cx.explain(|| {
                        format!(
                            "running {} of {} replicas demand calls for: no free {} device group of {} in its clusters",
                            cx.replicas(w),
                            wl.replicas_wanted,
                            cx.s.catalogue.model(model).name,
                            wl.devices_per_replica
                        )
                    });
                    cx.plan.pending.push(Pending {
                        workload: w,
                        reason,
                        cause: PendingCause::Capacity,
                        reserved_from: None,
                    });
                }
                return;
            }
        }
    }
}
