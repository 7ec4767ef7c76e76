//! An inference service's class, size at peak, lifetime and demand profile.

use rand::Rng;
use tidepool_engine::{WorkloadClass, WorkloadKind};

use super::Head;
use super::assumptions::{
    CV_PROFILE, LLM_PROFILES, LLM_SERVICE_DEVICES, RECSYS_PROFILE, SERVICE_CLASSES, SERVICE_LIFETIME_DAYS,
    SERVICE_PRIORITIES, SERVICE_REPLICAS,
};
use super::draw::{log_uniform, weighted};
use super::job::{Job, Service};

/// Draws an inference service.
pub fn job(rng: &mut impl Rng, head: Head) -> Job {
    let class = weighted(rng, &SERVICE_CLASSES);
    let replicas = weighted(rng, &SERVICE_REPLICAS);
    let (devices_per_replica, profile) = match class {
        WorkloadClass::LlmInference => (weighted(rng, &LLM_SERVICE_DEVICES), weighted(rng, &LLM_PROFILES)),
        WorkloadClass::CvInference => (1, CV_PROFILE),
        _ => (1, RECSYS_PROFILE),
    };
    let days = log_uniform(rng, SERVICE_LIFETIME_DAYS.0, SERVICE_LIFETIME_DAYS.1);
    let priority = weighted(rng, &SERVICE_PRIORITIES);
    Job {
        seq: head.seq,
        arrival: head.arrival,
        tenant: head.tenant,
        kind: WorkloadKind::Inference,
        class,
        replicas,
        devices_per_replica,
        expected_work: None,
        priority,
        preemptible: false,
        checkpoint: None,
        accepts: head.accepts,
        service: Some(Service { lifetime_s: (days * 86_400.0).round() as i64, profile }),
    }
}
