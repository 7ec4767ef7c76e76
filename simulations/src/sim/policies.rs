//! The policies compared side by side. Each turns the scenario's fleet into the snapshot base and
//! engine policy it runs with; the event loop is the same for all.
//!
//! - **`static`** — what the group does without pooling. The fleet is cut into one partition per
//!   institution: in every node pool, nodes go to institutions in proportion to their nominal
//!   quota for that family (largest remainder), among those allowed in that cluster. Each
//!   institution runs only on its own nodes; it is guaranteed all of them (nominal = its
//!   partition) and borrows nothing. Jobs go first come, first served; each takes the first chip
//!   in its own list that has room. No preemption.
//! - **`pooled`** — what Kueue-style pooling gives. One shared fleet; quotas with nominal,
//!   borrowing and lending limits as the scenario states; fair share across institutions,
//!   priority within one; borrowed devices reclaimed for an owner within its nominal quota. Chip
//!   choice is chip-agnostic: the first chip in the job's list that has room (flavour order).
//! - **`chip-aware`** — Tidepool: the same pool and quotas, and the engine's full selection (the
//!   scenario's objective: expected cost per unit of work within the deadline).

use tidepool_engine::{Admission, Objective, Policy, Quota, QuotaKey, Snapshot};

use crate::sim::fleet::Fleet;

/// A policy under comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum PolicyKind {
    /// Static partitions.
    Static,
    /// Pooled, chip-agnostic.
    Pooled,
    /// Pooled, chip-aware.
    ChipAware,
}

impl PolicyKind {
    /// All, in report order.
    pub const ALL: [PolicyKind; 3] = [PolicyKind::Static, PolicyKind::Pooled, PolicyKind::ChipAware];

    /// The name reports use (`static`, `pooled`, `chip-aware`).
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Static => "static",
            PolicyKind::Pooled => "pooled",
            PolicyKind::ChipAware => "chip-aware",
        }
    }

    /// The snapshot base and engine policy this policy runs with.
    pub fn prepare(self, fleet: &Fleet, objective: Objective) -> (Snapshot, Policy) {
        // The reports count decisions; none shows the engine's explanations.
        let quiet = Policy { explain: false, ..Policy::default() };
        match self {
            PolicyKind::Static => (
                partitioned(fleet),
                Policy {
                    admission: Admission::Fifo,
                    objective: Objective::FirstAcceptable,
                    preemption: false,
                    backfill: false,
                    ..quiet
                },
            ),
            PolicyKind::Pooled => (fleet.base.clone(), Policy { objective: Objective::FirstAcceptable, ..quiet }),
            PolicyKind::ChipAware => (fleet.base.clone(), Policy { objective, ..quiet }),
        }
    }
}

/// The fleet cut into per-institution partitions (see the module doc).
fn partitioned(fleet: &Fleet) -> Snapshot {
    let mut s = fleet.base.clone();
    let institutions = &fleet.tenants;
    let mut owned = vec![vec![0u32; s.catalogue.families.len()]; institutions.len()];
    // Node pools: runs of nodes with the same cluster and model, in snapshot order.
    let mut start = 0;
    while start < s.nodes.len() {
        let key = |i: usize| (s.cluster_of(tidepool_engine::NodeId(i as u32)), s.nodes[i].devices[0].model);
        let mut end = start + 1;
        while end < s.nodes.len() && key(end) == key(start) {
            end += 1;
        }
        let (cluster, model) = key(start);
        let family = s.catalogue.model(model).family;
        let shares: Vec<f64> = institutions
            .iter()
            .map(|&t| {
                let tenant = &s.tenants[t.ix()];
                if !tenant.allows_cluster(cluster) {
                    return 0.0;
                }
                tenant.quota_for(model, family).map_or(0.0, |q| f64::from(q.nominal))
            })
            .collect();
        for (node, owner) in (start..end).zip(apportion(end - start, &shares)) {
            s.nodes[node].dedicated_to = owner.map(|i| institutions[i]);
            if let Some(i) = owner {
                owned[i][family.ix()] += s.nodes[node].devices.len() as u32;
            }
        }
        start = end;
    }
    for (i, &t) in institutions.iter().enumerate() {
        let tenant = &mut s.tenants[t.ix()];
        tenant.dedicated_only = true;
        tenant.quotas = owned[i]
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(f, &n)| Quota {
                key: QuotaKey::Family(tidepool_engine::FamilyId(f as u32)),
                nominal: n,
                borrowing_limit: Some(0),
                lending_limit: Some(0),
            })
            .collect();
    }
    s
}

/// Owner index of each of `n` nodes, by largest remainder over `shares`; `None` when no one has a share.
fn apportion(n: usize, shares: &[f64]) -> Vec<Option<usize>> {
    let total: f64 = shares.iter().sum();
    if total <= 0.0 {
        return vec![None; n];
    }
    let exact: Vec<f64> = shares.iter().map(|s| s / total * n as f64).collect();
    let mut counts: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())).then(a.cmp(&b)));
    let mut left = n - counts.iter().sum::<usize>();
    for i in order {
        if left == 0 {
            break;
        }
        if shares[i] > 0.0 {
            counts[i] += 1;
            left -= 1;
        }
    }
    counts.iter().enumerate().flat_map(|(i, &c)| std::iter::repeat_n(Some(i), c)).collect()
}

#[cfg(test)]
mod tests {
    use super::apportion;

    #[test]
    fn nodes_are_apportioned_by_largest_remainder() {
        assert_eq!(apportion(8, &[50.0, 30.0, 20.0]), [0, 0, 0, 0, 1, 1, 2, 2].map(Some).to_vec());
        assert_eq!(apportion(4, &[0.0, 3.0, 1.0]), [1, 1, 1, 2].map(Some).to_vec());
        assert_eq!(apportion(2, &[0.0, 0.0]), vec![None, None]);
    }
}
