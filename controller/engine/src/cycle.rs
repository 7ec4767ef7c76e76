//! One scheduling cycle's mutable state — free capacity, quota usage, fair shares, what each
//! workload runs — and the primitives that change it together, so the three never disagree.

use std::cell::OnceCell;

use crate::allocation::UsageClass;
use crate::backfill::Endings;
use crate::capacity::{Base, Capacity};
use crate::fairshare::FairShare;
use crate::fleet_index::FleetIndex;
use crate::holdings::{Held, Holdings, Initial, Totals};
use crate::ids::{ModelId, NodeId, Seconds, WorkloadId};
use crate::mask::devices_of;
use crate::place::Placement;
use crate::plan::{Bind, Plan, Selection};
use crate::policy::Policy;
use crate::quota::Usage;
use crate::running::Running;
use crate::snapshot::Snapshot;

/// What a cycle starts from besides the snapshot: what each workload held when it began, and the
/// indexes of that work kept from earlier cycles, if any.
pub(crate) struct Start<'a> {
    pub initial: &'a Initial,
    pub totals: &'a Totals,
    /// The preemption candidates; made on first use when not kept.
    pub running: Option<&'a Running>,
    pub endings: &'a Endings,
    /// Free capacity as the cycle begins, when kept; else made from `totals`.
    pub base: Option<&'a Base>,
    /// The replicas each workload wants, by id.
    pub wants: &'a [u32],
}

pub(crate) struct Cycle<'a> {
    pub s: &'a Snapshot,
    pub fleet: &'a FleetIndex,
    pub policy: &'a Policy,
    pub now: Seconds,
    pub cap: Capacity<'a>,
    pub usage: Usage,
    pub fair: FairShare<'a>,
    /// What each workload held when the cycle began.
    pub initial: &'a Initial,
    /// What each workload holds (running allocations plus this cycle's binds).
    pub held: Holdings<'a>,
    /// Workloads that wanted more replicas than they held when the cycle began, ascending.
    pub waiting: Vec<WorkloadId>,
    /// Workloads preempted this cycle.
    pub preempted: Vec<bool>,
    /// Workloads given binds this cycle.
    pub bound: Vec<bool>,
    /// Workloads that preempted others this cycle: never victims in the same cycle, or the
    /// devices they were promised would be taken twice and their victims stopped for nothing.
    pub preemptor: Vec<bool>,
    /// Per node: a blocked gang's reservation, with the time it expects to start.
    pub reserved: Vec<Option<Seconds>>,
    /// The nodes `reserved` names, each once.
    pub reserved_nodes: Vec<NodeId>,
    /// Per partition: whether a gang reserved nodes of it this cycle.
    pub reserved_partitions: Vec<bool>,
    /// The preemption candidates, when kept from earlier cycles; else made on first use.
    kept_running: Option<&'a Running>,
    running: OnceCell<Running>,
    /// When running work ends, per model, for backfill; each made on first use.
    pub endings: &'a Endings,
    pub plan: Plan,
}

impl<'a> Cycle<'a> {
    pub fn new(s: &'a Snapshot, fleet: &'a FleetIndex, policy: &'a Policy, now: Seconds, start: Start<'a>) -> Self {
        let held = Holdings::new(start.initial, s.workloads.len());
        let waiting: Vec<WorkloadId> = (s.workload_ids().zip(start.wants).zip(start.initial.counts()))
            .filter(|&((_, &wants), held)| held < wants)
            .map(|((w, _), _)| w)
            .collect();
        let usage = Usage::new(s, start.totals);
        let fair = FairShare::new(s, fleet, start.totals, &waiting, policy.admission);
        Cycle {
            s,
            fleet,
            policy,
            now,
            cap: match start.base {
                Some(base) => Capacity::from_base(base.clone(), fleet),
                None => Capacity::new(s, fleet, &start.totals.nodes),
            },
            initial: start.initial,
            usage,
            fair,
            held,
            waiting,
            preempted: vec![false; s.workloads.len()],
            bound: vec![false; s.workloads.len()],
            preemptor: vec![false; s.workloads.len()],
            reserved: vec![None; s.nodes.len()],
            reserved_nodes: Vec::new(),
            reserved_partitions: vec![false; fleet.partition_count()],
            kept_running: start.running,
            running: OnceCell::new(),
            endings: start.endings,
            plan: Plan::default(),
        }
    }

    /// The workloads running when the cycle began, by model (the preemption candidates).
    pub fn running(&self) -> &Running {
        match self.kept_running {
            Some(running) => running,
            None => self.running.get_or_init(|| Running::new(self.s, self.initial)),
        }
    }

    /// A sentence for the plan, when the policy explains; else nothing, and it is not written.
    pub fn explain(&self, text: impl FnOnce() -> String) -> String {
        if self.policy.explain { text() } else { String::new() }
    }

    /// Records how a workload's model was chosen, when the policy explains; else it is not made.
    pub fn record_selection(&mut self, selection: impl FnOnce(&Self) -> Selection) {
        if self.policy.explain {
            let selection = selection(self);
            self.plan.selections.push(selection);
        }
    }

    /// Replicas a workload holds now.
    pub fn replicas(&self, w: WorkloadId) -> u32 {
        self.held[w].len() as u32
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
            let replica = (0..).find(|r| self.held[w].iter().all(|h| h.replica != *r)).unwrap_or(0);
            self.cap.take(node, mask);
            let n = mask.count_ones();
            if usage != UsageClass::Tidal {
                self.usage.add(self.s, wl.tenant, model, n);
                self.fair.hold(self.s, wl.tenant, model, n);
            }
            self.held.push(w, Held { replica, node, mask, model, usage, started: self.now, last_checkpoint: None });
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
        let held = self.held.take(w);
        for h in &held {
            self.cap.give(h.node, h.mask);
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
            self.cap.take(h.node, h.mask);
            if h.usage != UsageClass::Tidal {
                let n = h.mask.count_ones();
                self.usage.add(self.s, tenant, h.model, n);
                self.fair.hold(self.s, tenant, h.model, n);
            }
        }
        self.held.set(w, held);
    }
}
