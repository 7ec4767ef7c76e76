//! The engine's knobs, as `SchedulingPolicy` sets them.

/// What chip selection optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Objective {
    /// Cheapest expected cost that meets the deadline.
    Cost,
    /// Cheapest among those finishing within `balanced_slack` × the fastest.
    #[default]
    Balanced,
    /// Soonest finish.
    Speed,
    /// The first accepted model, in the workload's own order, that has room now — chip-agnostic,
    /// as queue-based pooling (Kueue's flavour order) does. For baselines.
    FirstAcceptable,
}

/// The order in which waiting workloads are considered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Admission {
    /// Hierarchical weighted dominant-resource fairness across tenants, priority within one.
    #[default]
    FairShare,
    /// Oldest first across everyone, priorities ignored. For baselines.
    Fifo,
}

/// How replicas are packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Packing {
    /// Fullest node that fits, to keep whole nodes free.
    #[default]
    BestFit,
    /// Emptiest node.
    Spread,
}

/// Engine policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Order of admission.
    pub admission: Admission,
    /// Selection objective.
    pub objective: Objective,
    /// Packing.
    pub packing: Packing,
    /// Whether anything is preempted.
    pub preemption: bool,
    /// Whether borrowed devices are reclaimed for tenants within nominal quota.
    pub reclaim_borrowed: bool,
    /// Whether tidal devices are reclaimed.
    pub reclaim_tidal: bool,
    /// Priority gap needed to preempt within a tenant.
    pub min_priority_gap: i32,
    /// `Balanced`: accept finishing up to this factor later than the fastest to save cost.
    pub balanced_slack: f64,
    /// Whether small workloads may run ahead of a blocked gang, on capacity it will not need in time.
    pub backfill: bool,
    /// Whether the plan explains itself: each selection with its alternatives and a sentence, each
    /// pending workload's reason. Off, selections are left out and reasons are empty, and every
    /// decision is the same: for callers that show no explanations (the simulator).
    pub explain: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            admission: Admission::default(),
            objective: Objective::default(),
            packing: Packing::default(),
            preemption: true,
            reclaim_borrowed: true,
            reclaim_tidal: true,
            min_priority_gap: 1,
            balanced_slack: 1.25,
            backfill: true,
            explain: true,
        }
    }
}
