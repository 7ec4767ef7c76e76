//! Admission order: hierarchical weighted dominant-resource fairness.
//!
//! A tenant's share is, over accelerator families, the largest fraction of the family's
//! capability it holds (devices weighted by their model's mean relative throughput), divided by
//! its weight. Each turn descends from the roots to a leaf queue, at every level taking the child
//! with the smallest share that still has waiting work (ties by tenant order). Inside a tenant,
//! workloads go by priority (higher first), then submission time, then snapshot order.
//! With FIFO admission (a baseline), everyone waits in one queue, oldest first.

use crate::fleet_index::FleetIndex;
use crate::holdings::Totals;
use crate::ids::{ModelId, TenantId, WorkloadId};
use crate::policy::Admission;
use crate::quota::Usage;
use crate::snapshot::Snapshot;

pub(crate) struct FairShare<'f> {
    families: usize,
    /// Capability each model's device is worth.
    capability: &'f [f64],
    /// Total capability per family in the fleet.
    total: &'f [f64],
    /// Capability held per tenant (subtree) per family.
    held: Vec<f64>,
    /// Waiting workloads, by tenant, each tenant's best first.
    queue: Vec<WorkloadId>,
    /// Per tenant: what is left of its queue, `queue[next[t]..end[t]]`.
    next: Vec<u32>,
    end: Vec<u32>,
    /// Waiting workloads in each tenant's subtree.
    waiting: Vec<u32>,
    /// With FIFO admission: every waiting workload, oldest first.
    fifo: Option<std::vec::IntoIter<WorkloadId>>,
}

impl<'f> FairShare<'f> {
    pub fn new(
        s: &Snapshot,
        fleet: &'f FleetIndex,
        totals: &Totals,
        waiting: &[WorkloadId],
        admission: Admission,
    ) -> Self {
        let families = s.catalogue.families.len();
        let t = s.tenants.len();
        let mut fs = FairShare {
            families,
            capability: &fleet.capability,
            total: &fleet.total_capability,
            held: vec![0.0; t * families],
            queue: Vec::new(),
            next: vec![0; t],
            end: vec![0; t],
            waiting: vec![0; t],
            fifo: None,
        };
        if admission == Admission::Fifo {
            let mut all = waiting.to_vec();
            all.sort_by_key(|w| (s.workloads[w.ix()].submitted, *w));
            fs.fifo = Some(all.into_iter());
            return fs;
        }
        // From device counts, tenant by tenant and model by model: the shares do not depend on
        // the order the snapshot lists allocations in.
        let models = s.catalogue.models.len();
        for (i, &n) in totals.devices.iter().enumerate() {
            if n > 0 {
                fs.hold(s, TenantId((i / models) as u32), ModelId((i % models) as u32), n);
            }
        }
        // One vector, tenant after tenant, each tenant's part in its order.
        let mut queue = waiting.to_vec();
        queue.sort_unstable_by_key(|w| {
            let wl = &s.workloads[w.ix()];
            (wl.tenant, std::cmp::Reverse(wl.priority), wl.submitted, *w)
        });
        for (i, w) in queue.iter().enumerate() {
            let tenant = s.workloads[w.ix()].tenant;
            if fs.end[tenant.ix()] == 0 {
                fs.next[tenant.ix()] = i as u32;
            }
            fs.end[tenant.ix()] = i as u32 + 1;
            for a in s.tenant_path(tenant) {
                fs.waiting[a.ix()] += 1;
            }
        }
        fs.queue = queue;
        fs
    }

    pub fn hold(&mut self, s: &Snapshot, tenant: TenantId, model: ModelId, n: u32) {
        let f = s.catalogue.model(model).family.ix();
        let c = self.capability[model.ix()] * f64::from(n);
        for t in s.tenant_path(tenant) {
            self.held[t.ix() * self.families + f] += c;
        }
    }

    pub fn release(&mut self, s: &Snapshot, tenant: TenantId, model: ModelId, n: u32) {
        let f = s.catalogue.model(model).family.ix();
        let c = self.capability[model.ix()] * f64::from(n);
        for t in s.tenant_path(tenant) {
            let h = &mut self.held[t.ix() * self.families + f];
            *h = (*h - c).max(0.0);
        }
    }

    fn share(&self, s: &Snapshot, t: TenantId) -> f64 {
        let row = &self.held[t.ix() * self.families..(t.ix() + 1) * self.families];
        let dominant =
            row.iter().zip(self.total).map(|(h, total)| if *total > 0.0 { h / total } else { 0.0 }).fold(0.0, f64::max);
        dominant / f64::from(s.tenants[t.ix()].weight)
    }

    /// The next workload to consider, or `None` when every queue is empty.
    pub fn next(&mut self, s: &Snapshot, usage: &Usage) -> Option<WorkloadId> {
        if let Some(queue) = &mut self.fifo {
            return queue.next();
        }
        let mut level: &[TenantId] = &usage.roots;
        loop {
            let pick = level
                .iter()
                .copied()
                .filter(|t| self.waiting[t.ix()] > 0)
                .min_by(|a, b| self.share(s, *a).total_cmp(&self.share(s, *b)).then(a.cmp(b)))?;
            if self.next[pick.ix()] < self.end[pick.ix()] {
                let w = self.queue[self.next[pick.ix()] as usize];
                self.next[pick.ix()] += 1;
                // A tenant's own workloads compete with its children's subtrees as one more
                // entrant; taking them first keeps the descent short and is deterministic.
                for a in s.tenant_path(pick) {
                    self.waiting[a.ix()] -= 1;
                }
                return Some(w);
            }
            level = &usage.children[pick.ix()];
        }
    }
}
