//! `AcceleratorModel`: one entry of the accelerator catalogue — what a chip is, what it can do for
//! each class of work, what it costs, and how vendor plugins expose it — with the source and
//! confidence of every figure.
//!
//! The built-in catalogue ([`crate::catalogue`]) is a list of these objects; a cluster's own
//! `AcceleratorModel` objects override built-in entries of the same name.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{Family, Labels, SoftwareStack, WorkloadClass, decimal_map};
use crate::validation::{Checker, DECIMAL_PATTERN, Validate, Violations};

/// An accelerator model: specifications, relative throughput per workload class, prices, and the
/// names vendor device plugins and tools use for it. Figures are per device as the device plugin
/// counts it.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "tidepool.dev",
    version = "v1alpha1",
    kind = "AcceleratorModel",
    plural = "acceleratormodels",
    shortname = "accel",
    category = "tidepool",
    status = "AcceleratorModelStatus",
    printcolumn(name = "Family", type_ = "string", json_path = ".spec.family"),
    printcolumn(name = "Model", type_ = "string", json_path = ".spec.model"),
    printcolumn(name = "Memory-GiB", type_ = "integer", json_path = ".spec.memoryGiB"),
    printcolumn(name = "Transfer/h", type_ = "string", json_path = ".spec.prices.transfer"),
    printcolumn(name = "Devices", type_ = "integer", json_path = ".status.devices"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    doc = "An accelerator model in Tidepool's catalogue (cluster-scoped)."
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("{'nvidia':'cuda','ascend':'cann','cambricon':'neuware','hygon':'dtk','kunlunxin':'xpu','iluvatar':'corex','metax':'maca','mthreads':'musa','enflame':'topsrider'}[self.family] == self.softwareStack").message("softwareStack must be the stack of the family (nvidia: cuda, ascend: cann, cambricon: neuware, hygon: dtk, kunlunxin: xpu, iluvatar: corex, metax: maca, mthreads: musa, enflame: topsrider)"))]
pub struct AcceleratorModelSpec {
    /// Vendor, as printed on the datasheet (e.g. `NVIDIA`, `Huawei`).
    #[schemars(length(min = 1, max = 64))]
    pub vendor: String,
    /// Accelerator family; decides the software stack and the device plugin.
    pub family: Family,
    /// Model name for people (e.g. `A100-80G SXM`).
    #[schemars(length(min = 1, max = 64))]
    pub model: String,
    /// Names vendor tools and libraries report for this model (nvidia-smi product name, npu-smi
    /// chip name, ...). Agents resolve discovered devices by these, case-insensitively.
    #[serde(default)]
    #[schemars(length(max = 16))]
    pub product_names: Vec<String>,
    /// Device memory in GiB, per device as the device plugin counts it.
    #[serde(rename = "memoryGiB")]
    #[schemars(range(min = 1, max = 4096))]
    pub memory_gib: u32,
    /// Memory bandwidth in GB/s.
    #[serde(default, rename = "memoryBandwidthGBps", skip_serializing_if = "Option::is_none")]
    pub memory_bandwidth_gbps: Option<u32>,
    /// Peak dense throughput from the datasheet. Peak figures do not predict real speed; the
    /// scheduler uses `relativeThroughput`.
    #[serde(default)]
    pub peak: PeakThroughput,
    /// How devices of this model talk to each other.
    pub interconnect: Interconnect,
    /// Board power in watts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tdp_watts: Option<u32>,
    /// Software stack workloads must be built for to run on this model.
    pub software_stack: SoftwareStack,
    /// Extended resource names vendor device plugins publish for this model (e.g. `nvidia.com/gpu`).
    #[schemars(length(min = 1, max = 8))]
    pub resource_names: Vec<String>,
    /// Node labels that identify nodes carrying this model (e.g. `nvidia.com/gpu.product`).
    #[serde(default)]
    pub node_labels: Labels,
    /// Environment variable the vendor runtime reads to choose devices (e.g. `NVIDIA_VISIBLE_DEVICES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible_devices_env: Option<String>,
    /// Prices per device-hour.
    pub prices: Prices,
    /// Real throughput per workload class relative to the reference chip (A100-80G SXM = 1.0), as
    /// decimal strings keyed by class (`llm-training`, `llm-inference`, `cv-training`,
    /// `cv-inference`, `recsys-training`, `recsys-inference`). A class left out means the model is
    /// not considered for that class unless a workload gives its own measured figure.
    #[schemars(schema_with = "decimal_map")]
    #[x_kube(validation = Rule::new("self.all(k, k in ['llm-training','llm-inference','cv-training','cv-inference','recsys-training','recsys-inference'])").message("relativeThroughput keys must be workload classes: llm-training, llm-inference, cv-training, cv-inference, recsys-training, recsys-inference"))]
    pub relative_throughput: BTreeMap<String, String>,
    /// Where each figure comes from and how far to trust it, keyed by the figure's path in `spec`
    /// (`memoryGiB`, `peak.fp16Tflops`, `prices.list`, `relativeThroughput.llm-training`, ...).
    #[serde(default)]
    pub provenance: BTreeMap<String, Provenance>,
}

/// Peak dense throughput per device, as decimal strings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeakThroughput {
    /// Dense FP16/BF16 TFLOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub fp16_tflops: Option<String>,
    /// Dense INT8 TOPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub int8_tops: Option<String>,
}

/// The device-to-device link and the size of the group it joins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Interconnect {
    /// Link technology (`NVLink`, `HCCS`, `MLU-Link`, `PCIe`, ...).
    #[schemars(length(min = 1, max = 32))]
    pub kind: String,
    /// Bandwidth per device in GB/s.
    #[serde(default, rename = "bandwidthGBps", skip_serializing_if = "Option::is_none")]
    pub bandwidth_gbps: Option<u32>,
    /// Devices joined by the fast link in one group (1 for PCIe-only cards). Gangs that fit in one
    /// group are kept inside one.
    #[schemars(range(min = 1, max = 1024))]
    pub group_size: u32,
}

/// Prices per device-hour, as decimal strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    /// ISO 4217 currency code.
    #[serde(default = "crate::defaults::currency")]
    #[schemars(pattern(r"^[A-Z]{3}$"))]
    pub currency: String,
    /// Public-cloud list price: the fair-price benchmark for related-party charges.
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub list: String,
    /// The group's transfer price, charged to tenants.
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub transfer: String,
    /// The group's own cost (depreciation, power, operations), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(DECIMAL_PATTERN))]
    pub internal_cost: Option<String>,
}

/// Where a figure comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// The source: datasheet, tool output, benchmark, or the rule it was derived by.
    #[schemars(length(min = 1, max = 512))]
    pub source: String,
    /// How far to trust the figure.
    pub confidence: Confidence,
}

/// How far to trust a catalogue figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub enum Confidence {
    /// A datasheet figure, or observed in real tool output.
    High,
    /// A measured benchmark or several agreeing secondary sources.
    Medium,
    /// Sources disagree or only secondary sources exist: override with your own figure.
    Uncertain,
    /// No public figure; derived by the rule the source states. Override with a measurement.
    Estimated,
}

/// What the controller sees of this model in the cluster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceleratorModelStatus {
    /// Standard conditions (`Accepted`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Nodes carrying this model.
    #[serde(default)]
    pub nodes: u32,
    /// Devices of this model in the cluster.
    #[serde(default)]
    pub devices: u32,
    /// Devices reported healthy.
    #[serde(default)]
    pub healthy_devices: u32,
}

impl AcceleratorModelSpec {
    /// Paths of the figures this entry states, in the form `provenance` is keyed by.
    pub fn figures(&self) -> Vec<String> {
        let mut out = vec!["memoryGiB".to_owned()];
        let mut push = |present: bool, name: &str| {
            if present {
                out.push(name.to_owned());
            }
        };
        push(self.memory_bandwidth_gbps.is_some(), "memoryBandwidthGBps");
        push(self.peak.fp16_tflops.is_some(), "peak.fp16Tflops");
        push(self.peak.int8_tops.is_some(), "peak.int8Tops");
        push(self.interconnect.bandwidth_gbps.is_some(), "interconnect.bandwidthGBps");
        push(true, "interconnect.groupSize");
        push(self.tdp_watts.is_some(), "tdpWatts");
        push(true, "prices.list");
        push(true, "prices.transfer");
        push(self.prices.internal_cost.is_some(), "prices.internalCost");
        for class in self.relative_throughput.keys() {
            out.push(format!("relativeThroughput.{class}"));
        }
        out
    }

    /// The relative throughput for a workload class, if the entry states one and it parses.
    pub fn throughput_for(&self, class: WorkloadClass) -> Option<rust_decimal::Decimal> {
        let raw = self.relative_throughput.get(class.as_str())?;
        crate::validation::parse_non_negative_decimal(raw).ok()
    }
}

impl Validate for AcceleratorModelSpec {
    fn validate(&self) -> Result<(), Violations> {
        let mut c = Checker::new();
        c.require(!self.vendor.trim().is_empty(), "spec.vendor", || "is empty".into(), "name the vendor");
        c.require(!self.model.trim().is_empty(), "spec.model", || "is empty".into(), "name the model");
        c.require(self.memory_gib > 0, "spec.memoryGiB", || "is 0".into(), "give the device memory in GiB");
        let stack = self.family.software_stack();
        c.require(
            self.software_stack == stack,
            "spec.softwareStack",
            || format!("{:?} is not the stack of family {}", self.software_stack, self.family),
            &format!("set softwareStack to {}", serde_json::to_value(stack).map(|v| v.to_string()).unwrap_or_default()),
        );
        c.require(
            self.interconnect.group_size >= 1,
            "spec.interconnect.groupSize",
            || "is 0".into(),
            "use 1 for devices without a fast link",
        );
        c.require(
            !self.resource_names.is_empty(),
            "spec.resourceNames",
            || "is empty".into(),
            "list the extended resource names vendor plugins publish, e.g. nvidia.com/gpu",
        );
        c.optional_decimal("spec.peak.fp16Tflops", self.peak.fp16_tflops.as_deref());
        c.optional_decimal("spec.peak.int8Tops", self.peak.int8_tops.as_deref());
        c.require(
            self.prices.currency.len() == 3 && self.prices.currency.bytes().all(|b| b.is_ascii_uppercase()),
            "spec.prices.currency",
            || format!("{:?} is not an ISO 4217 code", self.prices.currency),
            "use a three-letter code such as CNY",
        );
        c.decimal("spec.prices.list", &self.prices.list);
        c.decimal("spec.prices.transfer", &self.prices.transfer);
        c.optional_decimal("spec.prices.internalCost", self.prices.internal_cost.as_deref());
        for (class, factor) in &self.relative_throughput {
            let field = format!("spec.relativeThroughput.{class}");
            if WorkloadClass::parse(class).is_none() {
                c.report(
                    field,
                    format!("{class:?} is not a workload class"),
                    "use llm-training, llm-inference, cv-training, cv-inference, recsys-training or recsys-inference",
                );
            } else {
                c.positive_decimal(field, factor);
            }
        }
        let figures = self.figures();
        for key in self.provenance.keys() {
            c.require(
                figures.contains(key),
                format!("spec.provenance.{key}"),
                || format!("{key:?} names no figure stated in this spec"),
                "key provenance by the path of a stated figure, e.g. memoryGiB or relativeThroughput.llm-training",
            );
        }
        c.finish()
    }
}

impl Validate for AcceleratorModel {
    fn validate(&self) -> Result<(), Violations> {
        self.spec.validate()
    }
}
