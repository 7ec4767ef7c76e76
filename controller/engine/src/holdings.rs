//! What each workload holds during a cycle, and what ran when the cycle began.
//!
//! What ran comes from the snapshot's allocations, which run to thousands, so it is flat: one
//! vector with a run of replicas per workload ([`Initial`]), made afresh or, by a caller that keeps
//! it between cycles, changed for the workloads that changed.
//! During the cycle only a workload whose holdings change (it is bound, or released as a possible
//! victim) gets a list of its own ([`Holdings`]).

use std::ops::Index;

use crate::allocation::UsageClass;
use crate::ids::{ModelId, NodeId, Seconds, TenantId, WorkloadId};
use crate::snapshot::Snapshot;

/// A replica's devices as the cycle tracks them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Held {
    pub replica: u32,
    pub node: NodeId,
    pub mask: u64,
    pub model: ModelId,
    pub usage: UsageClass,
    pub started: Seconds,
    pub last_checkpoint: Option<Seconds>,
}

impl Held {
    fn of(a: &crate::allocation::Allocation) -> Self {
        Held {
            replica: a.replica,
            node: a.node,
            mask: a.devices,
            model: a.model,
            usage: a.usage,
            started: a.started,
            last_checkpoint: a.last_checkpoint,
        }
    }

    /// Whether two replicas are the same run of the same devices (the last checkpoint aside).
    pub fn same_run(&self, other: &Held) -> bool {
        (self.replica, self.node, self.mask, self.model, self.usage, self.started)
            == (other.replica, other.node, other.mask, other.model, other.usage, other.started)
    }
}

/// What each workload held when the cycle began: the snapshot's allocations, grouped by workload,
/// each workload's in snapshot order. Kept from cycle to cycle, it is changed in place for the
/// workloads that changed ([`Initial::patch`]): a workload's replicas are one run of a flat vector,
/// rewritten where they were when they fit there and appended otherwise; the runs no workload
/// holds any more are dropped together once they are half the vector.
#[derive(Debug)]
pub(crate) struct Initial {
    /// Workload `w`'s replicas are `held[start[w]..start[w] + count[w]]`.
    held: Vec<Held>,
    start: Vec<u32>,
    count: Vec<u32>,
    /// Replicas the workloads hold: `held` less what no workload's run covers.
    live: usize,
}

/// What the workloads a patch changed held before it, ascending by workload.
#[derive(Debug, Default)]
pub(crate) struct Replaced {
    held: Vec<Held>,
    /// Each workload with where its replicas end in `held`.
    ends: Vec<(WorkloadId, u32)>,
}

impl Replaced {
    /// Every workload's holdings in `initial`.
    pub fn all(initial: &Initial) -> Self {
        let mut out = Replaced::default();
        for w in 0..initial.workloads() {
            out.push(WorkloadId(w as u32), initial.of(WorkloadId(w as u32)));
        }
        out
    }

    fn push(&mut self, w: WorkloadId, held: &[Held]) {
        self.held.extend_from_slice(held);
        self.ends.push((w, self.held.len() as u32));
    }

    /// What a workload held; nothing for one it does not list.
    pub fn of(&self, w: WorkloadId) -> &[Held] {
        match self.ends.binary_search_by_key(&w, |&(v, _)| v) {
            Ok(i) => {
                let from = if i == 0 { 0 } else { self.ends[i - 1].1 };
                &self.held[from as usize..self.ends[i].1 as usize]
            }
            Err(_) => &[],
        }
    }
}

impl Initial {
    pub fn new(s: &Snapshot) -> Self {
        let workloads = s.workloads.len();
        let mut count = vec![0u32; workloads];
        for a in &s.allocations {
            count[a.workload.ix()] += 1;
        }
        let mut start = Vec::with_capacity(workloads);
        let mut next = 0;
        for &n in &count {
            start.push(next);
            next += n;
        }
        // A counting sort by workload, stable: `order[k]` is the allocation that goes `k`th.
        let mut at = start.clone();
        let mut order = vec![0u32; s.allocations.len()];
        for (i, a) in s.allocations.iter().enumerate() {
            order[at[a.workload.ix()] as usize] = i as u32;
            at[a.workload.ix()] += 1;
        }
        let held = order.into_iter().map(|i| Held::of(&s.allocations[i as usize])).collect();
        Initial { held, start, count, live: s.allocations.len() }
    }

    /// Makes this (of the last cycle's snapshot) [`Initial::new`] of `s`, when only the workloads
    /// in `changed` (ascending, each once) may hold other allocations than they did, or the same
    /// in another order or with other last checkpoints; returns what those held before.
    pub fn patch(&mut self, s: &Snapshot, changed: &[WorkloadId]) -> Replaced {
        let workloads = s.workloads.len();
        let changed = &changed[..changed.partition_point(|w| w.ix() < workloads)];
        let mut is_changed = vec![false; workloads];
        for w in changed {
            is_changed[w.ix()] = true;
        }
        // The changed workloads' allocations, by workload and then in snapshot order.
        let mut fresh: Vec<(WorkloadId, u32)> = (s.allocations.iter().enumerate())
            .filter(|(_, a)| is_changed[a.workload.ix()])
            .map(|(i, a)| (a.workload, i as u32))
            .collect();
        fresh.sort_unstable();
        for w in workloads..self.workloads() {
            self.live -= self.count[w] as usize;
        }
        self.start.resize(workloads, 0);
        self.count.resize(workloads, 0);
        let mut before = Replaced::default();
        let mut next = 0;
        for &w in changed {
            before.push(w, self.of(w));
            let first = next;
            while fresh.get(next).is_some_and(|&(v, _)| v == w) {
                next += 1;
            }
            let new = fresh[first..next].iter().map(|&(_, i)| Held::of(&s.allocations[i as usize]));
            let (n, old) = ((next - first) as u32, self.count[w.ix()]);
            if n <= old {
                let at = self.start[w.ix()] as usize;
                for (slot, h) in self.held[at..].iter_mut().zip(new) {
                    *slot = h;
                }
            } else {
                self.start[w.ix()] = self.held.len() as u32;
                self.held.extend(new);
            }
            self.count[w.ix()] = n;
            self.live = self.live + n as usize - old as usize;
        }
        // Debug builds compact whenever there is anything to drop, so tests and checked runs go
        // this way often.
        let wasted = self.held.len() - self.live;
        if wasted > self.live + 1024 || (cfg!(debug_assertions) && wasted > 0) {
            self.compact();
        }
        before
    }

    /// Drops what no workload holds, keeping the workloads in order.
    fn compact(&mut self) {
        let mut held = Vec::with_capacity(self.live);
        for (start, &count) in self.start.iter_mut().zip(&self.count) {
            let from = *start as usize;
            *start = held.len() as u32;
            held.extend_from_slice(&self.held[from..from + count as usize]);
        }
        self.held = held;
    }

    /// Workloads it covers: ids `0..workloads()`.
    pub fn workloads(&self) -> usize {
        self.start.len()
    }

    /// How many replicas each workload held, by id.
    pub fn counts(&self) -> impl Iterator<Item = u32> + '_ {
        self.count.iter().copied()
    }

    /// Workloads that held something.
    pub fn running(&self) -> usize {
        self.count.iter().filter(|&&n| n > 0).count()
    }

    /// What a workload held.
    pub fn of(&self, w: WorkloadId) -> &[Held] {
        let from = self.start[w.ix()] as usize;
        &self.held[from..from + self.count[w.ix()] as usize]
    }

    /// What a workload held; nothing for one it does not cover.
    pub fn of_any(&self, w: WorkloadId) -> &[Held] {
        if w.ix() < self.workloads() { self.of(w) } else { &[] }
    }
}

/// The same holdings, wherever in its vector each workload's run is.
impl PartialEq for Initial {
    fn eq(&self, other: &Self) -> bool {
        self.workloads() == other.workloads()
            && (0..self.workloads() as u32).all(|w| self.of(WorkloadId(w)) == other.of(WorkloadId(w)))
    }
}

/// What the running work holds in all: non-tidal devices per (tenant, model), the tenant's own
/// (what quota usage and fair shares start from; tidal devices count for their lender), and held
/// devices per node (what free capacity starts from).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Totals {
    models: usize,
    /// Keyed `tenant × models + model`.
    pub devices: Vec<u32>,
    pub nodes: Vec<u64>,
}

impl Totals {
    pub fn new(s: &Snapshot, initial: &Initial) -> Self {
        let models = s.catalogue.models.len();
        let mut totals = Totals { models, devices: vec![0; s.tenants.len() * models], nodes: vec![0; s.nodes.len()] };
        for w in s.workload_ids() {
            let held = initial.of(w);
            if !held.is_empty() {
                totals.add(s.workloads[w.ix()].tenant, held);
            }
        }
        totals
    }

    /// Counts a tenant's replicas in.
    pub fn add(&mut self, tenant: TenantId, held: &[Held]) {
        for h in held {
            if h.usage != UsageClass::Tidal {
                self.devices[tenant.ix() * self.models + h.model.ix()] += h.mask.count_ones();
            }
            self.nodes[h.node.ix()] |= h.mask;
        }
    }

    /// Counts out replicas counted in by [`Totals::add`]; no device is held twice, so their
    /// devices are free again.
    pub fn remove(&mut self, tenant: TenantId, held: &[Held]) {
        for h in held {
            if h.usage != UsageClass::Tidal {
                self.devices[tenant.ix() * self.models + h.model.ix()] -= h.mask.count_ones();
            }
            self.nodes[h.node.ix()] &= !h.mask;
        }
    }
}

/// What each workload holds: running allocations plus this cycle's binds, less what was released.
/// Indexed by workload: `holdings[w]` is `w`'s replicas, in the order they were recorded.
pub(crate) struct Holdings<'a> {
    /// [`Initial`]'s vectors, borrowed as slices: reading one is the hottest path of a search.
    initial: &'a [Held],
    start: &'a [u32],
    count: &'a [u32],
    /// Per workload: [`UNCHANGED`], or where its list is in `changed` once its holdings changed.
    slot: Vec<u32>,
    changed: Vec<Vec<Held>>,
    /// The workload of each list in `changed`.
    owners: Vec<WorkloadId>,
}

const UNCHANGED: u32 = u32::MAX;

impl<'a> Holdings<'a> {
    /// Holdings of `workloads` workloads that held `initial` when the cycle began.
    pub fn new(initial: &'a Initial, workloads: usize) -> Self {
        Holdings {
            initial: &initial.held,
            start: &initial.start,
            count: &initial.count,
            slot: vec![UNCHANGED; workloads],
            changed: Vec::new(),
            owners: Vec::new(),
        }
    }

    /// What a workload held when the cycle began.
    pub fn initial(&self, w: WorkloadId) -> &'a [Held] {
        let from = self.start[w.ix()] as usize;
        &self.initial[from..from + self.count[w.ix()] as usize]
    }

    /// Workloads whose holdings changed this cycle (bound, or released and perhaps restored);
    /// every other holds what it held when the cycle began.
    pub fn changed_workloads(&self) -> &[WorkloadId] {
        &self.owners
    }

    /// A workload's own list, made from what it held at the start on first change.
    fn own(&mut self, w: WorkloadId) -> &mut Vec<Held> {
        if self.slot[w.ix()] == UNCHANGED {
            self.slot[w.ix()] = self.changed.len() as u32;
            let list = self.initial(w).to_vec();
            self.changed.push(list);
            self.owners.push(w);
        }
        &mut self.changed[self.slot[w.ix()] as usize]
    }

    /// Records one more replica.
    pub fn push(&mut self, w: WorkloadId, held: Held) {
        self.own(w).push(held);
    }

    /// Takes everything a workload holds, leaving it nothing.
    pub fn take(&mut self, w: WorkloadId) -> Vec<Held> {
        std::mem::take(self.own(w))
    }

    /// Sets what a workload holds.
    pub fn set(&mut self, w: WorkloadId, held: Vec<Held>) {
        *self.own(w) = held;
    }
}

impl Index<WorkloadId> for Holdings<'_> {
    type Output = [Held];

    fn index(&self, w: WorkloadId) -> &[Held] {
        match self.slot[w.ix()] {
            UNCHANGED => self.initial(w),
            slot => &self.changed[slot as usize],
        }
    }
}
