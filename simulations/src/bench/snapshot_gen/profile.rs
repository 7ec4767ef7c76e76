//! One workload's attributes — class, kind, accepted chips, priority, work, checkpointing,
//! deadline — drawn from the distributions the module above documents, and gang shapes.

use crate::generator::draw::weighted;
use rand::{Rng, RngExt};
use tidepool_engine::{
    Accept, Checkpoint, FamilyId, ModelId, Seconds, Target, TenantId, Workload, WorkloadClass, WorkloadKind,
};

use super::catalogue::MODELS;

/// Replicas and devices per replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shape {
    pub replicas: u32,
    pub devices_per_replica: u32,
}

impl Shape {
    /// One replica of one device.
    pub const SINGLE: Shape = Shape { replicas: 1, devices_per_replica: 1 };

    /// Devices of the whole gang.
    pub fn devices(self) -> u32 {
        self.replicas * self.devices_per_replica
    }
}

/// Gang shapes and their weights: 8, 16 or 32 devices, as replicas of a whole (8-device) node
/// or of one device each. With fewer than 8 devices per node, a node-sized replica is the node.
pub(super) fn gang_shapes(node_devices: u32) -> [(Shape, u32); 6] {
    let node = node_devices.min(8);
    let of = |total: u32, per: u32| Shape { replicas: total.div_ceil(per), devices_per_replica: per };
    [(of(8, node), 30), (of(16, node), 20), (of(32, node), 15), (of(8, 1), 20), (of(16, 1), 10), (of(32, 1), 5)]
}

/// An accepted model, named by its family 30 % of the time.
fn target(rng: &mut impl Rng, m: ModelId) -> Target {
    if rng.random_bool(0.3) { Target::Family(FamilyId(MODELS[m.ix()].family)) } else { Target::Model(m) }
}

/// A value between `lo` and `hi` whose logarithm is uniform.
fn log_uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

/// Classes of single-device work (two thirds serving).
const SINGLE_CLASSES: [(WorkloadClass, u32); 6] = [
    (WorkloadClass::LlmTraining, 20),
    (WorkloadClass::LlmInference, 35),
    (WorkloadClass::CvTraining, 8),
    (WorkloadClass::CvInference, 17),
    (WorkloadClass::RecsysTraining, 5),
    (WorkloadClass::RecsysInference, 15),
];

/// Classes of gangs (all training).
const GANG_CLASSES: [(WorkloadClass, u32); 3] =
    [(WorkloadClass::LlmTraining, 70), (WorkloadClass::CvTraining, 18), (WorkloadClass::RecsysTraining, 12)];

/// Priorities, drawn uniformly (so 60 % are 0).
const PRIORITIES: [i32; 5] = [0, 0, 0, 100, 500];

/// What the caller decides about a workload; the rest is drawn.
pub(super) struct Draft {
    pub name_prefix: &'static str,
    pub index: usize,
    pub tenant: TenantId,
    pub shape: Shape,
    /// The model it is built for (always accepted; a running workload runs on it).
    pub primary: ModelId,
    pub submitted: Seconds,
    /// Whether it is already running (running workloads get no deadline).
    pub running: bool,
    /// Whether it runs on borrowed devices, which only preemptible work may.
    pub must_be_preemptible: bool,
}

/// Draws a workload's attributes.
pub(super) fn workload(rng: &mut impl Rng, draft: Draft, now: Seconds) -> Workload {
    let class = weighted(rng, if draft.shape.devices() == 1 { &SINGLE_CLASSES } else { &GANG_CLASSES });
    let serving =
        matches!(class, WorkloadClass::LlmInference | WorkloadClass::CvInference | WorkloadClass::RecsysInference);
    let kind = if serving { WorkloadKind::Inference } else { WorkloadKind::Training };
    let llm = matches!(class, WorkloadClass::LlmTraining | WorkloadClass::LlmInference);
    let primary = &MODELS[draft.primary.ix()];
    // A quarter of LLM work needs at least the memory of the chip it was built for.
    let min_memory_gib = if llm && rng.random_bool(0.25) { primary.memory_gib } else { 0 };
    let mut accepts = vec![Accept { target: target(rng, draft.primary), min_memory_gib, throughput: None }];
    let extra = weighted(rng, &[(0usize, 40), (1, 40), (2, 20)]);
    let mut others: Vec<ModelId> = (0..MODELS.len() as u32).map(ModelId).filter(|m| *m != draft.primary).collect();
    for _ in 0..extra {
        let m = others.remove(rng.random_range(0..others.len()));
        accepts.push(Accept { target: target(rng, m), min_memory_gib, throughput: None });
    }
    if rng.random_bool(0.05) {
        // Its own measured figure on the primary chip.
        accepts[0].target = Target::Model(draft.primary);
        accepts[0].throughput = Some(primary.throughput[class as usize] * rng.random_range(0.8..1.2));
    }
    let work = log_uniform(rng, 1.0, 2000.0);
    let expected_work = if serving && rng.random_bool(0.5) { None } else { Some(work) };
    let checkpoint =
        (!serving).then(|| Checkpoint { interval: rng.random_range(1800..=7200), grace: rng.random_range(60..=300) });
    let deadline = (!serving && !draft.running && rng.random_bool(0.2)).then(|| {
        let reference_hours = work / f64::from(draft.shape.devices());
        Seconds(now.0 + (reference_hours * rng.random_range(1.2..4.0) * 3600.0).ceil() as i64)
    });
    let priority = PRIORITIES[rng.random_range(0..PRIORITIES.len())];
    let preemptible = draft.must_be_preemptible || rng.random_bool(0.4);
    let slug = match class {
        WorkloadClass::LlmTraining => "llm-train",
        WorkloadClass::LlmInference => "llm-serve",
        WorkloadClass::CvTraining => "cv-train",
        WorkloadClass::CvInference => "cv-serve",
        WorkloadClass::RecsysTraining => "recsys-train",
        WorkloadClass::RecsysInference => "recsys-serve",
    };
    Workload {
        name: format!("{}/{slug}-{}{:06}", draft.name_prefix, if draft.running { "r" } else { "p" }, draft.index),
        tenant: draft.tenant,
        kind,
        class,
        priority,
        preemptible,
        replicas_min: draft.shape.replicas,
        replicas_wanted: draft.shape.replicas,
        devices_per_replica: draft.shape.devices_per_replica,
        accepts,
        allow_mixed_models: false,
        expected_work,
        checkpoint,
        deadline,
        submitted: draft.submitted,
    }
}
