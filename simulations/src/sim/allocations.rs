//! The snapshot's allocations found by workload, so that a cycle changes what moved without a
//! pass over every allocation: a stopped replica's allocation leaves in constant time (the last
//! allocation takes its place, so the snapshot lists allocations in no set order; the engine's
//! plan does not depend on it), and a job's last checkpoint is written to its own allocations
//! alone.
//!
//! It does not decide what is bound or stopped, or when a job checkpoints: the run says.

use tidepool_engine::{Allocation, Seconds, WorkloadId};

/// Positions of each workload's allocations in the snapshot.
#[derive(Debug, Default)]
pub(crate) struct AllocationIndex {
    /// Per snapshot workload: where its allocations are in `Snapshot::allocations`.
    positions: Vec<Vec<u32>>,
}

impl AllocationIndex {
    /// Makes room for a workload appended to the snapshot, holding nothing yet.
    pub fn push_workload(&mut self) {
        self.positions.push(Vec::new());
    }

    /// Appends an allocation.
    pub fn push(&mut self, allocations: &mut Vec<Allocation>, a: Allocation) {
        self.positions[a.workload.ix()].push(allocations.len() as u32);
        allocations.push(a);
    }

    /// Removes a workload's allocation of `replica`, if it has one; returns the workload whose
    /// allocation took its place, if another did (its allocations are in another order now).
    pub fn remove(&mut self, allocations: &mut Vec<Allocation>, w: WorkloadId, replica: u32) -> Option<WorkloadId> {
        let mine = &mut self.positions[w.ix()];
        let i = mine.iter().position(|&p| allocations[p as usize].replica == replica)?;
        let at = mine.swap_remove(i);
        let last = (allocations.len() - 1) as u32;
        allocations.swap_remove(at as usize);
        if at == last {
            return None;
        }
        let moved = allocations[at as usize].workload;
        if let Some(p) = self.positions[moved.ix()].iter_mut().find(|p| **p == last) {
            *p = at;
        }
        Some(moved)
    }

    /// Sets the last checkpoint of a workload's allocations.
    pub fn set_last_checkpoint(&self, allocations: &mut [Allocation], w: WorkloadId, last: Option<Seconds>) {
        for &p in &self.positions[w.ix()] {
            allocations[p as usize].last_checkpoint = last;
        }
    }

    /// Follows the snapshot's workloads renumbered into `workloads` slots, with `allocations` as
    /// they now are.
    pub fn renumber(&mut self, allocations: &[Allocation], workloads: usize) {
        self.positions = vec![Vec::new(); workloads];
        for (p, a) in allocations.iter().enumerate() {
            self.positions[a.workload.ix()].push(p as u32);
        }
    }

    /// Checks the index against the allocations (debug builds).
    pub fn check(&self, allocations: &[Allocation]) {
        let listed: usize = self.positions.iter().map(Vec::len).sum();
        debug_assert_eq!(listed, allocations.len(), "the allocation index lost count");
        for (w, mine) in self.positions.iter().enumerate() {
            for &p in mine {
                debug_assert_eq!(
                    allocations[p as usize].workload.ix(),
                    w,
                    "allocation {p} is not where the index says"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use tidepool_engine::{ModelId, NodeId, UsageClass};

    use super::*;

    fn allocation(w: u32, replica: u32) -> Allocation {
        Allocation {
            workload: WorkloadId(w),
            replica,
            node: NodeId(replica),
            devices: 1,
            model: ModelId(0),
            usage: UsageClass::Guaranteed,
            started: Seconds(0),
            last_checkpoint: None,
        }
    }

    fn held(allocations: &[Allocation]) -> Vec<(u32, u32, Option<Seconds>)> {
        let mut held: Vec<_> = allocations.iter().map(|a| (a.workload.0, a.replica, a.last_checkpoint)).collect();
        held.sort();
        held
    }

    #[test]
    fn removals_and_checkpoints_reach_the_right_allocations() {
        let (mut index, mut allocations) = (AllocationIndex::default(), Vec::new());
        for _ in 0..3 {
            index.push_workload();
        }
        for (w, replica) in [(0, 0), (1, 0), (0, 1), (2, 0), (1, 1)] {
            index.push(&mut allocations, allocation(w, replica));
        }
        index.set_last_checkpoint(&mut allocations, WorkloadId(1), Some(Seconds(600)));
        // The last one, (1, 1), takes its place.
        assert_eq!(index.remove(&mut allocations, WorkloadId(0), 0), Some(WorkloadId(1)));
        assert_eq!(index.remove(&mut allocations, WorkloadId(2), 7), None); // no such replica
        index.push(&mut allocations, Allocation { last_checkpoint: Some(Seconds(600)), ..allocation(1, 2) });
        index.check(&allocations);
        let cp = Some(Seconds(600));
        assert_eq!(held(&allocations), [(0, 1, None), (1, 0, cp), (1, 1, cp), (1, 2, cp), (2, 0, None)]);

        index.remove(&mut allocations, WorkloadId(1), 1);
        // Workload 0 is dropped: the others move down one.
        let mut renumbered: Vec<Allocation> = allocations
            .iter()
            .filter(|a| a.workload.0 != 0)
            .map(|a| Allocation { workload: WorkloadId(a.workload.0 - 1), ..a.clone() })
            .collect();
        index.renumber(&renumbered, 2);
        index.check(&renumbered);
        index.set_last_checkpoint(&mut renumbered, WorkloadId(1), Some(Seconds(1_200)));
        assert_eq!(held(&renumbered), [(0, 0, cp), (0, 2, cp), (1, 0, Some(Seconds(1_200)))]);
    }
}
