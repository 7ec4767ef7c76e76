//! Reservations for blocked gangs (EASY backfill): when a gang waits for capacity, find when the
//! running work on its preferred model is expected to end and enough frees up, and reserve the
//! nodes it would use then. Later workloads in the cycle may use reserved nodes only if they are
//! expected to finish before the gang starts, so backfill never delays it past its reservation.

use rust_decimal::prelude::ToPrimitive;

use crate::cycle::Cycle;
use crate::ids::{Seconds, WorkloadId};
use crate::schedule::{Attempt, first_placement};

/// Most reservations made in one cycle: each costs a simulated release of running work.
const MAX_RESERVATIONS: usize = 16;
/// Most running workloads released while looking for a gang's start time.
const MAX_RELEASES: usize = 256;

/// When a running workload is expected to finish, if its work is known.
pub(crate) fn expected_end(cx: &Cycle, v: WorkloadId) -> Option<Seconds> {
    let s = cx.s;
    let vl = &s.workloads[v.ix()];
    let held = &cx.held[v.ix()];
    let first = held.first()?;
    let started = held.iter().map(|h| h.started).min()?;
    let tp =
        vl.accepts.iter().find_map(|a| a.throughput).or(s.catalogue.model(first.model).throughput[vl.class as usize])?;
    let devices: u32 = held.iter().map(|h| h.mask.count_ones()).sum();
    let hours = vl.expected_work? / (f64::from(devices) * tp);
    Some(Seconds(started.0 + (hours * 3600.0).ceil() as i64))
}

/// Reserves capacity for `w`'s gang on its cheapest blocked model, if running work will free it.
pub(crate) fn reserve(cx: &mut Cycle, w: WorkloadId, attempt: &Attempt, replicas: u32) {
    if cx.reservations >= MAX_RESERVATIONS {
        return;
    }
    let s = cx.s;
    let devices = s.workloads[w.ix()].devices_per_replica;
    let Some(c) = attempt
        .candidates
        .iter()
        .filter(|c| attempt.no_room.contains(&c.model))
        .min_by(|a, b| {
            let cost = |c: &&crate::select::Candidate| {
                s.catalogue.model(c.model).price_per_hour.to_f64().unwrap_or(f64::MAX) / c.throughput
            };
            cost(a).total_cmp(&cost(b)).then(a.model.cmp(&b.model))
        })
        .cloned()
    else {
        return;
    };
    let mut ending: Vec<(Seconds, WorkloadId)> = s
        .workload_ids()
        .filter(|&v| v != w && !cx.preempted[v.ix()])
        .filter(|&v| {
            cx.held[v.ix()].iter().any(|h| {
                h.model == c.model && cx.cap.partition_of[h.node.ix()].is_some_and(|p| c.partitions.contains(&p))
            })
        })
        .filter_map(|v| expected_end(cx, v).map(|e| (e, v)))
        .collect();
    ending.sort();
    let mut released = Vec::new();
    let mut found = None;
    for &(end, v) in ending.iter().take(MAX_RELEASES) {
        released.push((v, cx.release(v)));
        let reserved = &cx.reserved;
        if let Some(p) = first_placement(cx, &c.partitions, replicas, devices, &|n| reserved[n.ix()].is_none()) {
            found = Some((end, p));
            break;
        }
    }
    while let Some((v, held)) = released.pop() {
        cx.restore(v, held);
    }
    if let Some((start, placement)) = found {
        for (node, _) in placement.replicas {
            cx.reserved[node.ix()] = Some(start);
        }
        cx.reservations += 1;
        cx.gang_reservation[w.ix()] = Some(start);
    }
}
