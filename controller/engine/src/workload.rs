//! Workloads waiting or running: training gangs and inference services, with what they accept,
//! how much work they are, and how they checkpoint.

use crate::catalogue::WorkloadClass;
use crate::ids::{FamilyId, ModelId, Seconds, TenantId};

/// Training or serving.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    /// A training job: `replicas_min` replicas start together.
    Training,
    /// An inference service: keeps `replicas_min` up, scales to `replicas_wanted`.
    Inference,
}

/// What an accepted accelerator entry points at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// One model.
    Model(ModelId),
    /// Any model of a family.
    Family(FamilyId),
}

/// An accelerator the workload has an image for.
#[derive(Clone, Debug)]
pub struct Accept {
    /// Model or family.
    pub target: Target,
    /// Least device memory needed, in GiB.
    pub min_memory_gib: u32,
    /// The workload's own measured relative throughput here, overriding the catalogue.
    pub throughput: Option<f64>,
}

/// How a training job checkpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Seconds between checkpoints.
    pub interval: i64,
    /// Seconds of notice the job needs before it is stopped.
    pub grace: i64,
}

/// A workload.
#[derive(Clone, Debug)]
pub struct Workload {
    /// `namespace/name`.
    pub name: String,
    /// Owning tenant.
    pub tenant: TenantId,
    /// Training or serving.
    pub kind: WorkloadKind,
    /// Class of work, for throughput.
    pub class: WorkloadClass,
    /// Priority within the tenant; higher first.
    pub priority: i32,
    /// Whether it may run on borrowed or tidal capacity.
    pub preemptible: bool,
    /// Gang size. A workload with no gang and no replicas wanted is withdrawn: it keeps its place
    /// (and id) in the snapshot, holds nothing and asks for nothing, and the engine passes over it
    /// (the simulator keeps a job out of the queue this way; the CRDs ask for at least one).
    pub replicas_min: u32,
    /// Replicas wanted now: elastic ceiling for training, demand-driven count for inference.
    pub replicas_wanted: u32,
    /// Devices per replica.
    pub devices_per_replica: u32,
    /// Accepted accelerators.
    pub accepts: Vec<Accept>,
    /// Whether one gang may mix models.
    pub allow_mixed_models: bool,
    /// Work in reference-device-hours, when known.
    pub expected_work: Option<f64>,
    /// Checkpointing, when the job checkpoints.
    pub checkpoint: Option<Checkpoint>,
    /// Finish-by time.
    pub deadline: Option<Seconds>,
    /// Submission time (queue order among equal priorities).
    pub submitted: Seconds,
}

impl Workload {
    /// Devices the gang needs.
    pub fn gang_devices(&self) -> u32 {
        self.replicas_min * self.devices_per_replica
    }

    /// Whether it is withdrawn (see [`Workload::replicas_min`]).
    pub fn is_withdrawn(&self) -> bool {
        self.replicas_min == 0 && self.replicas_wanted == 0
    }

    /// Seconds of notice before it may be stopped.
    pub fn grace(&self) -> i64 {
        self.checkpoint.map_or(0, |c| c.grace)
    }
}
