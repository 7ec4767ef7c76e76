//! Types shared by several resources: accelerator families and software stacks, workload classes,
//! references to catalogue entries, replica ranges, placements, and the schema helpers that make
//! decimal strings and pod templates look right to the API server.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodTemplateSpec;
use kube::KubeSchema;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::validation::{Checker, DECIMAL_PATTERN};

/// An accelerator family: one vendor line whose devices share a software stack and device plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// NVIDIA GPUs (CUDA).
    Nvidia,
    /// Huawei Ascend NPUs (CANN).
    Ascend,
    /// Cambricon MLUs (Neuware).
    Cambricon,
    /// Hygon DCUs (DTK, ROCm-like).
    Hygon,
    /// Kunlunxin XPUs (XPU runtime).
    Kunlunxin,
    /// Iluvatar CoreX GPUs (CUDA-like, own builds).
    Iluvatar,
    /// MetaX GPUs (MACA).
    Metax,
    /// Moore Threads GPUs (MUSA).
    Mthreads,
    /// Enflame GCUs (TopsRider).
    Enflame,
}

impl Family {
    /// Every family, in catalogue order.
    pub const ALL: [Family; 9] = [
        Family::Nvidia,
        Family::Ascend,
        Family::Cambricon,
        Family::Hygon,
        Family::Kunlunxin,
        Family::Iluvatar,
        Family::Metax,
        Family::Mthreads,
        Family::Enflame,
    ];

    /// The lowercase name used in manifests and labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Nvidia => "nvidia",
            Family::Ascend => "ascend",
            Family::Cambricon => "cambricon",
            Family::Hygon => "hygon",
            Family::Kunlunxin => "kunlunxin",
            Family::Iluvatar => "iluvatar",
            Family::Metax => "metax",
            Family::Mthreads => "mthreads",
            Family::Enflame => "enflame",
        }
    }

    /// The software stack every model of this family runs.
    pub fn software_stack(self) -> SoftwareStack {
        match self {
            Family::Nvidia => SoftwareStack::Cuda,
            Family::Ascend => SoftwareStack::Cann,
            Family::Cambricon => SoftwareStack::Neuware,
            Family::Hygon => SoftwareStack::Dtk,
            Family::Kunlunxin => SoftwareStack::Xpu,
            Family::Iluvatar => SoftwareStack::Corex,
            Family::Metax => SoftwareStack::Maca,
            Family::Mthreads => SoftwareStack::Musa,
            Family::Enflame => SoftwareStack::Topsrider,
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A vendor software stack. Stacks do not interoperate: an image built for one runs on no other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SoftwareStack {
    /// NVIDIA CUDA.
    Cuda,
    /// Huawei CANN.
    Cann,
    /// Cambricon Neuware.
    Neuware,
    /// Hygon DTK.
    Dtk,
    /// Kunlunxin XPU runtime.
    Xpu,
    /// Iluvatar CoreX.
    Corex,
    /// MetaX MACA.
    Maca,
    /// Moore Threads MUSA.
    Musa,
    /// Enflame TopsRider.
    Topsrider,
}

/// The kind of work a workload does; real throughput differs by chip and by class, so the
/// catalogue carries one relative-throughput factor per class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadClass {
    /// Large-language-model pre-training or fine-tuning.
    LlmTraining,
    /// Large-language-model serving.
    LlmInference,
    /// Computer-vision training (CNNs, ViTs).
    CvTraining,
    /// Computer-vision serving.
    CvInference,
    /// Recommendation-model training.
    RecsysTraining,
    /// Recommendation-model serving.
    RecsysInference,
}

impl WorkloadClass {
    /// Every class, in catalogue order.
    pub const ALL: [WorkloadClass; 6] = [
        WorkloadClass::LlmTraining,
        WorkloadClass::LlmInference,
        WorkloadClass::CvTraining,
        WorkloadClass::CvInference,
        WorkloadClass::RecsysTraining,
        WorkloadClass::RecsysInference,
    ];

    /// The kebab-case name used in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadClass::LlmTraining => "llm-training",
            WorkloadClass::LlmInference => "llm-inference",
            WorkloadClass::CvTraining => "cv-training",
            WorkloadClass::CvInference => "cv-inference",
            WorkloadClass::RecsysTraining => "recsys-training",
            WorkloadClass::RecsysInference => "recsys-inference",
        }
    }

    /// Parses the manifest name of a class.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// Whether this is a training class (as opposed to serving).
    pub fn is_training(self) -> bool {
        matches!(self, WorkloadClass::LlmTraining | WorkloadClass::CvTraining | WorkloadClass::RecsysTraining)
    }
}

impl std::fmt::Display for WorkloadClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a quota or an acceptable accelerator points at: one catalogue model, or a whole family.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AcceleratorRef {
    /// Any model of the family.
    Family(Family),
    /// One model, by its `AcceleratorModel` name.
    Model(String),
}

impl AcceleratorRef {
    /// Builds the reference from the two optional fields the API uses; `None` unless exactly one is set.
    pub fn from_fields(family: Option<Family>, model: Option<&str>) -> Option<Self> {
        match (family, model) {
            (Some(f), None) => Some(AcceleratorRef::Family(f)),
            (None, Some(m)) => Some(AcceleratorRef::Model(m.to_owned())),
            _ => None,
        }
    }

    /// Whether a catalogue model with this name and family is covered by the reference.
    pub fn covers(&self, model_name: &str, family: Family) -> bool {
        match self {
            AcceleratorRef::Family(f) => *f == family,
            AcceleratorRef::Model(m) => m == model_name,
        }
    }
}

impl std::fmt::Display for AcceleratorRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AcceleratorRef::Family(family) => write!(f, "family {family}"),
            AcceleratorRef::Model(model) => write!(f, "model {model}"),
        }
    }
}

/// An accelerator a workload can run on, and what it needs from it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.model) != has(self.family)").message("set exactly one of model or family"))]
pub struct AcceleratorChoice {
    /// A catalogue model, by the name of its `AcceleratorModel` (e.g. `nvidia-a100-80g`).
    /// Set this or `family`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Any model of this accelerator family. Set this or `model`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// Device memory each replica needs on every device, in GiB; models with less are not considered.
    #[serde(default, rename = "minMemoryGiB", skip_serializing_if = "Option::is_none")]
    pub min_memory_gib: Option<u32>,
    /// Throughput measured by the user for this workload on this accelerator, relative to the
    /// reference chip (A100-80G = 1.0), as a decimal string. Overrides the catalogue's figure for
    /// the workload class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub relative_throughput: Option<String>,
    /// Requests per second one replica serves on this accelerator (InferenceService only, where it
    /// is required), as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub capacity_requests_per_second: Option<String>,
    /// Container image built for this accelerator's software stack. When set, it replaces the image
    /// of the template's first container on pods placed here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

impl AcceleratorChoice {
    /// The model or family this choice names, if exactly one is set.
    pub fn target(&self) -> Option<AcceleratorRef> {
        AcceleratorRef::from_fields(self.family, self.model.as_deref())
    }

    /// Checks the rules of one choice found at `path`.
    pub(crate) fn check(&self, path: &str, c: &mut Checker) {
        if self.target().is_none() {
            c.report(
                format!("{path}.model"),
                "both or neither of model and family are set",
                "name exactly one catalogue model (model) or one family (family)",
            );
        }
        if self.min_memory_gib == Some(0) {
            c.report(format!("{path}.minMemoryGiB"), "is 0", "leave it out, or give the GiB each device must have");
        }
        if let Some(t) = &self.relative_throughput {
            c.positive_decimal(format!("{path}.relativeThroughput"), t);
        }
        if let Some(rps) = &self.capacity_requests_per_second {
            c.positive_decimal(format!("{path}.capacityRequestsPerSecond"), rps);
        }
    }
}

/// How many replicas a workload runs: `min` is the gang size that must start together, `max` the
/// elastic ceiling (defaults to `min`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.max) || self.min <= self.max").message("replicas.min must not exceed replicas.max"))]
pub struct ReplicaRange {
    /// Replicas that must be placed together (all or nothing). At least 1.
    #[schemars(range(min = 1, max = 4096))]
    pub min: u32,
    /// Most replicas the workload may scale to; absent means exactly `min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 4096))]
    pub max: Option<u32>,
}

impl ReplicaRange {
    /// The effective maximum (`max`, or `min` when absent).
    pub fn max_or_min(&self) -> u32 {
        self.max.unwrap_or(self.min)
    }

    pub(crate) fn check(&self, path: &str, c: &mut Checker) {
        c.require(self.min >= 1, format!("{path}.min"), || "is 0".into(), "set at least 1 replica");
        if let Some(max) = self.max {
            c.require(
                self.min <= max,
                format!("{path}.max"),
                || format!("{max} is below replicas.min ({})", self.min),
                "set max to at least min, or leave max out to mean exactly min",
            );
        }
    }
}

/// Where a workload runs now, as the controller placed it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// Cluster the workload runs in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// Catalogue model of the devices (one model per gang unless the workload allows mixing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Nodes the replicas run on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// Device ids per replica, as `node/device-id`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// Usage class of the devices: Guaranteed (within quota), Borrowed, or Tidal (lent by inference).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_class: Option<String>,
}

/// Schema for a map whose values are decimal strings.
pub fn decimal_map(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": { "type": "string", "pattern": DECIMAL_PATTERN },
    })
}

/// Schema for a pod template: an object the API server keeps as written. The full pod schema would
/// make each CRD several hundred kilobytes; the pod itself is validated when the controller creates it.
pub fn pod_template(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "description": "Pod template for each replica (a core/v1 PodTemplateSpec). Tidepool adds the device requests, the tenant and workload labels and schedulerName.",
        "x-kubernetes-preserve-unknown-fields": true,
    })
}

/// The pod template type used by workloads.
pub type Template = PodTemplateSpec;

/// Labels, as in `metadata.labels`.
pub type Labels = BTreeMap<String, String>;
