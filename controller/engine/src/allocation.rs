//! Running allocations: which devices a replica holds, and on what terms.

use crate::ids::{ModelId, NodeId, Seconds, WorkloadId};

/// On what terms devices are held, which decides who may take them back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum UsageClass {
    /// Within the tenant's nominal quota: never reclaimed by another tenant.
    Guaranteed,
    /// Beyond nominal quota: reclaimable by tenants within their nominal quota.
    Borrowed,
    /// On devices an inference service lent: reclaimed before its demand returns.
    Tidal,
}

/// One replica's devices.
#[derive(Clone, Debug)]
pub struct Allocation {
    /// The workload.
    pub workload: WorkloadId,
    /// Replica index.
    pub replica: u32,
    /// Node.
    pub node: NodeId,
    /// Its devices on the node as a mask: bit `i` is device index `i` (see [`crate::mask`]).
    pub devices: u64,
    /// Model of the devices.
    pub model: ModelId,
    /// Terms.
    pub usage: UsageClass,
    /// When the replica started.
    pub started: Seconds,
    /// When the workload last checkpointed, if ever.
    pub last_checkpoint: Option<Seconds>,
}

/// A device an inference service lent: free for preemptible work (as `Tidal`) until the lender
/// needs it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lent {
    /// Node.
    pub node: NodeId,
    /// Device index on the node.
    pub device: u16,
    /// The inference service that lent it.
    pub lender: WorkloadId,
}
