//! What each workload holds during a cycle, and what ran when the cycle began.
//!
//! Both are built once a cycle from the snapshot's allocations, which run to thousands, so they
//! are flat: every allocation is copied once into one vector grouped by workload, and only a
//! workload whose holdings change during the cycle (it is bound, or released as a possible victim)
//! gets a list of its own.

use std::ops::Index;

use crate::allocation::UsageClass;
use crate::ids::{ModelId, NodeId, Seconds, TenantId, WorkloadId};
use crate::snapshot::Snapshot;

/// A replica's devices as the cycle tracks them.
#[derive(Clone, Debug)]
pub(crate) struct Held {
    pub replica: u32,
    pub node: NodeId,
    pub mask: u64,
    pub model: ModelId,
    pub usage: UsageClass,
    pub started: Seconds,
    pub last_checkpoint: Option<Seconds>,
}

/// What each workload holds: running allocations plus this cycle's binds, less what was released.
/// Indexed by workload: `holdings[w]` is `w`'s replicas, in the order they were recorded.
pub(crate) struct Holdings {
    /// The snapshot's allocations, grouped by workload (ascending), each workload's in snapshot
    /// order: workload `w`'s are `initial[start[w]..start[w + 1]]`.
    initial: Vec<Held>,
    start: Vec<u32>,
    /// Per workload: [`UNCHANGED`], or where its list is in `changed` once its holdings changed.
    slot: Vec<u32>,
    changed: Vec<Vec<Held>>,
    /// The workload of each list in `changed`.
    owners: Vec<WorkloadId>,
}

const UNCHANGED: u32 = u32::MAX;

impl Holdings {
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
        let initial = order
            .into_iter()
            .map(|i| {
                let a = &s.allocations[i as usize];
                Held {
                    replica: a.replica,
                    node: a.node,
                    mask: a.devices,
                    model: a.model,
                    usage: a.usage,
                    started: a.started,
                    last_checkpoint: a.last_checkpoint,
                }
            })
            .collect();
        Holdings { initial, start, slot: vec![UNCHANGED; workloads], changed: Vec::new(), owners: Vec::new() }
    }

    /// What a workload held when the cycle began.
    pub fn initial(&self, w: WorkloadId) -> &[Held] {
        &self.initial[self.start[w.ix()] as usize..self.start[w.ix() + 1] as usize]
    }

    /// Every replica held when the cycle began.
    pub fn all_initial(&self) -> &[Held] {
        &self.initial
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

impl Index<WorkloadId> for Holdings {
    type Output = [Held];

    fn index(&self, w: WorkloadId) -> &[Held] {
        match self.slot[w.ix()] {
            UNCHANGED => self.initial(w),
            slot => &self.changed[slot as usize],
        }
    }
}

/// The workloads running when the cycle began — the preemption candidates — by model. Made from
/// the snapshot's allocations alone, so it is the same whenever it is made: a cycle makes it on
/// first use, as most cycles never look for a victim.
pub(crate) struct Running {
    /// Per model: the workloads running on it, ascending.
    holders: Lists<WorkloadId>,
    /// Per model: those of them holding borrowed devices (on any model), ascending.
    borrowers: Lists<WorkloadId>,
    /// Per (model, tenant), keyed `model × tenants + tenant`: the tenant's holders with their
    /// priorities, ascending by id.
    by_tenant: Lists<(i32, WorkloadId)>,
    tenants: usize,
}

impl Running {
    pub fn new(s: &Snapshot, holdings: &Holdings) -> Self {
        let (models, tenants) = (s.catalogue.models.len(), s.tenants.len());
        // (model, workload, tenant, priority) for each model a workload runs on, in workload order.
        let mut held: Vec<(usize, WorkloadId, usize, i32)> = Vec::new();
        let mut borrowing = Vec::new();
        for (w, wl) in s.workload_ids().zip(&s.workloads) {
            let replicas = holdings.initial(w);
            if replicas.is_empty() {
                continue;
            }
            let first = held.len();
            for h in replicas {
                if !held[first..].iter().any(|&(m, ..)| m == h.model.ix()) {
                    held.push((h.model.ix(), w, wl.tenant.ix(), wl.priority));
                }
            }
            if replicas.iter().any(|h| h.usage == UsageClass::Borrowed) {
                borrowing.extend(held[first..].iter().map(|&(m, w, ..)| (m, w)));
            }
        }
        Running {
            holders: Lists::new(models, held.iter().map(|&(m, w, ..)| (m, w))),
            borrowers: Lists::new(models, borrowing.iter().copied()),
            by_tenant: Lists::new(models * tenants, held.iter().map(|&(m, w, t, p)| (m * tenants + t, (p, w)))),
            tenants,
        }
    }

    /// Workloads running on a model, ascending.
    pub fn holders(&self, m: ModelId) -> &[WorkloadId] {
        self.holders.get(m.ix())
    }

    /// Workloads running on a model that hold borrowed devices, ascending.
    pub fn borrowers(&self, m: ModelId) -> &[WorkloadId] {
        self.borrowers.get(m.ix())
    }

    /// A tenant's workloads running on a model with their priorities, ascending by id.
    pub fn of_tenant(&self, m: ModelId, t: TenantId) -> &[(i32, WorkloadId)] {
        self.by_tenant.get(m.ix() * self.tenants + t.ix())
    }
}

/// Lists keyed by a dense index, stored end to end.
struct Lists<T> {
    items: Vec<T>,
    /// List `k` is `items[start[k]..start[k + 1]]`.
    start: Vec<u32>,
}

impl<T: Copy> Lists<T> {
    /// From (key, item) pairs, every key below `keys`; each list keeps the pairs' order.
    fn new(keys: usize, pairs: impl Iterator<Item = (usize, T)> + Clone) -> Self {
        let mut start = vec![0u32; keys + 1];
        for (k, _) in pairs.clone() {
            start[k + 1] += 1;
        }
        for k in 0..keys {
            start[k + 1] += start[k];
        }
        let mut next = start.clone();
        // Every slot is written below; the first item only fills them until then.
        let mut items = match pairs.clone().next() {
            Some((_, first)) => vec![first; start[keys] as usize],
            None => Vec::new(),
        };
        for (k, w) in pairs {
            items[next[k] as usize] = w;
            next[k] += 1;
        }
        Lists { items, start }
    }

    fn get(&self, key: usize) -> &[T] {
        &self.items[self.start[key] as usize..self.start[key + 1] as usize]
    }
}
