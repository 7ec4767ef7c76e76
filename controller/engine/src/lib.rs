//! Tidepool's placement engine: for a snapshot of a heterogeneous group cloud, decide which
//! workloads run, where, and on which chip — `schedule(&Snapshot, &Policy, now) -> Plan`.
//!
//! Pure and deterministic: no I/O, no clock (time comes in as `now`), no runtime; the controller
//! and the simulator run exactly this code. Conversions from the `tidepool-crds` types live with
//! them, not here.
//!
//! A caller that schedules the same nodes cycle after cycle (the simulator) makes a
//! [`CycleCache`] of them once and calls [`schedule_on`]: the cache keeps the fleet's index and
//! the indexes of running work between cycles; the plan is the one [`schedule`] gives.
//!
//! One cycle, in order:
//! 1. **Admission** (`fairshare`): tenants by hierarchical weighted dominant share over
//!    capability-normalised devices; inside a tenant by priority, then submission time.
//! 2. **Quota** (`quota`): nominal / borrowing / lending semantics over the tenant tree;
//!    non-preemptible work runs only within guaranteed quota.
//! 3. **Chip-aware selection** (`select`): every feasible model's expected runtime and cost,
//!    chosen by the policy objective within the deadline, alternatives recorded.
//! 4. **Gang placement** (`place`): all or nothing, one interconnect group when it fits, fewest
//!    nodes, best fit, devices inside one link domain.
//! 5. **Preemption** (`preempt`, `tidal`): minimal whole-gang victim sets — tidal, then
//!    borrowed, then lower priority — losing the least work since the last checkpoint.
//! 6. **Backfill** (`backfill`): small work runs ahead of a blocked gang only where it ends
//!    before the gang's reservation.

mod allocation;
mod backfill;
mod capacity;
mod catalogue;
mod cycle;
mod cycle_cache;
mod fairshare;
mod fleet_index;
mod holdings;
mod ids;
pub mod mask;
mod place;
mod plan;
mod policy;
mod preempt;
mod quota;
mod reasons;
mod running;
mod schedule;
mod select;
mod snapshot;
mod tenants;
mod tidal;
mod topology;
mod workload;

pub use allocation::{Allocation, Lent, UsageClass};
pub use catalogue::{Catalogue, Model, WorkloadClass};
pub use cycle_cache::CycleCache;
pub use fleet_index::FleetIndex;
pub use ids::{ClusterId, FamilyId, GroupId, ModelId, NodeId, Seconds, TenantId, WorkloadId};
pub use place::scaling_efficiency;
pub use plan::{Alternative, Bind, Pending, PendingCause, Plan, Preemption, Selection, VictimReason};
pub use policy::{Admission, Objective, Packing, Policy};
pub use schedule::{schedule, schedule_on};
pub use snapshot::{Snapshot, SnapshotError};
pub use tenants::{Quota, QuotaKey, Tenant};
pub use topology::{Cluster, Device, Group, Node};
pub use workload::{Accept, Checkpoint, Target, Workload, WorkloadKind};
