//! The plan: what the engine decided in one cycle — binds, preemptions, why each chip was chosen,
//! and why each waiting workload waits.

use std::fmt;

use rust_decimal::Decimal;

use crate::allocation::UsageClass;
use crate::ids::{ModelId, NodeId, Seconds, WorkloadId};

/// The outcome of one scheduling cycle.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Replicas to bind, in decision order.
    pub binds: Vec<Bind>,
    /// Workloads to stop, whole gangs, in decision order.
    pub preemptions: Vec<Preemption>,
    /// The chip chosen for each workload placed this cycle, and the alternatives.
    pub selections: Vec<Selection>,
    /// Every workload that still wants replicas it did not get, with the reason.
    pub pending: Vec<Pending>,
}

/// Put one replica on devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    /// Workload.
    pub workload: WorkloadId,
    /// Replica index.
    pub replica: u32,
    /// Node.
    pub node: NodeId,
    /// Device indices on the node.
    pub devices: Vec<u16>,
    /// Model of the devices.
    pub model: ModelId,
    /// Terms of use.
    pub usage: UsageClass,
    /// Whether the devices are still held by preempted workloads: bind once they have stopped.
    pub after_preemption: bool,
}

/// Stop a workload's whole gang.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preemption {
    /// The victim.
    pub victim: WorkloadId,
    /// The workload it makes room for.
    pub for_workload: WorkloadId,
    /// Why it was chosen.
    pub why: VictimReason,
    /// Seconds of notice it gets.
    pub grace_seconds: i64,
}

/// Why a victim was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VictimReason {
    /// It ran on devices an inference service lent and now needs back.
    TidalReclaim,
    /// It borrowed beyond its quota and the owner needs the devices within its nominal quota.
    BorrowedReclaim,
    /// It has lower priority in the same tenant.
    LowerPriority,
}

impl fmt::Display for VictimReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VictimReason::TidalReclaim => "it ran on lent inference capacity that is needed back",
            VictimReason::BorrowedReclaim => "it borrowed devices another tenant needs within its guaranteed quota",
            VictimReason::LowerPriority => "a higher-priority workload of the same tenant needs its devices",
        })
    }
}

/// Why a model was chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Workload.
    pub workload: WorkloadId,
    /// Chosen model.
    pub model: ModelId,
    /// Every model considered, the chosen one included, in catalogue order.
    pub alternatives: Vec<Alternative>,
    /// One sentence: why this model.
    pub reason: String,
}

/// A model considered for a workload.
#[derive(Clone, Debug, PartialEq)]
pub struct Alternative {
    /// Model.
    pub model: ModelId,
    /// Expected runtime in hours, when the work is known.
    pub hours: Option<f64>,
    /// Expected cost of the whole run (or per hour when the work is unknown).
    pub cost: Option<Decimal>,
    /// Why it was not chosen; `None` for the chosen one.
    pub rejected: Option<String>,
}

/// A workload left waiting.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    /// Workload.
    pub workload: WorkloadId,
    /// Why, in words a person can act on.
    pub reason: String,
    /// What kind of obstacle it is, for counting (the reason says which one).
    pub cause: PendingCause,
    /// When backfill reserved capacity for its gang this cycle: the time it expects to start.
    pub reserved_from: Option<Seconds>,
}

/// The kind of obstacle a pending workload is waiting on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PendingCause {
    /// None of the accelerators it accepts can run it (not in the catalogue, too little memory,
    /// no allowed cluster has them).
    NoAcceptableAccelerator,
    /// An acceptable accelerator exists but none is free in a shape that fits.
    Capacity,
    /// Free devices exist but quota (its own limit or others' lending limits) keeps it out.
    Quota,
}

impl PendingCause {
    /// A short stable name, e.g. for a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingCause::NoAcceptableAccelerator => "no_acceptable_accelerator",
            PendingCause::Capacity => "capacity",
            PendingCause::Quota => "quota",
        }
    }
}
