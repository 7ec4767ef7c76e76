//! A job as the simulator replays it, whatever its source (generator or trace).

use tidepool_engine::{Checkpoint, WorkloadClass, WorkloadKind};

/// An accepted accelerator, by catalogue name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// One catalogue model.
    Model(String),
    /// Any model of a family.
    Family(String),
}

/// One job: a training gang, or a service that runs for a lifetime.
#[derive(Clone, Debug, PartialEq)]
pub struct SimJob {
    /// Name (unique within a run).
    pub name: String,
    /// Submission time, seconds from the start of the run.
    pub arrival: i64,
    /// Owning tenant, as an index into the scenario's tenants.
    pub tenant: usize,
    /// Training or serving.
    pub kind: WorkloadKind,
    /// Class of work.
    pub class: WorkloadClass,
    /// Gang size (training) or replicas at peak demand (service).
    pub replicas: u32,
    /// Devices per replica.
    pub devices_per_replica: u32,
    /// Training work in reference-device-hours.
    pub work: Option<f64>,
    /// Seconds a service (or a fixed-duration job) runs once started; `None` for work-based jobs.
    pub lifetime: Option<i64>,
    /// A service's demand per local hour of day, as shares of the peak; `None` = flat.
    pub hourly_shares: Option<Box<[f64; 24]>>,
    /// A service's work per device-hour it holds, in reference-device-hours: the relative
    /// throughput of the chip it was sized for, whichever chip it runs on (it needs that much
    /// capacity; a faster chip does not serve more requests than arrive).
    pub service_rate: f64,
    /// Priority within the tenant.
    pub priority: i32,
    /// Whether it may be preempted (borrowed or tidal capacity).
    pub preemptible: bool,
    /// Checkpointing.
    pub checkpoint: Option<Checkpoint>,
    /// Accepted accelerators, preferred first.
    pub accepts: Vec<Accepted>,
}

impl SimJob {
    /// Replicas wanted at a time of day (hour 0–23): the gang for training, the demand-scaled
    /// count (at least one) for a service.
    pub fn replicas_at(&self, hour: usize) -> u32 {
        match (self.kind, self.hourly_shares.as_deref()) {
            (WorkloadKind::Inference, Some(shares)) => {
                ((f64::from(self.replicas) * shares[hour % 24]).ceil() as u32).clamp(1, self.replicas)
            }
            _ => self.replicas,
        }
    }
}
