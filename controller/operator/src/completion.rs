//! How workloads end, read from their pods' terminal phases. The rules:
//!
//! - a pod the node gave up on — `Failed` with a pod-level `status.reason` (`Evicted`,
//!   `UnexpectedAdmissionError`, `NodeLost`, `Shutdown`, …) — is **lost**: it is deleted and its
//!   replica placed again, as a pod of a Job would be replaced;
//! - a training job **succeeds** when its replica 0 (the chief, as in Kubeflow's training jobs)
//!   succeeds; the replicas still running are then stopped;
//! - a training job **fails** when any replica's containers fail (`Failed` without a pod-level
//!   reason); the others are stopped. Tidepool does not retry it: fix and resubmit;
//! - an inference service never ends: any pod of it that stops is replaced.
//!
//! Pure: says what happened; the applier deletes pods and writes the phase.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;

use crate::labels;

/// How a pod stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Its containers exited 0.
    Succeeded,
    /// Its containers failed; why.
    Failed(String),
    /// The node gave up on it (evicted, rejected at admission, node lost); why.
    Lost(String),
}

/// A workload's pod that has stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoppedPod {
    /// Pod name.
    pub name: String,
    /// Replica index.
    pub replica: u32,
    /// How.
    pub how: Stopped,
}

/// How a training job ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Replica 0 succeeded.
    Succeeded,
    /// A replica failed; which and why.
    Failed(String),
}

/// `(kind, namespace, workload)` as a workload's pods are labelled.
pub type WorkloadKey = (String, String, String);

fn stopped(pod: &Pod) -> Option<Stopped> {
    let status = pod.status.as_ref()?;
    let why = || {
        let reason = status.reason.as_deref().unwrap_or("Error");
        match status.message.as_deref().filter(|m| !m.is_empty()) {
            Some(message) => format!("{reason}: {message}"),
            None => reason.to_owned(),
        }
    };
    match status.phase.as_deref()? {
        "Succeeded" => Some(Stopped::Succeeded),
        "Failed" if status.reason.is_some() => Some(Stopped::Lost(why())),
        "Failed" => Some(Stopped::Failed(why())),
        _ => None,
    }
}

/// The stopped pods of each workload.
pub fn stopped_pods(pods: &[Pod]) -> BTreeMap<WorkloadKey, Vec<StoppedPod>> {
    let mut out: BTreeMap<WorkloadKey, Vec<StoppedPod>> = BTreeMap::new();
    for pod in pods {
        let Some(how) = stopped(pod) else { continue };
        let l = pod.labels();
        let (Some(kind), Some(workload), Some(replica)) =
            (l.get(labels::KIND), l.get(labels::WORKLOAD), l.get(labels::REPLICA).and_then(|r| r.parse().ok()))
        else {
            continue;
        };
        let key = (kind.clone(), pod.namespace().unwrap_or_default(), workload.clone());
        out.entry(key).or_default().push(StoppedPod { name: pod.name_any(), replica, how });
    }
    out
}

/// How a training job with these stopped pods has ended, if it has.
pub fn training_ending(stopped: &[StoppedPod]) -> Option<Ending> {
    if stopped.iter().any(|p| p.replica == 0 && p.how == Stopped::Succeeded) {
        return Some(Ending::Succeeded);
    }
    stopped.iter().find_map(|p| match &p.how {
        Stopped::Failed(why) => Some(Ending::Failed(format!("pod {} failed: {why}", p.name))),
        _ => None,
    })
}

/// The stopped pods to delete so their replicas are placed again: lost ones for training (of a
/// job that has not ended), every one for inference.
pub fn to_replace(kind: &str, stopped: &[StoppedPod]) -> Vec<String> {
    stopped
        .iter()
        .filter(|p| kind != "TrainingJob" || matches!(p.how, Stopped::Lost(_)))
        .map(|p| p.name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::PodStatus;

    fn pod(replica: u32, phase: &str, reason: Option<&str>) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some(format!("job-{replica}"));
        p.metadata.namespace = Some("ns".into());
        p.metadata.labels = Some(
            [(labels::KIND, "TrainingJob"), (labels::WORKLOAD, "job"), (labels::REPLICA, &replica.to_string())]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        );
        p.status =
            Some(PodStatus { phase: Some(phase.into()), reason: reason.map(str::to_owned), ..Default::default() });
        p
    }

    fn of(pods: &[Pod]) -> Vec<StoppedPod> {
        stopped_pods(pods).into_values().next().unwrap_or_default()
    }

    #[test]
    fn the_chief_succeeding_ends_the_job() {
        let stopped = of(&[pod(0, "Succeeded", None), pod(1, "Running", None)]);
        assert_eq!(training_ending(&stopped), Some(Ending::Succeeded));
        assert_eq!(training_ending(&of(&[pod(1, "Succeeded", None)])), None, "a worker alone does not");
    }

    #[test]
    fn a_failed_container_fails_the_job_but_a_lost_pod_is_replaced() {
        let failed = of(&[pod(1, "Failed", None)]);
        assert_eq!(training_ending(&failed), Some(Ending::Failed("pod job-1 failed: Error".into())));
        let lost = of(&[pod(1, "Failed", Some("Evicted"))]);
        assert_eq!(training_ending(&lost), None);
        assert_eq!(to_replace("TrainingJob", &lost), ["job-1"]);
        assert!(to_replace("TrainingJob", &failed).is_empty());
        assert_eq!(to_replace("InferenceService", &failed), ["job-1"]);
    }
}
