//! What the generator yields: one job (a training gang or an inference service) with everything
//! the simulator needs to turn it into an engine `Workload` once a scenario names the tenants and
//! chips.

use std::sync::Arc;

use tidepool_engine::{Checkpoint, Seconds, WorkloadClass, WorkloadKind};

use super::calibration::DemandProfile;

/// An accelerator a job has an image for, by catalogue name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AcceptedChip {
    /// One model, e.g. `nvidia-a100-80g`.
    Model(Arc<str>),
    /// Any model of a family, e.g. `ascend`.
    Family(Arc<str>),
}

impl AcceptedChip {
    /// The catalogue name.
    pub fn name(&self) -> &str {
        match self {
            AcceptedChip::Model(n) | AcceptedChip::Family(n) => n,
        }
    }
}

/// What an inference service adds: how long it serves and the daily shape of its demand.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Service {
    /// Seconds from arrival until it is deleted.
    pub lifetime_s: i64,
    /// Demand by hour of the day, as shares of the peak its `replicas` are sized for.
    pub profile: &'static DemandProfile,
}

/// One generated job.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    /// Position in the stream, from 0.
    pub seq: u64,
    /// Submission time: the run's start plus the generated offset.
    pub arrival: Seconds,
    /// Index of the owning institution in the config's `tenant_shares` (0 bank, 1 insurer,
    /// 2 securities by default).
    pub tenant: usize,
    /// Training or serving.
    pub kind: WorkloadKind,
    /// Class of work.
    pub class: WorkloadClass,
    /// Gang size for training; replicas at the peak of demand for a service.
    pub replicas: u32,
    /// Devices per replica.
    pub devices_per_replica: u32,
    /// Work in reference-device-hours (training); `None` for services, which run until deleted.
    pub expected_work: Option<f64>,
    /// Priority within the tenant; higher first.
    pub priority: i32,
    /// Whether it may run on borrowed or tidal capacity.
    pub preemptible: bool,
    /// Checkpointing, for training jobs long enough to checkpoint.
    pub checkpoint: Option<Checkpoint>,
    /// Accepted accelerators; the first is the one it was built for.
    pub accepts: Vec<AcceptedChip>,
    /// Lifetime and demand shape, for services.
    pub service: Option<Service>,
}

impl Job {
    /// Devices of the whole gang (at peak, for a service).
    pub fn devices(&self) -> u32 {
        self.replicas * self.devices_per_replica
    }
}
