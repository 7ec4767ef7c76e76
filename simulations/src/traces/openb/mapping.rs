//! From openb pods to Tidepool workloads: plain functions the simulator calls on each pod it
//! replays. They return an [`OpenbWorkload`], the trace-side half of a
//! [`tidepool_engine::Workload`]; the simulator adds what the trace does not know (tenant, model
//! ids of its own catalogue, checkpointing).
//!
//! The rules, one per question:
//! - **Kind, priority, preemption, by QoS.**
//!
//!   | QoS | kind | class | preemptible | priority |
//!   |---|---|---|---|---|
//!   | `LS` (latency-sensitive) | inference | `inference_class` | no | [`PRIORITY_LATENCY_SENSITIVE`] 100 |
//!   | `Guaranteed` | training | `training_class` | no | [`PRIORITY_GUARANTEED`] 50 |
//!   | `Burstable` | training | `training_class` | yes | [`PRIORITY_BURSTABLE`] 10 |
//!   | `BE` (best-effort) | training | `training_class` | yes | [`PRIORITY_BEST_EFFORT`] 0 |
//!
//!   The trace says nothing of what the pods compute; the classes are options and default to
//!   computer vision (`CvInference`, `CvTraining`), the middle of the catalogue's figures.
//! - **Skipped pods**, each counted by [`MappingTally`]: CPU-only pods (`num_gpu` 0 and
//!   `gpu_milli` 0) — Tidepool places accelerators only; pods never scheduled in Alibaba's cluster
//!   (`scheduled_time` empty, phase `Pending`), whose running time the trace cannot give; pods of
//!   the resources-only lists, which have no times.
//! - **GPU sharing.** A pod asking for a share of one GPU (`num_gpu` 1, `gpu_milli` below 1000) is
//!   given one whole device: the engine allocates whole devices. It keeps its `gpu_milli` for
//!   reports, and [`MappingTally::shared_as_whole`] counts them. Replaying the trace therefore asks
//!   for more devices than Alibaba's cluster used (3,078 of the default list's 7,064 GPU pods share).
//! - **Devices.** One pod is one replica of `num_gpu` devices (a pod sits on one node).
//! - **Arrival** is `creation_time`.
//! - **Running time** is `deletion_time − scheduled_time`: the trace also has `creation_time`, but
//!   `deletion_time − creation_time` (the pod's
//!   [`Lifecycle::lifetime`](super::Lifecycle::lifetime)) includes the time it queued in Alibaba's
//!   cluster, which the simulator produces on its own. What remains is still an
//!   upper bound on the work: a pod object is deleted after its containers end, and a `Running`
//!   service is deleted when it is scaled in, not when work runs out. The few pods deleted at the
//!   trace's last second (12,902,960 in the default list) were cut by the window, a lower bound.
//! - **Work** (training kinds only): the trace does not say which GPU model each pod ran on, so the
//!   running time is taken to be measured on one chip, by default a T4 (the most common model of
//!   the fleet the catalogue knows; G2 and G3 are undisclosed):
//!   `expected_work = run_time / 3600 × devices × throughput of that chip for the class`, in the
//!   catalogue's reference-device-hours (A100-80G = 1.0). A replay on T4s reproduces the trace's
//!   running time; a faster chip finishes sooner. Use [`MappingOptions::measured_on`] to take
//!   another chip's figures from the simulator's catalogue. Inference pods get no work: a service
//!   runs for its `run_time` whatever chip it is on.
//! - **Accepted models** are the trace's names from `gpu_spec` (empty = any); [`catalogue_model`]
//!   gives the built-in catalogue's name for the five the catalogue knows.

use tidepool_engine::{Catalogue, WorkloadClass, WorkloadKind};

use super::pods::{PodRecord, Qos};

/// Priority of latency-sensitive (`LS`) pods.
pub const PRIORITY_LATENCY_SENSITIVE: i32 = 100;
/// Priority of `Guaranteed` pods.
pub const PRIORITY_GUARANTEED: i32 = 50;
/// Priority of `Burstable` pods.
pub const PRIORITY_BURSTABLE: i32 = 10;
/// Priority of best-effort (`BE`) pods.
pub const PRIORITY_BEST_EFFORT: i32 = 0;

/// The built-in catalogue's `nvidia-t4` relative throughput for `cv-inference`
/// (`crds/catalogue/builtin.yaml`; a test keeps the two equal).
pub const T4_CV_INFERENCE: f64 = 0.15;
/// The built-in catalogue's `nvidia-t4` relative throughput for `cv-training`
/// (`crds/catalogue/builtin.yaml`; a test keeps the two equal).
pub const T4_CV_TRAINING: f64 = 0.13;

/// The assumptions the mapping makes where the trace is silent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MappingOptions {
    /// Class of latency-sensitive pods.
    pub inference_class: WorkloadClass,
    /// Class of every other pod.
    pub training_class: WorkloadClass,
    /// Relative throughput, for `inference_class`, of the chip the trace's times are taken to be
    /// measured on (kept for callers that give inference work; the mapping gives none).
    pub inference_runtime_throughput: f64,
    /// Relative throughput, for `training_class`, of the chip the trace's times are taken to be
    /// measured on: the factor from device-hours in the trace to reference-device-hours.
    pub training_runtime_throughput: f64,
}

impl Default for MappingOptions {
    /// Computer vision, times measured on a T4.
    fn default() -> Self {
        Self {
            inference_class: WorkloadClass::CvInference,
            training_class: WorkloadClass::CvTraining,
            inference_runtime_throughput: T4_CV_INFERENCE,
            training_runtime_throughput: T4_CV_TRAINING,
        }
    }
}

impl MappingOptions {
    /// Options taking the trace's times as measured on `model` of `catalogue`; `None` when the
    /// catalogue has no such model or no figure for one of the classes.
    pub fn measured_on(
        catalogue: &Catalogue,
        model: &str,
        inference_class: WorkloadClass,
        training_class: WorkloadClass,
    ) -> Option<Self> {
        let entry = catalogue.model(catalogue.model_id(model)?);
        Some(Self {
            inference_class,
            training_class,
            inference_runtime_throughput: entry.throughput[inference_class as usize]?,
            training_runtime_throughput: entry.throughput[training_class as usize]?,
        })
    }
}

/// A replayable GPU pod, in the engine's terms where they fit.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenbWorkload {
    /// The pod's name.
    pub name: String,
    /// Its QoS in the trace.
    pub qos: Qos,
    /// Training or serving.
    pub kind: WorkloadKind,
    /// Class of work.
    pub class: WorkloadClass,
    /// Priority; higher first.
    pub priority: i32,
    /// Whether it may run on borrowed or tidal capacity and be preempted.
    pub preemptible: bool,
    /// Whole devices for its one replica: `num_gpu`, a GPU-sharing pod counting as one.
    pub devices: u32,
    /// The trace's per-GPU share in thousandths (1000 = whole GPUs).
    pub gpu_milli: u32,
    /// Accepted GPU models by the trace's names; empty = any.
    pub allowed_models: Vec<String>,
    /// Arrival: `creation_time`, seconds from the trace's start.
    pub submitted: i64,
    /// Seconds it ran in the trace: `deletion_time − scheduled_time`.
    pub run_time: i64,
    /// Work in reference-device-hours (training kinds); `None` for inference.
    pub expected_work: Option<f64>,
}

/// Why a pod is not replayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Skip {
    /// It asks for no GPU.
    CpuOnly,
    /// It was never scheduled in the trace, so its running time is unknown.
    NeverScheduled,
    /// Its list has no times (resources-only schema).
    Untimed,
}

/// Maps one pod by the rules of the module documentation.
pub fn map_pod(pod: &PodRecord, options: &MappingOptions) -> Result<OpenbWorkload, Skip> {
    if pod.is_cpu_only() {
        return Err(Skip::CpuOnly);
    }
    let life = pod.lifecycle.ok_or(Skip::Untimed)?;
    let run_time = life.run_time().ok_or(Skip::NeverScheduled)?;
    let (kind, preemptible, priority) = match life.qos {
        Qos::LatencySensitive => (WorkloadKind::Inference, false, PRIORITY_LATENCY_SENSITIVE),
        Qos::Guaranteed => (WorkloadKind::Training, false, PRIORITY_GUARANTEED),
        Qos::Burstable => (WorkloadKind::Training, true, PRIORITY_BURSTABLE),
        Qos::BestEffort => (WorkloadKind::Training, true, PRIORITY_BEST_EFFORT),
    };
    let devices = pod.num_gpu.max(1);
    let (class, expected_work) = match kind {
        WorkloadKind::Inference => (options.inference_class, None),
        WorkloadKind::Training => (
            options.training_class,
            Some(run_time as f64 / 3600.0 * f64::from(devices) * options.training_runtime_throughput),
        ),
    };
    Ok(OpenbWorkload {
        name: pod.name.clone(),
        qos: life.qos,
        kind,
        class,
        priority,
        preemptible,
        devices,
        gpu_milli: pod.gpu_milli,
        allowed_models: pod.gpu_spec.clone(),
        submitted: life.creation_time,
        run_time,
        expected_work,
    })
}

/// Counts of what [`map_pod`] did with a list's pods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MappingTally {
    /// Pods mapped to workloads.
    pub mapped: u64,
    /// Of them, GPU-sharing pods given a whole device.
    pub shared_as_whole: u64,
    /// Of them, inference workloads.
    pub inference: u64,
    /// Pods skipped as CPU-only.
    pub cpu_only: u64,
    /// Pods skipped as never scheduled.
    pub never_scheduled: u64,
    /// Pods skipped for want of times.
    pub untimed: u64,
}

impl MappingTally {
    /// Counts one result of [`map_pod`].
    pub fn add(&mut self, result: &Result<OpenbWorkload, Skip>) {
        match result {
            Ok(w) => {
                self.mapped += 1;
                self.shared_as_whole += u64::from(w.gpu_milli < 1000);
                self.inference += u64::from(w.kind == WorkloadKind::Inference);
            }
            Err(Skip::CpuOnly) => self.cpu_only += 1,
            Err(Skip::NeverScheduled) => self.never_scheduled += 1,
            Err(Skip::Untimed) => self.untimed += 1,
        }
    }

    /// Pods counted, mapped or skipped.
    pub fn total(&self) -> u64 {
        self.mapped + self.cpu_only + self.never_scheduled + self.untimed
    }
}

/// The built-in catalogue's model for a GPU model as the trace names it (its `productNames`
/// list these names); `None` for `G2`, `G3` (undisclosed Alibaba codes) and any other name.
pub fn catalogue_model(trace_model: &str) -> Option<&'static str> {
    Some(match trace_model {
        "P100" => "nvidia-p100",
        "T4" => "nvidia-t4",
        "V100M16" => "nvidia-v100-16g",
        "V100M32" => "nvidia-v100-32g",
        "A10" => "nvidia-a10",
        _ => return None,
    })
}
