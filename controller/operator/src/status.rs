//! Workload status as Tidepool writes it: phase, conditions, placement (cluster, nodes, model,
//! devices), why this chip, the pending reason, cost per hour, and for invalid specs an
//! `Accepted=False` condition naming the field. Pure: builds the `status` object and tells
//! whether it differs from what is stored; the applier sends it with server-side apply.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use serde_json::{Value, json};
use tidepool_crds::common::Placement;
use tidepool_crds::workload::Selection;

use crate::completion::Ending;
use crate::snapshot::{INVALID_SPEC, Object};

/// What the pass decided for one workload.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    /// Replicas placed after this pass.
    pub replicas: u32,
    /// Gang size.
    pub replicas_min: u32,
    /// Replicas demand calls for now (inference services).
    pub replicas_wanted: u32,
    /// Devices lent to tidal work (inference services).
    pub lent_devices: u32,
    /// Where it runs, when placed.
    pub placement: Option<Placement>,
    /// Why this chip, when chosen this pass.
    pub selection: Option<Selection>,
    /// Why it waits.
    pub pending_reason: Option<String>,
    /// Price per hour of the devices held.
    pub cost_per_hour: Option<String>,
    /// Evicted this pass: why, and the workload it made room for (`Kind/namespace/name`).
    pub preempted: Option<(String, String)>,
    /// Whether its pods were evicted by this pass (and not already terminating from an earlier
    /// one): the count of preemptions goes up once per preemption, however many passes it takes.
    pub newly_preempted: bool,
}

fn condition(type_: &str, ok: bool, reason: &str, message: &str, now: &Time, old: &[Condition]) -> Condition {
    let status = if ok { "True" } else { "False" };
    let since = old
        .iter()
        .find(|c| c.type_ == type_ && c.status == status)
        .map_or_else(|| now.clone(), |c| c.last_transition_time.clone());
    Condition {
        type_: type_.into(),
        status: status.into(),
        reason: reason.into(),
        message: message.into(),
        last_transition_time: since,
        observed_generation: None,
    }
}

fn current(object: &Object) -> Value {
    let status = match object {
        Object::Training(j) => serde_json::to_value(&j.status),
        Object::Inference(s) => serde_json::to_value(&s.status),
    };
    status.ok().filter(|v| !v.is_null()).unwrap_or_else(|| json!({}))
}

fn old_conditions(object: &Object) -> Vec<Condition> {
    match object {
        Object::Training(j) => j.status.as_ref().map(|s| s.conditions.clone()),
        Object::Inference(s) => s.status.as_ref().map(|s| s.conditions.clone()),
    }
    .unwrap_or_default()
}

/// The status for `outcome`. Fields with no value are sent as `null`, so a previous value is
/// cleared (dropped by server-side apply, removed by a merge).
pub fn desired(object: &Object, outcome: &Outcome, now: &Time) -> Value {
    let old = old_conditions(object);
    let cur = current(object);
    let running = outcome.replicas >= outcome.replicas_min && outcome.replicas > 0;
    let training = matches!(object, Object::Training(_));
    let phase = match (training, running, outcome.preempted.is_some()) {
        (true, _, true) => "Preempted",
        (true, true, false) => "Running",
        (true, false, false) => "Pending",
        (false, true, _) => "Serving",
        (false, false, _) => "Pending",
    };
    let waiting =
        outcome.pending_reason.clone().or_else(|| outcome.preempted.as_ref().map(|p| p.0.clone())).unwrap_or_default();
    let mut conditions = vec![
        condition("Accepted", true, "Valid", "the spec is valid", now, &old),
        if running {
            condition("Admitted", true, "Placed", "quota and capacity admitted the gang", now, &old)
        } else {
            condition("Admitted", false, "Waiting", &waiting, now, &old)
        },
        condition("Running", running, if running { "Bound" } else { "NotPlaced" }, "", now, &old),
    ];
    if let Some((why, _)) = &outcome.preempted {
        conditions.push(condition("Preempted", true, "Preempted", why, now, &old));
    }
    let selection = outcome.selection.as_ref().map(|s| json!(s)).or_else(|| cur.get("selection").cloned());
    let preemptions = cur.get("preemptions").and_then(Value::as_u64).unwrap_or(0) + u64::from(outcome.newly_preempted);
    let mut status = json!({
        "phase": phase,
        "conditions": conditions,
        "observedGeneration": object.meta().generation,
        "placement": outcome.placement,
        "selection": selection,
        "pendingReason": if running { None } else { Some(waiting) },
        "costPerHour": outcome.cost_per_hour,
    });
    if training {
        status["replicas"] = json!(outcome.replicas);
        status["preemptions"] = json!(preemptions);
        // Kept while it waits after a preemption; cleared once it runs again.
        let by = outcome.preempted.as_ref().map(|p| json!(p.1));
        status["preemptedBy"] =
            if running { Value::Null } else { by.or_else(|| cur.get("preemptedBy").cloned()).unwrap_or(Value::Null) };
        if running && cur.get("startTime").is_none() {
            status["startTime"] = json!(now);
        }
    } else {
        status["readyReplicas"] = json!(outcome.replicas);
        status["desiredReplicas"] = json!(outcome.replicas_wanted);
        status["lentDevices"] = json!(outcome.lent_devices);
    }
    status
}

/// The status of a workload whose spec is invalid: `Accepted=False`, reason `InvalidSpec`, the
/// message naming the field; it waits until its generation changes.
pub fn rejected(object: &Object, message: &str, now: &Time) -> Value {
    let old = old_conditions(object);
    json!({
        "phase": "Pending",
        "conditions": [condition("Accepted", false, INVALID_SPEC, message, now, &old)],
        "observedGeneration": object.meta().generation,
        "pendingReason": format!("the spec is invalid: {message}"),
        "placement": null,
        "costPerHour": null,
    })
}

/// The status of a training job that has ended: its phase, `completionTime`, a `Complete` or
/// `Failed` condition saying why; nothing held any more.
pub fn ended(object: &Object, ending: &Ending, now: &Time) -> Value {
    let old = old_conditions(object);
    let cur = current(object);
    let (phase, end) = match ending {
        Ending::Succeeded => {
            ("Succeeded", condition("Complete", true, "ChiefSucceeded", "replica 0 succeeded", now, &old))
        }
        Ending::Failed(why) => ("Failed", condition("Failed", true, "ReplicaFailed", why, now, &old)),
    };
    let running = condition("Running", false, "Ended", "", now, &old);
    json!({
        "phase": phase,
        "conditions": [condition("Accepted", true, "Valid", "the spec is valid", now, &old), running, end],
        "observedGeneration": object.meta().generation,
        "replicas": 0,
        "placement": null,
        "pendingReason": null,
        "costPerHour": null,
        "completionTime": cur.get("completionTime").cloned().unwrap_or_else(|| json!(now)),
    })
}

fn strip_times(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(cs) = v.get_mut("conditions").and_then(Value::as_array_mut) {
        for c in cs {
            if let Some(o) = c.as_object_mut() {
                o.remove("lastTransitionTime");
            }
        }
    }
    v
}

/// Whether writing `desired` would change the stored status (transition times aside).
pub fn differs(object: &Object, desired: &Value) -> bool {
    let cur = strip_times(&current(object));
    let want = strip_times(desired);
    let Some(fields) = want.as_object() else { return true };
    fields.iter().any(|(k, v)| {
        let have = cur.get(k).unwrap_or(&Value::Null);
        let empty = |x: &Value| x.is_null() || x.as_array().is_some_and(Vec::is_empty);
        !(have == v || (empty(have) && empty(v)) || (k == "startTime" && !have.is_null()))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use k8s_openapi::jiff::Timestamp;
    use tidepool_crds::training_job::TrainingJobStatus;
    use tidepool_crds::{TrainingJob, TrainingJobSpec};

    use super::*;

    fn job() -> TrainingJob {
        let spec: TrainingJobSpec = serde_json::from_value(json!({
            "template": {}, "replicas": {"min": 2}, "accelerators": [{"family": "nvidia"}],
            "workloadClass": "llm-training"
        }))
        .unwrap();
        let mut j = TrainingJob::new("j", spec);
        j.metadata.generation = Some(3);
        j
    }

    fn now() -> Time {
        Time(Timestamp::from_second(1_800_000_000).unwrap())
    }

    #[test]
    fn a_placed_job_runs_and_an_unchanged_status_is_not_rewritten() {
        let outcome =
            Outcome { replicas: 2, replicas_min: 2, cost_per_hour: Some("28.00".into()), ..Default::default() };
        let j = job();
        let want = desired(&Object::Training(j.clone()), &outcome, &now());
        assert_eq!(want["phase"], "Running");
        assert_eq!(want["observedGeneration"], 3);
        assert!(want["pendingReason"].is_null());
        assert!(differs(&Object::Training(j.clone()), &want));

        let mut stored = j;
        let st: TrainingJobStatus = serde_json::from_value(want.clone()).unwrap();
        stored.status = Some(st);
        let later = Time(Timestamp::from_second(1_800_000_100).unwrap());
        let again = desired(&Object::Training(stored.clone()), &outcome, &later);
        assert!(!differs(&Object::Training(stored), &again), "{again}");
        assert_eq!(again["conditions"][0]["lastTransitionTime"], want["conditions"][0]["lastTransitionTime"]);
    }

    #[test]
    fn a_preemption_is_counted_once_across_passes() {
        let outcome = Outcome {
            replicas_min: 2,
            preempted: Some(("preempted with 120s notice".into(), "TrainingJob/ns/high".into())),
            newly_preempted: true,
            ..Default::default()
        };
        let mut j = job();
        let first = desired(&Object::Training(j.clone()), &outcome, &now());
        assert_eq!((first["phase"].as_str(), first["preemptions"].as_u64()), (Some("Preempted"), Some(1)));
        j.status = Some(serde_json::from_value(first).unwrap());
        let still_stopping = Outcome { newly_preempted: false, ..outcome };
        let second = desired(&Object::Training(j.clone()), &still_stopping, &now());
        assert_eq!(second["preemptions"], 1);
        assert!(!differs(&Object::Training(j), &second));
    }

    #[test]
    fn a_waiting_job_says_why_and_an_invalid_one_names_the_field() {
        let reason = "waiting: tenant bank has 16/16 guaranteed nvidia in use".to_owned();
        let outcome = Outcome { replicas_min: 2, pending_reason: Some(reason.clone()), ..Default::default() };
        let want = desired(&Object::Training(job()), &outcome, &now());
        assert_eq!(want["phase"], "Pending");
        assert_eq!(want["pendingReason"], reason);
        assert_eq!(want["conditions"][1]["message"], reason);

        let bad = rejected(&Object::Training(job()), "spec.replicas.min: is 0", &now());
        assert_eq!(bad["conditions"][0]["reason"], INVALID_SPEC);
        assert!(bad["conditions"][0]["message"].as_str().unwrap().contains("spec.replicas.min"));
    }
}
