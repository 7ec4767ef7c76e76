//! The workloads running when a cycle began — the preemption candidates — by model, and by model
//! and tenant with their priorities. Made from what each workload held alone, so it is the same
//! whenever it is made; a caller that keeps it between cycles ([`crate::CycleCache`]) changes it
//! workload by workload rather than making it again.

use crate::allocation::UsageClass;
use crate::holdings::{Held, Initial};
use crate::ids::{ModelId, TenantId, WorkloadId};
use crate::snapshot::Snapshot;

/// The preemption candidates, by model and by (model, tenant).
#[derive(Debug, PartialEq)]
pub(crate) struct Running {
    /// Per model: the workloads running on it, ascending.
    holders: Vec<Vec<WorkloadId>>,
    /// Per model: those of them holding borrowed devices (on any model), ascending.
    borrowers: Vec<Vec<WorkloadId>>,
    /// Per (model, tenant), keyed `model × tenants + tenant`: the tenant's holders with their
    /// priorities, ascending by id.
    by_tenant: Vec<Vec<(i32, WorkloadId)>>,
    tenants: usize,
}

/// Who a running workload is, as the index files it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Holder {
    pub tenant: TenantId,
    pub priority: i32,
}

impl Holder {
    pub fn of(s: &Snapshot, w: WorkloadId) -> Self {
        let wl = &s.workloads[w.ix()];
        Holder { tenant: wl.tenant, priority: wl.priority }
    }
}

impl Running {
    pub fn new(s: &Snapshot, initial: &Initial) -> Self {
        let (models, tenants) = (s.catalogue.models.len(), s.tenants.len());
        let mut running = Running {
            holders: vec![Vec::new(); models],
            borrowers: vec![Vec::new(); models],
            by_tenant: vec![Vec::new(); models * tenants],
            tenants,
        };
        for w in s.workload_ids() {
            let held = initial.of(w);
            if !held.is_empty() {
                running.add(w, Holder::of(s, w), held);
            }
        }
        running
    }

    /// Files a workload holding `held` (some replicas) under each model it runs on.
    pub fn add(&mut self, w: WorkloadId, who: Holder, held: &[Held]) {
        let borrowing = held.iter().any(|h| h.usage == UsageClass::Borrowed);
        for m in models_of(held) {
            insert(&mut self.holders[m.ix()], w);
            if borrowing {
                insert(&mut self.borrowers[m.ix()], w);
            }
            let list = &mut self.by_tenant[m.ix() * self.tenants + who.tenant.ix()];
            let at = list.partition_point(|&(_, v)| v < w);
            list.insert(at, (who.priority, w));
        }
    }

    /// Takes out a workload filed by [`Running::add`] with the same `who` and `held`.
    pub fn remove(&mut self, w: WorkloadId, who: Holder, held: &[Held]) {
        for m in models_of(held) {
            remove(&mut self.holders[m.ix()], w);
            remove(&mut self.borrowers[m.ix()], w);
            let list = &mut self.by_tenant[m.ix() * self.tenants + who.tenant.ix()];
            if let Ok(at) = list.binary_search_by_key(&w, |&(_, v)| v) {
                list.remove(at);
            }
        }
    }

    /// Workloads running on a model, ascending.
    pub fn holders(&self, m: ModelId) -> &[WorkloadId] {
        &self.holders[m.ix()]
    }

    /// Workloads running on a model that hold borrowed devices, ascending.
    pub fn borrowers(&self, m: ModelId) -> &[WorkloadId] {
        &self.borrowers[m.ix()]
    }

    /// A tenant's workloads running on a model with their priorities, ascending by id.
    pub fn of_tenant(&self, m: ModelId, t: TenantId) -> &[(i32, WorkloadId)] {
        &self.by_tenant[m.ix() * self.tenants + t.ix()]
    }
}

/// The models replicas run on, each once, in the order first held.
pub(crate) fn models_of(held: &[Held]) -> impl Iterator<Item = ModelId> + '_ {
    held.iter().enumerate().filter(|&(i, h)| held[..i].iter().all(|e| e.model != h.model)).map(|(_, h)| h.model)
}

/// Inserts into an ascending list; at the end, as a list made in id order is, costs nothing.
fn insert(list: &mut Vec<WorkloadId>, w: WorkloadId) {
    let at = list.partition_point(|&v| v < w);
    list.insert(at, w);
}

fn remove(list: &mut Vec<WorkloadId>, w: WorkloadId) {
    if let Ok(at) = list.binary_search(&w) {
        list.remove(at);
    }
}
