//! The generator's choices that no trace in `shared/traces/` records: class mix, priorities,
//! preemptibility, checkpointing, service sizes and lifetimes, accepted chips. Each is a plain
//! constant, documented in the module above, to be replaced when a trace gives the figure.

use tidepool_engine::WorkloadClass;

use super::calibration::{DEEPSEEK_R1, DemandProfile, M_LARGE, M_MID, M_SMALL, MM_IMAGE};

/// Probability that a training job's GPU count takes the same quantile as its GPU-time (bigger
/// gangs do more work); otherwise the two are independent. Both marginals stay exact.
pub const SIZE_WORK_COUPLING: f64 = 0.5;

/// Classes of training jobs of 8 or more GPUs (as the engine benchmark's gangs).
pub const LARGE_TRAINING_CLASSES: [(WorkloadClass, u32); 3] =
    [(WorkloadClass::LlmTraining, 70), (WorkloadClass::CvTraining, 18), (WorkloadClass::RecsysTraining, 12)];

/// Classes of training jobs of fewer than 8 GPUs.
pub const SMALL_TRAINING_CLASSES: [(WorkloadClass, u32); 3] =
    [(WorkloadClass::LlmTraining, 40), (WorkloadClass::CvTraining, 35), (WorkloadClass::RecsysTraining, 25)];

/// Classes of inference services.
pub const SERVICE_CLASSES: [(WorkloadClass, u32); 3] =
    [(WorkloadClass::LlmInference, 50), (WorkloadClass::CvInference, 25), (WorkloadClass::RecsysInference, 25)];

/// Training priorities and weights.
pub const TRAINING_PRIORITIES: [(i32, u32); 3] = [(0, 60), (100, 30), (500, 10)];

/// Service priorities and weights.
pub const SERVICE_PRIORITIES: [(i32, u32); 2] = [(100, 50), (500, 50)];

/// Share of training jobs that are preemptible (services never are).
pub const TRAINING_PREEMPTIBLE: f64 = 0.6;

/// Training jobs checkpoint when their runtime on reference chips (work / devices) reaches this
/// many seconds; shorter ones restart from the beginning.
pub const CHECKPOINT_MIN_RUNTIME_S: f64 = 1800.0;

/// Seconds between checkpoints, drawn uniformly.
pub const CHECKPOINT_INTERVAL_S: (i64, i64) = (1800, 7200);

/// Seconds of notice a checkpointing job needs, drawn uniformly.
pub const CHECKPOINT_GRACE_S: (i64, i64) = (60, 300);

/// Replicas of a service at its peak, with weights.
pub const SERVICE_REPLICAS: [(u32, u32); 4] = [(1, 30), (2, 30), (4, 25), (8, 15)];

/// Devices per replica of an LLM service, with weights (other services use one device).
pub const LLM_SERVICE_DEVICES: [(u32, u32); 4] = [(1, 40), (2, 20), (4, 25), (8, 15)];

/// Service lifetime in days, log-uniform between these.
pub const SERVICE_LIFETIME_DAYS: (f64, f64) = (1.0, 30.0);

/// Demand profiles of LLM services, with weights.
pub const LLM_PROFILES: [(&DemandProfile, u32); 4] = [(&M_LARGE, 30), (&M_MID, 30), (&M_SMALL, 30), (&DEEPSEEK_R1, 10)];

/// Demand profile of computer-vision services (ServeGen's image model is the nearest).
pub const CV_PROFILE: &DemandProfile = &MM_IMAGE;

/// Demand profile of recommendation services (consumer-facing, like `m-small`).
pub const RECSYS_PROFILE: &DemandProfile = &M_SMALL;

/// How many accelerators beyond the one it was built for a job accepts, with weights.
pub const EXTRA_CHIPS: [(usize, u32); 3] = [(0, 40), (1, 40), (2, 20)];

/// Probability that an accepted chip is named by its family rather than its model.
pub const BY_FAMILY: f64 = 0.3;
