//! Reservations for blocked gangs (EASY backfill, per partition): when a gang waits for capacity,
//! find when the running work on its preferred model is expected to end and enough frees up, and
//! reserve the nodes it would use then. Later workloads in the cycle may use reserved nodes only if
//! they are expected to finish before the gang starts, so backfill never delays it past its
//! reservation. As EASY backfill reserves for the job at the head of the queue alone, one gang a
//! cycle reserves in a partition (the nodes of one cluster and model), the first that finds a
//! start there: a gang whose partitions a reservation of this cycle already covers waits without
//! one, and one that reserves covers every partition it searched. (The gangs behind it
//! would be given later starts, and each search releases running work until the gang fits, about
//! fifty workloads on the simulator's busy fleets.)

use std::cell::OnceCell;

use rust_decimal::prelude::ToPrimitive;

use crate::capacity::Capacity;
use crate::cycle::Cycle;
use crate::fleet_index::FleetIndex;
use crate::holdings::{Held, Initial};
use crate::ids::{ModelId, NodeId, Seconds, WorkloadId};
use crate::place::scaling_efficiency;
use crate::running::{Running, models_of};
use crate::schedule::{Attempt, first_placement};
use crate::snapshot::Snapshot;

/// Most running workloads released while looking for a gang's start time.
const MAX_RELEASES: usize = 256;

/// When a running workload is expected to finish, if its work is known.
pub(crate) fn expected_end(cx: &Cycle, v: WorkloadId) -> Option<Seconds> {
    expected_end_of(cx.s, v, &cx.held[v])
}

/// When a workload holding `held` is expected to finish, if its work is known: at the speed the
/// engine assumed when it placed the gang, scaling efficiency over its nodes included.
pub(crate) fn expected_end_of(s: &Snapshot, v: WorkloadId, held: &[Held]) -> Option<Seconds> {
    let vl = &s.workloads[v.ix()];
    let work = vl.expected_work?;
    let first = held.first()?;
    let started = held.iter().map(|h| h.started).min()?;
    let tp =
        vl.accepts.iter().find_map(|a| a.throughput).or(s.catalogue.model(first.model).throughput[vl.class as usize])?;
    let devices: u32 = held.iter().map(|h| h.mask.count_ones()).sum();
    let hours = work / (f64::from(devices) * tp * efficiency_of(s, held));
    Some(Seconds(started.0 + (hours * 3600.0).ceil() as i64))
}

/// The scaling efficiency of a gang holding `held`, by its nodes and interconnect groups.
fn efficiency_of(s: &Snapshot, held: &[Held]) -> f64 {
    let distinct = |key: &dyn Fn(&Held) -> u32| {
        (0..held.len()).filter(|&i| held[..i].iter().all(|e| key(e) != key(&held[i]))).count() as u32
    };
    scaling_efficiency(distinct(&|h| h.node.0), distinct(&|h| s.group_of(h.node).0))
}

/// Per model, the work running on it when the cycle began with a known end, soonest first, each
/// with the model's partitions it runs in, made on first use: a cycle may look for the start of
/// a dozen blocked gangs, each over the same running work. (Only for models of at most 64
/// partitions, one bit each in the order of [`Capacity::by_model`](crate::capacity::Capacity).)
/// A caller that keeps it between cycles ([`crate::CycleCache`]) changes the lists made so far
/// workload by workload.
pub(crate) struct Endings(Vec<OnceCell<Vec<Ending>>>);

/// A workload running when the cycle began, and when it is expected to end.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Ending {
    end: Seconds,
    workload: WorkloadId,
    /// The model's partitions it holds devices of the model in, as bits.
    partitions: u64,
}

impl Endings {
    pub fn new(models: usize) -> Self {
        Endings(vec![OnceCell::new(); models])
    }

    /// The work running on `m` when the cycle began with a known end, or `None` when the model
    /// has too many partitions to say where as bits.
    fn of<'e>(&'e self, cx: &Cycle, m: ModelId) -> Option<&'e [Ending]> {
        if cx.fleet.by_model[m.ix()].len() > 64 {
            return None;
        }
        Some(self.0[m.ix()].get_or_init(|| list(cx.s, cx.fleet, cx.running(), cx.initial, m)))
    }

    /// Files a workload that holds `held` and is expected to end at `end` in the lists made so
    /// far (the others will find it when they are made).
    pub fn add(&mut self, fleet: &FleetIndex, w: WorkloadId, end: Seconds, held: &[Held]) {
        for m in models_of(held) {
            if let Some(list) = self.0[m.ix()].get_mut() {
                let partitions = partitions_of(fleet, m, held);
                if partitions != 0 {
                    let at = list.partition_point(|e| (e.end, e.workload) < (end, w));
                    list.insert(at, Ending { end, workload: w, partitions });
                }
            }
        }
    }

    /// Takes out a workload filed by [`Endings::add`] with the same `end` and `held`.
    pub fn remove(&mut self, w: WorkloadId, end: Seconds, held: &[Held]) {
        for m in models_of(held) {
            if let Some(list) = self.0[m.ix()].get_mut()
                && let Ok(at) = list.binary_search_by_key(&(end, w), |e| (e.end, e.workload))
            {
                list.remove(at);
            }
        }
    }

    /// Checks every list made so far against one made afresh (debug builds).
    pub fn check(&self, s: &Snapshot, fleet: &FleetIndex, running: &Running, initial: &Initial) {
        for (m, cell) in self.0.iter().enumerate() {
            if let Some(kept) = cell.get() {
                let m = ModelId(m as u32);
                debug_assert!(*kept == list(s, fleet, running, initial, m), "kept endings of model {m:?} went stale");
            }
        }
    }
}

/// [`Endings::of`] made afresh.
fn list(s: &Snapshot, fleet: &FleetIndex, running: &Running, initial: &Initial, m: ModelId) -> Vec<Ending> {
    let mut list: Vec<Ending> = Vec::new();
    for &v in running.holders(m) {
        let held = initial.of(v);
        let Some(end) = expected_end_of(s, v, held) else { continue };
        let partitions = partitions_of(fleet, m, held);
        if partitions != 0 {
            list.push(Ending { end, workload: v, partitions });
        }
    }
    list.sort_unstable_by_key(|e| (e.end, e.workload));
    list
}

/// The partitions of model `m` that replicas of it in `held` run in, as bits in the order of
/// the model's partitions.
fn partitions_of(fleet: &FleetIndex, m: ModelId, held: &[Held]) -> u64 {
    let parts = &fleet.by_model[m.ix()];
    held.iter()
        .filter(|h| h.model == m)
        .filter_map(|h| fleet.partition_of(h.node))
        .filter_map(|p| parts.iter().position(|&q| q == p))
        .fold(0, |bits, i| bits | 1 << i)
}

/// Reserves capacity for `w`'s gang on its cheapest blocked model, if running work will free it,
/// and says from when.
pub(crate) fn reserve(cx: &mut Cycle, w: WorkloadId, attempt: &Attempt, replicas: u32) -> Option<Seconds> {
    let s = cx.s;
    let devices = s.workloads[w.ix()].devices_per_replica;
    let c = attempt
        .candidates
        .iter()
        .filter(|c| attempt.no_room.contains(&c.model))
        .min_by(|a, b| {
            let cost = |c: &&crate::select::Candidate| {
                s.catalogue.model(c.model).price_per_hour.to_f64().unwrap_or(f64::MAX) / c.throughput
            };
            cost(a).total_cmp(&cost(b)).then(a.model.cmp(&b.model))
        })
        .cloned()?;
    if c.partitions.iter().any(|&p| cx.reserved_partitions[p]) {
        return None;
    }
    // Whoever runs on the model now either ran on it when the cycle began or was bound to it
    // since. Those whose holdings are as they were (never bound; any release undone) are known
    // from the cycle's start; the others are looked at as they are now.
    let index = cx.endings.of(cx, c.model);
    let parts = cx.cap.by_model(c.model);
    let wanted: u64 = c.partitions.iter().filter_map(|p| parts.iter().position(|q| q == p)).fold(0, |b, i| b | 1 << i);
    let as_they_were =
        |v: WorkloadId| index.is_some() && !cx.bound[v.ix()] && cx.held[v].len() == cx.held.initial(v).len();
    let known = index
        .unwrap_or_default()
        .iter()
        .filter(|e| e.partitions & wanted != 0 && e.workload != w && !cx.preempted[e.workload.ix()])
        .filter(|e| as_they_were(e.workload))
        .map(|e| (e.end, e.workload));
    // The others: without an index every holder; with one, those whose holdings changed (the
    // rest are as they were), and those bound to the model since.
    let holders: &[WorkloadId] =
        if index.is_some() { cx.held.changed_workloads() } else { cx.running().holders(c.model) };
    let bound = cx.plan.binds.iter().filter(|b| b.model == c.model).map(|b| b.workload);
    let mut others: Vec<(Seconds, WorkloadId)> = holders
        .iter()
        .copied()
        .filter(|&v| cx.held.initial(v).iter().any(|h| h.model == c.model) && !as_they_were(v))
        .chain(bound)
        .filter(|&v| v != w && !cx.preempted[v.ix()])
        .filter(|&v| {
            cx.held[v]
                .iter()
                .any(|h| h.model == c.model && cx.cap.partition_of(h.node).is_some_and(|p| c.partitions.contains(&p)))
        })
        .filter_map(|v| expected_end(cx, v).map(|e| (e, v)))
        .collect();
    others.sort_unstable();
    others.dedup(); // bound this cycle as well as running before: listed twice
    let ending = merged(known, &others);
    // Only free capacity decides where the gang would go, so the search frees devices and puts
    // them back without touching quota usage or fair shares. A placement is tried only once the
    // unreserved nodes of its partitions could hold the gang's replicas (what any placement
    // needs), a count kept as work is released.
    let in_partitions = |cap: &Capacity, n: NodeId| cap.partition_of(n).is_some_and(|p| c.partitions.contains(&p));
    let reserved_slots: u32 =
        cx.reserved_nodes.iter().filter(|&&n| in_partitions(&cx.cap, n)).map(|&n| cx.cap.free_count(n) / devices).sum();
    let mut slots = c.partitions.iter().map(|&p| cx.cap.replica_slots(p, devices)).sum::<u32>() - reserved_slots;
    let mut undo = cx.cap.undo_point();
    let mut found = None;
    for (end, v) in ending.take(MAX_RELEASES) {
        for h in &cx.held[v] {
            let before = cx.cap.free_count(h.node) / devices;
            cx.cap.give_undoably(h.node, h.mask, &mut undo);
            if cx.reserved[h.node.ix()].is_none() && in_partitions(&cx.cap, h.node) {
                slots += cx.cap.free_count(h.node) / devices - before;
            }
        }
        if slots < replicas {
            continue;
        }
        let reserved = &cx.reserved;
        if let Some(p) = first_placement(cx, &c.partitions, replicas, devices, &|n| reserved[n.ix()].is_none()) {
            found = Some((end, p));
            break;
        }
    }
    cx.cap.undo(undo);
    let (start, placement) = found?;
    for (node, _) in placement.replicas {
        if cx.reserved[node.ix()].is_none() {
            cx.reserved_nodes.push(node);
        }
        cx.reserved[node.ix()] = Some(start);
    }
    for &p in &c.partitions {
        cx.reserved_partitions[p] = true;
    }
    Some(start)
}

/// Two ascending sequences, with nothing in both, as one, taken as far as it is read: the search
/// usually stops long before the end of the running work.
fn merged<'a>(
    a: impl Iterator<Item = (Seconds, WorkloadId)> + 'a,
    b: &'a [(Seconds, WorkloadId)],
) -> impl Iterator<Item = (Seconds, WorkloadId)> + 'a {
    let (mut a, mut b) = (a.peekable(), b.iter().copied().peekable());
    std::iter::from_fn(move || match (a.peek(), b.peek()) {
        (Some(x), Some(y)) if x < y => a.next(),
        (Some(_), None) => a.next(),
        _ => b.next(),
    })
}
