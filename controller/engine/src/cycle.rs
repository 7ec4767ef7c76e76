//! One scheduling cycle's mutable state — free capacity, quota usage, fair shares, what each
//! workload runs — and the primitives that change it together, so the three never disagree.

use crate::allocation::UsageClass;
use crate::capacity::Capacity;
use crate::fairshare::FairShare;
use crate::ids::{ModelId, NodeId, Seconds, WorkloadId};
use crate::mask::{devices_of, mask_of};
use crate::place::Placement;
use crate::plan::{Bind, Plan};
use crate::policy::Policy;
use crate::quota::Usage;
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

pub(crate) struct Cycle<'a> {
    pub s: &'a Snapshot,
    pub policy: &'a Policy,
    pub now: Seconds,
    pub cap: Capacity,
    pub usage: Usage,
    pub fair: FairShare,
    /// What each workload holds (running allocations plus this cycle's binds).
    pub held: Vec<Vec<Held>>,
    /// Workloads preempted this cycle.
    pub preempted: Vec<bool>,
    /// Workloads given binds this cycle.
    pub bound: Vec<bool>,
    /// Per node: a blocked gang's reservation, with the time it expects to start.
    pub reserved: Vec<Option<Seconds>>,
    /// Reservations made this cycle.
    pub reservations: usize,
    /// Per workload: when its reservation expects it to start.
    pub gang_reservation: Vec<Option<Seconds>>,
    /// Per model: workloads running on it when the cycle began (the preemption candidates).
    pub holders: Vec<Vec<WorkloadId>>,
    /// Per model: those of them holding borrowed devices.
    pub borrowers: Vec<Vec<WorkloadId>>,
    /// Per (model, tenant): those of them owned by the tenant, lowest priority first.
    pub by_tenant: std::collections::BTreeMap<(ModelId, crate::ids::TenantId), Vec<WorkloadId>>,
    pub plan: Plan,
}

impl<'a> Cycle<'a> {
    pub fn new(s: &'a Snapshot, policy: &'a Policy, now: Seconds) -> Self {
        let mut held = vec![Vec::new(); s.workloads.len()];
        for a in &s.allocations {
            let mask = mask_of(&a.devices);
            held[a.workload.ix()].push(Held {
                replica: a.replica,
                node: a.node,
                mask,
                model: a.model,
                usage: a.usage,
                started: a.started,
                last_checkpoint: a.last_checkpoint,
            });
        }
        let waiting: Vec<WorkloadId> = s
            .workload_ids()
            .filter(|w| {
                let wl = &s.workloads[w.ix()];
                (held[w.ix()].len() as u32) < wl.replicas_min.max(wl.replicas_wanted)
            })
            .collect();
        let mut holders = vec![Vec::new(); s.catalogue.models.len()];
        for a in &s.allocations {
            let list: &mut Vec<WorkloadId> = &mut holders[a.model.ix()];
            if list.last() != Some(&a.workload) && !list.contains(&a.workload) {
                list.push(a.workload);
            }
        }
        for list in &mut holders {
            list.sort();
        }
        let mut borrowers = vec![Vec::new(); holders.len()];
        let mut by_tenant: std::collections::BTreeMap<_, Vec<WorkloadId>> = Default::default();
        for (m, list) in holders.iter().enumerate() {
            for &w in list {
                if held[w.ix()].iter().any(|h| h.usage == UsageClass::Borrowed) {
                    borrowers[m].push(w);
                }
                by_tenant.entry((ModelId(m as u32), s.workloads[w.ix()].tenant)).or_default().push(w);
            }
        }
        for list in by_tenant.values_mut() {
            list.sort_by_key(|w| (s.workloads[w.ix()].priority, *w));
        }
        let usage = Usage::new(s);
        let fair = FairShare::new(s, &waiting, policy.admission);
        Cycle {
            s,
            policy,
            now,
            cap: Capacity::new(s),
            usage,
            fair,
            held,
            preempted: vec![false; s.workloads.len()],
            bound: vec![false; s.workloads.len()],
            reserved: vec![None; s.nodes.len()],
            reservations: 0,
            gang_reservation: vec![None; s.workloads.len()],
            holders,
            borrowers,
            by_tenant,
            plan: Plan::default(),
        }
    }

    /// Replicas a workload holds now.
    pub fn replicas(&self, w: WorkloadId) -> u32 {
        self.held[w.ix()].len() as u32
    }

    /// Takes the devices of a placement for a workload and records the binds.
    pub fn commit(
        &mut self,
        w: WorkloadId,
        model: ModelId,
        placement: &Placement,
        usage: UsageClass,
        after_preemption: bool,
    ) {
        let wl = &self.s.workloads[w.ix()];
        self.bound[w.ix()] = true;
        for &(node, mask) in &placement.replicas {
            let replica = (0..).find(|r| self.held[w.ix()].iter().all(|h| h.replica != *r)).unwrap_or(0);
            self.cap.take(self.s, node, mask);
            let n = mask.count_ones();
            if usage != UsageClass::Tidal {
                self.usage.add(self.s, wl.tenant, model, n);
                self.fair.hold(self.s, wl.tenant, model, n);
            }
            self.held[w.ix()].push(Held {
                replica,
                node,
                mask,
                model,
                usage,
                started: self.now,
                last_checkpoint: None,
            });
            self.plan.binds.push(Bind {
                workload: w,
                replica,
                node,
                devices: devices_of(mask),
                model,
                usage,
                after_preemption,
            });
        }
    }

    /// Frees everything a workload holds (a preemption candidate), returning what it held.
    pub fn release(&mut self, w: WorkloadId) -> Vec<Held> {
        let tenant = self.s.workloads[w.ix()].tenant;
        let held = std::mem::take(&mut self.held[w.ix()]);
        for h in &held {
            self.cap.give(self.s, h.node, h.mask);
            if h.usage != UsageClass::Tidal {
                let n = h.mask.count_ones();
                self.usage.remove(self.s, tenant, h.model, n);
                self.fair.release(self.s, tenant, h.model, n);
            }
        }
        held
    }

    /// Undoes [`Cycle::release`].
    pub fn restore(&mut self, w: WorkloadId, held: Vec<Held>) {
        let tenant = self.s.workloads[w.ix()].tenant;
        for h in &held {
            self.cap.take(self.s, h.node, h.mask);
            if h.usage != UsageClass::Tidal {
                let n = h.mask.count_ones();
                self.usage.add(self.s, tenant, h.model, n);
                self.fair.hold(self.s, tenant, h.model, n);
            }
        }
        self.held[w.ix()] = held;
    }
}
