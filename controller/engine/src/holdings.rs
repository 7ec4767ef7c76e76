//! What each workload holds during a cycle, and what ran when the cycle began.
//!
//! What ran is built once a cycle from the snapshot's allocations, which run to thousands, so it
//! is flat: every allocation is copied once into one vector grouped by workload ([`Initial`]).
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

/// What each workload held when the cycle began: the snapshot's allocations, grouped by workload
/// (ascending), each workload's in snapshot order.
#[derive(Debug, PartialEq)]
pub(crate) struct Initial {
    /// Workload `w`'s replicas are `held[start[w]..start[w + 1]]`.
    held: Vec<Held>,
    start: Vec<u32>,
}

impl Initial {
    pub fn new(s: &Snapshot) -> Self {
        let workloads = s.workloads.len();
        let mut start = vec![0u32; workloads + 1];
        for a in &s.allocations {
            start[a.workload.ix() + 1] += 1;
        }
        for w in 0..workloads {
            start[w + 1] += start[w];
        }
        // A counting sort by workload, stable: `order[k]` is the allocation that goes `k`th.
        let mut next = start.clone();
        let mut order = vec![0u32; s.allocations.len()];
        for (i, a) in s.allocations.iter().enumerate() {
            order[next[a.workload.ix()] as usize] = i as u32;
            next[a.workload.ix()] += 1;
        }
        let held = order.into_iter().map(|i| Held::of(&s.allocations[i as usize])).collect();
        Initial { held, start }
    }

    /// [`Initial::new`] of `s`, made from this one (of the last cycle's snapshot) when only the
    /// workloads in `changed` (ascending) may hold other allocations than they did, or the same in
    /// another order or with other last checkpoints: the others' are copied, a run at a time.
    pub fn patched(&self, s: &Snapshot, changed: &[WorkloadId]) -> Self {
        let workloads = s.workloads.len();
        let mut is_changed = vec![false; workloads];
        for w in changed.iter().filter(|w| w.ix() < workloads) {
            is_changed[w.ix()] = true;
        }
        // The changed workloads' allocations, by workload and then in snapshot order.
        let mut fresh: Vec<(WorkloadId, u32)> = (s.allocations.iter().enumerate())
            .filter(|(_, a)| is_changed[a.workload.ix()])
            .map(|(i, a)| (a.workload, i as u32))
            .collect();
        fresh.sort_unstable();
        let mut out =
            Initial { held: Vec::with_capacity(s.allocations.len()), start: Vec::with_capacity(workloads + 1) };
        out.start.push(0);
        let (mut copied_to, mut next) = (0, 0);
        for &w in changed.iter().filter(|w| w.ix() < workloads) {
            self.copy_into(&mut out, copied_to..w.ix());
            while let Some(&(_, i)) = fresh.get(next).filter(|(v, _)| *v == w) {
                out.held.push(Held::of(&s.allocations[i as usize]));
                next += 1;
            }
            out.start.push(out.held.len() as u32);
            copied_to = w.ix() + 1;
        }
        self.copy_into(&mut out, copied_to..workloads);
        out
    }

    /// Appends what `workloads` held here to `out`.
    fn copy_into(&self, out: &mut Initial, workloads: std::ops::Range<usize>) {
        let start_of = |w: usize| self.start[w.min(self.workloads())];
        let (from, base) = (start_of(workloads.start), out.held.len() as u32);
        out.held.extend_from_slice(&self.held[from as usize..start_of(workloads.end) as usize]);
        out.start.extend(workloads.map(|w| start_of(w + 1) - from + base));
    }

    /// Workloads it covers: ids `0..workloads()`.
    pub fn workloads(&self) -> usize {
        self.start.len() - 1
    }

    /// How many replicas each workload held, by id.
    pub fn counts(&self) -> impl Iterator<Item = u32> + '_ {
        self.start.windows(2).map(|w| w[1] - w[0])
    }

    /// Workloads that held something.
    pub fn running(&self) -> usize {
        self.start.windows(2).filter(|w| w[0] < w[1]).count()
    }

    /// What a workload held.
    pub fn of(&self, w: WorkloadId) -> &[Held] {
        &self.held[self.start[w.ix()] as usize..self.start[w.ix() + 1] as usize]
    }

    /// What a workload held; nothing for one it does not cover.
    pub fn of_any(&self, w: WorkloadId) -> &[Held] {
        if w.ix() < self.workloads() { self.of(w) } else { &[] }
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
            slot: vec![UNCHANGED; workloads],
            changed: Vec::new(),
            owners: Vec::new(),
        }
    }

    /// What a workload held when the cycle began.
    pub fn initial(&self, w: WorkloadId) -> &'a [Held] {
        &self.initial[self.start[w.ix()] as usize..self.start[w.ix() + 1] as usize]
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
