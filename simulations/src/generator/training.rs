//! A training job's shape, work, class and scheduling attributes.

use rand::{Rng, RngExt};
use tidepool_engine::{Checkpoint, WorkloadKind};

use super::Head;
use super::assumptions::{
    CHECKPOINT_GRACE_S, CHECKPOINT_INTERVAL_S, CHECKPOINT_MIN_RUNTIME_S, LARGE_TRAINING_CLASSES, SIZE_WORK_COUPLING,
    SMALL_TRAINING_CLASSES, TRAINING_PREEMPTIBLE, TRAINING_PRIORITIES,
};
use super::draw::{gang_gpus_at, gpu_seconds_at, weighted};
use super::job::Job;

/// Devices per replica of a gang larger than one node.
const NODE_DEVICES: u32 = 8;

/// Replicas and devices per replica for `gpus`: up to a node, one replica of all of them; beyond,
/// whole 8-device replicas.
pub fn shape(gpus: u32) -> (u32, u32) {
    if gpus <= NODE_DEVICES { (1, gpus) } else { (gpus.div_ceil(NODE_DEVICES), NODE_DEVICES) }
}

/// Draws a training job.
pub fn job(rng: &mut impl Rng, head: Head) -> Job {
    let work_quantile: f64 = rng.random();
    let size_quantile = if rng.random_bool(SIZE_WORK_COUPLING) { work_quantile } else { rng.random() };
    let gpus = gang_gpus_at(size_quantile);
    let gpu_seconds = gpu_seconds_at(work_quantile);
    let (replicas, devices_per_replica) = shape(gpus);
    let class = weighted(rng, if gpus >= NODE_DEVICES { &LARGE_TRAINING_CLASSES } else { &SMALL_TRAINING_CLASSES });
    let priority = weighted(rng, &TRAINING_PRIORITIES);
    let preemptible = rng.random_bool(TRAINING_PREEMPTIBLE);
    let runtime_s = gpu_seconds / f64::from(gpus);
    let checkpoint = (runtime_s >= CHECKPOINT_MIN_RUNTIME_S).then(|| Checkpoint {
        interval: rng.random_range(CHECKPOINT_INTERVAL_S.0..=CHECKPOINT_INTERVAL_S.1),
        grace: rng.random_range(CHECKPOINT_GRACE_S.0..=CHECKPOINT_GRACE_S.1),
    });
    Job {
        seq: head.seq,
        arrival: head.arrival,
        tenant: head.tenant,
        kind: WorkloadKind::Training,
        class,
        replicas,
        devices_per_replica,
        expected_work: Some(gpu_seconds / 3600.0),
        priority,
        preemptible,
        checkpoint,
        accepts: head.accepts,
        service: None,
    }
}
