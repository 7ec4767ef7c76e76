//! `TrainingJob`: a gang of replicas that trains a model, with the accelerators it can use, how
//! much work it is, how it checkpoints, and whether it may run on borrowed or tidal capacity.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{AcceleratorChoice, Placement, ReplicaRange, Template, WorkloadClass, pod_template};
use crate::validation::{Checker, DECIMAL_PATTERN, Validate, Violations};
use crate::workload::{Selection, check_accelerators};

/// A training job: replicas that start together (all or nothing) on one accelerator model chosen
/// by Tidepool among those the job accepts.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "tidepool.dev",
    version = "v1alpha1",
    kind = "TrainingJob",
    plural = "trainingjobs",
    shortname = "tj",
    category = "tidepool",
    namespaced,
    status = "TrainingJobStatus",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Replicas", type_ = "integer", json_path = ".status.replicas"),
    printcolumn(name = "Model", type_ = "string", json_path = ".status.placement.model"),
    printcolumn(name = "Usage", type_ = "string", json_path = ".status.placement.usageClass"),
    printcolumn(name = "Cost/h", type_ = "string", json_path = ".status.costPerHour"),
    printcolumn(name = "Waiting", type_ = "string", json_path = ".status.pendingReason", priority = 1),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    doc = "A Tidepool training job (namespaced)."
)]
#[serde(rename_all = "camelCase")]
pub struct TrainingJobSpec {
    /// Pod template for each replica.
    #[schemars(schema_with = "pod_template")]
    pub template: Template,
    /// Gang size (`min`) and elastic ceiling (`max`).
    pub replicas: ReplicaRange,
    /// Devices each replica needs, all of one model.
    #[serde(default = "crate::defaults::devices_per_replica")]
    #[schemars(range(min = 1, max = 64))]
    pub devices_per_replica: u32,
    /// Accelerators the job has images for; Tidepool picks among them. At least one.
    #[schemars(length(min = 1, max = 32))]
    pub accelerators: Vec<AcceleratorChoice>,
    /// Whether replicas of one gang may run on different models. Off by default: mixed gangs run
    /// at the speed of the slowest device.
    #[serde(default)]
    pub allow_mixed_models: bool,
    /// The kind of training; selects the catalogue's relative-throughput figure.
    pub workload_class: WorkloadClass,
    /// Work the job needs, in reference-device-hours (hours on one A100-80G). Without it Tidepool
    /// cannot estimate runtime or total cost and compares chips by cost per unit of throughput.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub expected_work: Option<String>,
    /// Priority among the tenant's workloads; higher runs first and may preempt lower.
    #[serde(default = "crate::defaults::training_priority")]
    #[schemars(range(min = -1000, max = 1000))]
    pub priority: i32,
    /// Whether the job may run on borrowed or tidal capacity, where it can be preempted.
    #[serde(default)]
    pub preemptible: bool,
    /// How the job checkpoints; on preemption, work since the last checkpoint is lost. Absent means
    /// the job does not checkpoint and restarts from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Checkpoint>,
    /// Time by which the job should finish; chips that cannot make it are not chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Time>,
}

/// Checkpoint cadence and the notice the job needs to write one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.gracePeriodSeconds < self.intervalSeconds").message("checkpoint.gracePeriodSeconds must be shorter than checkpoint.intervalSeconds"))]
pub struct Checkpoint {
    /// Seconds between checkpoints.
    #[schemars(range(min = 60, max = 604800))]
    pub interval_seconds: u32,
    /// Seconds the job needs, after a preemption notice, to write a checkpoint and stop.
    #[serde(default = "crate::defaults::checkpoint_grace_seconds")]
    #[schemars(range(min = 0, max = 86400))]
    pub grace_period_seconds: u32,
}

/// Lifecycle phase of a training job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TrainingPhase {
    /// Waiting for admission or capacity; `pendingReason` says why.
    #[default]
    Pending,
    /// All gang replicas are placed.
    Running,
    /// Preempted; re-queued and will resume from its last checkpoint.
    Preempted,
    /// Finished successfully.
    Succeeded,
    /// Failed; conditions say why.
    Failed,
}

/// What the controller last observed and decided for a training job.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrainingJobStatus {
    /// Lifecycle phase.
    #[serde(default)]
    pub phase: TrainingPhase,
    /// Standard conditions (`Accepted`, `Admitted`, `Running`, `Preempted`, `Succeeded`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Replicas placed now.
    #[serde(default)]
    pub replicas: u32,
    /// Where the job runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Why the chosen model won, and the alternatives considered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// One sentence a person can act on, while the job waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_reason: Option<String>,
    /// Price of the devices held, per hour, in the pricing currency (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_hour: Option<String>,
    /// Times the job was preempted.
    #[serde(default)]
    pub preemptions: u32,
    /// While preempted: the workload it made room for, as `Kind/namespace/name`. The job is not
    /// placed again before that one runs (for at most ten minutes), so the two do not take the
    /// devices from each other in turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preempted_by: Option<String>,
    /// When the job last started running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,
    /// When the last checkpoint was written, as reported by the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checkpoint_time: Option<Time>,
    /// When the job finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,
}

impl Validate for TrainingJobSpec {
    fn validate(&self) -> Result<(), Violations> {
        let mut c = Checker::new();
        self.replicas.check("spec.replicas", &mut c);
        c.require(
            self.devices_per_replica >= 1,
            "spec.devicesPerReplica",
            || "is 0".into(),
            "request at least 1 device per replica",
        );
        check_accelerators(&self.accelerators, false, &mut c);
        c.require(
            self.workload_class.is_training(),
            "spec.workloadClass",
            || format!("{} is a serving class", self.workload_class),
            "use llm-training, cv-training or recsys-training; serving belongs in an InferenceService",
        );
        if let Some(work) = &self.expected_work {
            c.positive_decimal("spec.expectedWork", work);
        }
        if let Some(cp) = &self.checkpoint {
            c.require(
                cp.interval_seconds >= 60,
                "spec.checkpoint.intervalSeconds",
                || format!("{} is under a minute", cp.interval_seconds),
                "checkpoint at most once a minute",
            );
            c.require(
                cp.grace_period_seconds < cp.interval_seconds,
                "spec.checkpoint.gracePeriodSeconds",
                || format!("{} is not shorter than intervalSeconds ({})", cp.grace_period_seconds, cp.interval_seconds),
                "a job that needs longer to checkpoint than it runs between checkpoints never makes progress: shorten the grace period or lengthen the interval",
            );
        }
        c.finish()
    }
}

impl Validate for TrainingJob {
    fn validate(&self) -> Result<(), Violations> {
        self.spec.validate()
    }
}
