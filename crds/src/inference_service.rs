//! `InferenceService`: replicas that serve requests, sized from a demand signal, which may lend the
//! devices it does not need (at night, say) to preemptible training and take them back in time.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{AcceleratorChoice, Placement, ReplicaRange, Template, WorkloadClass, pod_template};
use crate::validation::{Checker, DECIMAL_PATTERN, Validate, Violations};
use crate::workload::{Selection, check_accelerators};

/// A serving workload whose replica count follows demand between `replicas.min` and `replicas.max`.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "tidepool.dev",
    version = "v1alpha1",
    kind = "InferenceService",
    plural = "inferenceservices",
    shortname = "tis",
    category = "tidepool",
    namespaced,
    status = "InferenceServiceStatus",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Ready", type_ = "integer", json_path = ".status.readyReplicas"),
    printcolumn(name = "Desired", type_ = "integer", json_path = ".status.desiredReplicas"),
    printcolumn(name = "Model", type_ = "string", json_path = ".status.placement.model"),
    printcolumn(name = "Lent", type_ = "integer", json_path = ".status.lentDevices"),
    printcolumn(name = "Cost/h", type_ = "string", json_path = ".status.costPerHour"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    doc = "A Tidepool inference service (namespaced)."
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.accelerators.all(a, has(a.capacityRequestsPerSecond))").message("every accelerator of an InferenceService needs capacityRequestsPerSecond"))]
pub struct InferenceServiceSpec {
    /// Pod template for each replica.
    #[schemars(schema_with = "pod_template")]
    pub template: Template,
    /// Fewest replicas kept running (`min`) and most allowed (`max`).
    pub replicas: ReplicaRange,
    /// Devices each replica needs.
    #[serde(default = "crate::defaults::devices_per_replica")]
    #[schemars(range(min = 1, max = 64))]
    pub devices_per_replica: u32,
    /// Accelerators the service has images for, each with the requests per second one replica
    /// serves there. At least one.
    #[schemars(length(min = 1, max = 32))]
    pub accelerators: Vec<AcceleratorChoice>,
    /// The kind of serving; selects the catalogue's relative-throughput figure.
    #[serde(default = "default_class")]
    pub workload_class: WorkloadClass,
    /// Priority among the tenant's workloads; serving defaults above training.
    #[serde(default = "crate::defaults::inference_priority")]
    #[schemars(range(min = -1000, max = 1000))]
    pub priority: i32,
    /// Expected demand.
    pub demand: Demand,
    /// Utilisation each replica is sized for, in percent of its capacity.
    #[serde(default = "crate::defaults::target_utilization_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub target_utilization_percent: u32,
    /// Lending idle devices to preemptible training.
    #[serde(default)]
    pub tidal: TidalSettings,
}

fn default_class() -> WorkloadClass {
    WorkloadClass::LlmInference
}

/// Expected requests per second, as a peak and an optional daily shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("size(self.hourlyProfile) == 0 || size(self.hourlyProfile) == 24").message("demand.hourlyProfile needs 24 entries, one per hour of the day"))]
pub struct Demand {
    /// Peak requests per second (decimal string).
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub peak_requests_per_second: String,
    /// Share of the peak expected in each hour of the local day (index 0 = 00:00–01:00 in the
    /// SchedulingPolicy's UTC offset), as 24 decimal strings between 0 and 1. Empty means flat at
    /// the peak.
    #[serde(default)]
    #[schemars(length(max = 24), inner(pattern(DECIMAL_PATTERN)))]
    pub hourly_profile: Vec<String>,
    /// PromQL query giving live requests per second; when set, it corrects the profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric_query: Option<String>,
}

/// Whether and how an inference service lends its idle devices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TidalSettings {
    /// Lend devices the forecast says will sit idle to preemptible training.
    #[serde(default)]
    pub may_lend: bool,
    /// Seconds of notice borrowers get before demand returns; at least their checkpoint grace.
    #[serde(default = "crate::defaults::reclaim_lead_time_seconds")]
    #[schemars(range(min = 0, max = 86400))]
    pub reclaim_lead_time_seconds: u32,
}

impl Default for TidalSettings {
    fn default() -> Self {
        Self { may_lend: false, reclaim_lead_time_seconds: crate::defaults::RECLAIM_LEAD_TIME_SECONDS }
    }
}

/// Lifecycle phase of an inference service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum InferencePhase {
    /// Fewer than `replicas.min` replicas are placed; `pendingReason` says why.
    #[default]
    Pending,
    /// At least `replicas.min` replicas are placed.
    Serving,
    /// Running below the replicas demand calls for.
    Degraded,
}

/// What the controller last observed and decided for an inference service.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct InferenceServiceStatus {
    /// Lifecycle phase.
    #[serde(default)]
    pub phase: InferencePhase,
    /// Standard conditions (`Accepted`, `Serving`, `Lending`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Replicas demand calls for now.
    #[serde(default)]
    pub desired_replicas: u32,
    /// Replicas placed and ready.
    #[serde(default)]
    pub ready_replicas: u32,
    /// Devices lent to preemptible training now.
    #[serde(default)]
    pub lent_devices: u32,
    /// Where the replicas run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Why the chosen model won, and the alternatives considered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
    /// One sentence a person can act on, while replicas wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_reason: Option<String>,
    /// Price of the devices held, per hour (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_hour: Option<String>,
}

impl Validate for InferenceServiceSpec {
    fn validate(&self) -> Result<(), Violations> {
        let mut c = Checker::new();
        self.replicas.check("spec.replicas", &mut c);
        c.require(
            self.devices_per_replica >= 1,
            "spec.devicesPerReplica",
            || "is 0".into(),
            "request at least 1 device per replica",
        );
        check_accelerators(&self.accelerators, true, &mut c);
        c.require(
            !self.workload_class.is_training(),
            "spec.workloadClass",
            || format!("{} is a training class", self.workload_class),
            "use llm-inference, cv-inference or recsys-inference; training belongs in a TrainingJob",
        );
        c.decimal("spec.demand.peakRequestsPerSecond", &self.demand.peak_requests_per_second);
        let profile = &self.demand.hourly_profile;
        c.require(
            profile.is_empty() || profile.len() == 24,
            "spec.demand.hourlyProfile",
            || format!("has {} entries", profile.len()),
            "give 24 entries, one per hour of the day, or none for a flat profile",
        );
        for (hour, share) in profile.iter().enumerate() {
            let field = format!("spec.demand.hourlyProfile[{hour}]");
            if let Some(d) = c.decimal(field.clone(), share) {
                c.require(
                    d <= rust_decimal::Decimal::ONE,
                    field,
                    || format!("{share} is above 1"),
                    "give each hour as a share of the peak, between 0 and 1",
                );
            }
        }
        c.require(
            (1..=100).contains(&self.target_utilization_percent),
            "spec.targetUtilizationPercent",
            || format!("{} is outside 1..100", self.target_utilization_percent),
            "give a percentage between 1 and 100",
        );
        c.finish()
    }
}

impl Validate for InferenceService {
    fn validate(&self) -> Result<(), Violations> {
        self.spec.validate()
    }
}
