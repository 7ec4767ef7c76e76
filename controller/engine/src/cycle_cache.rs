//! What a caller that schedules the same fleet cycle after cycle (the simulator) keeps from one
//! cycle to the next: the fleet's index, and the indexes of the work running when the last cycle
//! began (the preemption candidates by model and tenant, when running work is expected to end,
//! the devices it holds per tenant and model and per node, and the free capacity it leaves, made
//! afresh when the devices lent change), and the replicas each workload wants. Each cycle it
//! finds the workloads whose allocations, tenant, priority, class, expected work or replicas are
//! not what they were, and changes the indexes for those alone, so the plan is the one
//! [`crate::schedule`] gives. The one thing it takes on trust, as looking would cost what it
//! saves: a workload's accepted models stay as they were while it holds allocations. A caller
//! that knows which workloads it changed may say so ([`CycleCache::changed`]); the next cycle then
//! looks at those alone instead of comparing every workload. Debug builds check the kept indexes
//! against ones made afresh every cycle.

use crate::backfill::{Endings, expected_end_of};
use crate::capacity::{Base, Capacity};
use crate::catalogue::WorkloadClass;
use crate::fleet_index::FleetIndex;
use crate::holdings::{Held, Initial, Replaced, Totals};
use crate::ids::{Seconds, WorkloadId};
use crate::running::{Holder, Running};
use crate::snapshot::Snapshot;

/// The fleet's index and the running-work indexes of the last cycle, for [`crate::schedule_on`].
pub struct CycleCache {
    pub(crate) fleet: FleetIndex,
    kept: Option<Kept>,
    /// The workloads the caller says changed since the last cycle, ascending; `None`: not said.
    told: Option<Vec<WorkloadId>>,
}

/// The running-work indexes as of the last cycle's snapshot.
pub(crate) struct Kept {
    pub initial: Initial,
    pub totals: Totals,
    /// Free capacity as the cycle begins.
    pub base: Base,
    /// Per workload that held something: how the indexes filed it.
    filed: Vec<Option<Filed>>,
    pub running: Running,
    pub endings: Endings,
    /// Per workload: the replicas it wants ([`wants`]), kept dense so a cycle finds the waiting
    /// without reading every workload.
    pub wants: Vec<u32>,
    models: usize,
    tenants: usize,
}

/// How the indexes filed a running workload: what they read of it besides its allocations and
/// accepted models, and when it was expected to end.
#[derive(Clone, Copy, Debug)]
struct Filed {
    read: Read,
    end: Option<Seconds>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Read {
    holder: Holder,
    class: WorkloadClass,
    /// Bits of the expected work.
    work: Option<u64>,
}

impl Read {
    fn of(s: &Snapshot, w: WorkloadId) -> Self {
        let wl = &s.workloads[w.ix()];
        Read { holder: Holder::of(s, w), class: wl.class, work: wl.expected_work.map(f64::to_bits) }
    }
}

impl Filed {
    fn of(s: &Snapshot, w: WorkloadId, held: &[Held]) -> Self {
        Filed { read: Read::of(s, w), end: expected_end_of(s, w, held) }
    }
}

impl CycleCache {
    /// A cache for snapshots with the catalogue, groups and nodes of `s`; it holds no running
    /// work until its first cycle.
    pub fn new(s: &Snapshot) -> Self {
        CycleCache { fleet: FleetIndex::new(s), kept: None, told: None }
    }

    /// Tells the next cycle which workloads may have changed since the last cycle, in their
    /// allocations (their order and last checkpoints included), tenant, priority, class, expected
    /// work or replicas (minimum or wanted); every other workload must be as it was in the last
    /// cycle's snapshot, under the same id. The next cycle then looks at these alone instead of
    /// comparing every workload. Holds for the next cycle only; a caller that renumbers workloads
    /// says nothing.
    pub fn changed(&mut self, workloads: impl IntoIterator<Item = WorkloadId>) {
        let mut told: Vec<WorkloadId> = workloads.into_iter().collect();
        told.sort_unstable();
        told.dedup();
        self.told = Some(told);
    }

    /// The fleet's index.
    pub fn fleet(&self) -> &FleetIndex {
        &self.fleet
    }

    /// Whether the caller said what changed since the last cycle.
    pub(crate) fn told(&self) -> bool {
        self.told.is_some()
    }

    /// Whether it keeps indexes from an earlier cycle.
    pub(crate) fn keeps(&self) -> bool {
        self.kept.is_some()
    }

    /// Brings the indexes up to `s`, which must have the catalogue, groups and nodes the cache
    /// was made for.
    pub(crate) fn advance(&mut self, s: &Snapshot) -> (&FleetIndex, &Kept) {
        let told = self.told.take();
        let kept = match self.kept.take() {
            Some(mut k) if (k.models, k.tenants) == (s.catalogue.models.len(), s.tenants.len()) => {
                let (before, ids) = match told {
                    Some(told) => (k.initial.patch(s, &told), told),
                    None => {
                        let old = std::mem::replace(&mut k.initial, Initial::new(s));
                        let ids = (0..s.workloads.len().max(old.workloads()) as u32).map(WorkloadId).collect();
                        (Replaced::all(&old), ids)
                    }
                };
                debug_assert!(
                    k.initial == Initial::new(s),
                    "the kept holdings are not the snapshot's: what the cache was told changed is not all"
                );
                k.update(s, &self.fleet, &before, &ids)
            }
            _ => Kept::new(s, &self.fleet, Initial::new(s)),
        };
        if cfg!(debug_assertions) {
            debug_assert!(kept.running == Running::new(s, &kept.initial), "the kept running index went stale");
            debug_assert!(kept.totals == Totals::new(s, &kept.initial), "the kept totals went stale");
            debug_assert!(
                kept.wants == wants_of(s),
                "the kept replicas wanted went stale: what the cache was told changed is not all"
            );
            let fresh = Capacity::new(s, &self.fleet, &kept.totals.nodes).into_base();
            debug_assert!(kept.base == fresh, "the kept free capacity went stale");
            kept.endings.check(s, &self.fleet, &kept.running, &kept.initial);
        }
        (&self.fleet, self.kept.insert(kept))
    }
}

/// Replicas a workload wants: with fewer it is waiting.
fn wants(s: &Snapshot, w: WorkloadId) -> u32 {
    let wl = &s.workloads[w.ix()];
    wl.replicas_min.max(wl.replicas_wanted)
}

/// Replicas each workload wants, by id.
pub(crate) fn wants_of(s: &Snapshot) -> Vec<u32> {
    s.workload_ids().map(|w| wants(s, w)).collect()
}

impl Kept {
    fn new(s: &Snapshot, fleet: &FleetIndex, initial: Initial) -> Self {
        let filed = s
            .workload_ids()
            .map(|w| Some(initial.of(w)).filter(|h| !h.is_empty()).map(|held| Filed::of(s, w, held)))
            .collect();
        let totals = Totals::new(s, &initial);
        Kept {
            running: Running::new(s, &initial),
            base: Capacity::new(s, fleet, &totals.nodes).into_base(),
            totals,
            endings: Endings::new(s.catalogue.models.len()),
            wants: wants_of(s),
            filed,
            initial,
            models: s.catalogue.models.len(),
            tenants: s.tenants.len(),
        }
    }

    /// The indexes for `s`, whose allocations `self.initial` now holds, changed workload by
    /// workload from these; made afresh when more than a quarter of the running workloads changed
    /// (as when the caller renumbers them). `ids`: the workloads that may have changed, with what
    /// they held before in `before`.
    fn update(mut self, s: &Snapshot, fleet: &FleetIndex, before: &Replaced, ids: &[WorkloadId]) -> Self {
        let workloads = s.workloads.len();
        // Replicas wanted: of the workloads that may have changed, and of those new since.
        let known = self.wants.len().min(workloads);
        self.wants.truncate(known);
        self.wants.extend((known..workloads).map(|w| wants(s, WorkloadId(w as u32))));
        for &w in ids.iter().filter(|w| w.ix() < known) {
            self.wants[w.ix()] = wants(s, w);
        }
        let mut changed = Vec::new();
        for &w in ids {
            let (old, new) = (before.of(w), self.initial.of_any(w));
            if old.is_empty() && new.is_empty() {
                continue;
            }
            let same = old.len() == new.len()
                && old.iter().zip(new).all(|(a, b)| a.same_run(b))
                && self.filed[w.ix()].is_some_and(|f| f.read == Read::of(s, w));
            if !same {
                changed.push(w);
            }
        }
        if changed.len() > 64 && changed.len() * 4 > self.initial.running() {
            return Kept::new(s, fleet, self.initial);
        }
        // Free capacity follows the same changes, unless the devices lent changed too.
        let lends_as_before = self.base.lends_as(s);
        let mut cap = Capacity::from_base(self.base, fleet);
        self.filed.resize(workloads.max(self.filed.len()), None);
        // Every change's old holdings out before any new ones in: a device may change hands.
        for &w in &changed {
            let old = before.of(w);
            if let Some(filed) = self.filed[w.ix()].take() {
                self.running.remove(w, filed.read.holder, old);
                self.totals.remove(filed.read.holder.tenant, old);
                for h in old {
                    cap.give(h.node, h.mask);
                }
                if let Some(end) = filed.end {
                    self.endings.remove(w, end, old);
                }
            }
        }
        for &w in &changed {
            let new = self.initial.of_any(w);
            if !new.is_empty() {
                let filed = Filed::of(s, w, new);
                self.running.add(w, filed.read.holder, new);
                self.totals.add(filed.read.holder.tenant, new);
                for h in new {
                    cap.take(h.node, h.mask);
                }
                if let Some(end) = filed.end {
                    self.endings.add(fleet, w, end, new);
                }
                self.filed[w.ix()] = Some(filed);
            }
        }
        self.filed.truncate(workloads);
        self.base =
            if lends_as_before { cap.into_base() } else { Capacity::new(s, fleet, &self.totals.nodes).into_base() };
        self
    }
}
