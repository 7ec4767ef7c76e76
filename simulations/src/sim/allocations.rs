//! The snapshot's allocations found by workload, so that a cycle changes what moved without a
//! pass over every allocation: a stopped replica's allocation leaves in constant time (the last
//! allocation takes its place, so the snapshot lists allocations in no set order; the engine's
//! plan does not depend on it) and a job's last checkpoint is written to its own allocations only
//! when it moves.
//!
//! It does not decide what is bound or stopped, or when a job checkpoints: the run says.

use tidepool_engine::{Allocation, Seconds, WorkloadId};

/// Positions of each workload's allocations in the snapshot, and the last checkpoint they carry.
#[derive(Debug, Default)]
pub(crate) struct AllocationIndex {
    /// Per snapshot workload: where its allocations are in `Snapshot::allocations`.
    positions: Vec<Vec<u32>>,
    /// Per snapshot workload: the last checkpoint each of its allocations carries.
    last_checkpoint: Vec<Option<Seconds>>,
}

impl AllocationIndex {
    /// Makes room for a workload appended to the snapshot, holding nothing yet.
    pub fn push_workload(&mut self) {
        self.positions.push(Vec::new());
        self.last_checkpoint.push(None);
    }

    /// Appends an allocation; it carries its workload's last checkpoint.
    pub fn push(&mut self, allocations: &mut Vec<Allocation>, mut a: Allocation) {
        let w = a.workload.ix();
        a.last_checkpoint = self.last_checkpoint[w];
        self.positions[w].push(allocations.len() as u32);
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

    /// The last checkpoint a workload's allocations carry.
    pub fn last_checkpoint(&self, w: usize) -> Option<Seconds> {
        self.last_checkpoint[w]
    }

    /// Sets the last checkpoint of a workload's allocations.
    pub fn set_last_checkpoint(&mut self, allocations: &mut [Allocation], w: WorkloadId, last: Option<Seconds>) {
        if self.last_checkpoint[w.ix()] == last {
            return;
        }
        self.last_checkpoint[w.ix()] = last;
        for &p in &self.positions[w.ix()] {
            allocations[p as usize].last_checkpoint = last;
        }
    }

    /// Follows the snapshot's workloads renumbered (`remap[old]`, `u32::MAX` for one dropped) into
    /// `workloads` slots, with `allocations` as they now are.
    pub fn renumber(&mut self, allocations: &[Allocation], remap: &[u32], workloads: usize) {
        let mut last_checkpoint = vec![None; workloads];
        for (old, &new) in remap.iter().enumerate() {
            if new != u32::MAX {
                last_checkpoint[new as usize] = self.last_checkpoint[old];
            }
        }
        self.last_checkpoint = last_checkpoint;
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
                let a = &allocations[p as usize];
                debug_assert_eq!(a.workload.ix(), w, "allocation {p} is not where the index says");
                debug_assert_eq!(
                    a.last_checkpoint, self.last_checkpoint[w],
                    "allocation {p}'s last checkpoint is stale"
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
        index.remove(&mut allocations, WorkloadId(0), 0); // the last one, (1, 1), takes its place
        index.remove(&mut allocations, WorkloadId(2), 7); // no such replica: nothing changes
        index.push(&mut allocations, allocation(1, 2));
        index.check(&allocations);
        let cp = Some(Seconds(600));
        assert_eq!(held(&allocations), [(0, 1, None), (1, 0, cp), (1, 1, cp), (1, 2, cp), (2, 0, None)]);

        index.remove(&mut allocations, WorkloadId(1), 1);
        // Workload 0 is dropped: the others move down one.
        let renumbered: Vec<Allocation> = allocations
            .iter()
            .filter(|a| a.workload.0 != 0)
            .map(|a| Allocation { workload: WorkloadId(a.workload.0 - 1), ..a.clone() })
            .collect();
        index.renumber(&renumbered, &[u32::MAX, 0, 1], 2);
        index.check(&renumbered);
        assert_eq!(held(&renumbered), [(0, 0, cp), (0, 2, cp), (1, 0, None)]);
    }
}
