//! What the engine knows of accelerator models: family, memory, device-link group size, price per
//! device-hour, and relative throughput per workload class (reference chip = 1.0).

use rust_decimal::Decimal;

use crate::ids::{FamilyId, ModelId};

/// The kind of work, which decides which relative-throughput figure applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadClass {
    /// LLM pre-training or fine-tuning.
    LlmTraining,
    /// LLM serving.
    LlmInference,
    /// Computer-vision training.
    CvTraining,
    /// Computer-vision serving.
    CvInference,
    /// Recommendation training.
    RecsysTraining,
    /// Recommendation serving.
    RecsysInference,
}

impl WorkloadClass {
    /// Number of classes; throughput tables have this many entries.
    pub const COUNT: usize = 6;
}

/// One accelerator model.
#[derive(Clone, Debug)]
pub struct Model {
    /// Catalogue name, e.g. `ascend-910b`.
    pub name: String,
    /// Its family; a family has one software stack.
    pub family: FamilyId,
    /// Device memory in GiB.
    pub memory_gib: u32,
    /// Price per device-hour charged to tenants.
    pub price_per_hour: Decimal,
    /// Relative throughput per [`WorkloadClass`] (indexed by `class as usize`); `None` = no figure,
    /// the model is not considered for that class unless a workload states its own.
    pub throughput: [Option<f64>; WorkloadClass::COUNT],
}

/// The models and families a snapshot refers to.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    /// Family names (e.g. `nvidia`, `ascend`).
    pub families: Vec<String>,
    /// Models, indexed by [`ModelId`].
    pub models: Vec<Model>,
}

impl Catalogue {
    /// The model behind an id.
    pub fn model(&self, id: ModelId) -> &Model {
        &self.models[id.ix()]
    }

    /// The model id for a name.
    pub fn model_id(&self, name: &str) -> Option<ModelId> {
        self.models.iter().position(|m| m.name == name).map(|i| ModelId(i as u32))
    }

    /// The family id for a name.
    pub fn family_id(&self, name: &str) -> Option<FamilyId> {
        self.families.iter().position(|f| f == name).map(|i| FamilyId(i as u32))
    }

    /// Ids of every model, in catalogue order.
    pub fn model_ids(&self) -> impl Iterator<Item = ModelId> + '_ {
        (0..self.models.len() as u32).map(ModelId)
    }
}
