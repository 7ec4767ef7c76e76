//! The accelerator catalogue: the built-in entries shipped in `crds/catalogue/builtin.yaml`
//! (embedded at build time), overridden entry by entry by a cluster's own `AcceleratorModel`
//! objects of the same name.
//!
//! The reference chip is the A100-80G SXM (`nvidia-a100-80g`): its relative throughput is 1.0 for
//! every workload class, and workloads state their expected work in hours on one of it.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use kube::ResourceExt;

use crate::accelerator_model::AcceleratorModel;
use crate::common::WorkloadClass;
use crate::manifests::{self, ApiObject, ManifestError};

/// Name of the reference chip.
pub const REFERENCE_MODEL: &str = "nvidia-a100-80g";

/// The text of the built-in catalogue, a multi-document YAML of `AcceleratorModel` objects.
pub const BUILTIN_YAML: &str = include_str!("../catalogue/builtin.yaml");

static BUILTIN: LazyLock<Catalogue> = LazyLock::new(|| {
    Catalogue::from_yaml(BUILTIN_YAML, "crds/catalogue/builtin.yaml")
        .expect("the built-in catalogue parses (checked by the catalogue tests)")
});

/// A set of accelerator models, keyed by name.
#[derive(Clone, Debug, Default)]
pub struct Catalogue {
    models: BTreeMap<String, AcceleratorModel>,
}

impl Catalogue {
    /// The catalogue shipped with Tidepool.
    pub fn builtin() -> Self {
        BUILTIN.clone()
    }

    /// Reads a catalogue from YAML holding only `AcceleratorModel` documents.
    pub fn from_yaml(text: &str, file: &str) -> Result<Self, ManifestError> {
        let mut models = BTreeMap::new();
        for (i, object) in manifests::parse(text, file)?.into_iter().enumerate() {
            match object {
                ApiObject::AcceleratorModel(m) => {
                    models.insert(m.name_any(), m);
                }
                other => {
                    return Err(ManifestError::Invalid {
                        file: file.to_owned(),
                        document: i + 1,
                        message: format!("{} is not an AcceleratorModel", other.reference()),
                    });
                }
            }
        }
        Ok(Self { models })
    }

    /// Replaces or adds entries: a user's `AcceleratorModel` wins over a built-in one of the same name.
    pub fn with_overrides(mut self, overrides: impl IntoIterator<Item = AcceleratorModel>) -> Self {
        for m in overrides {
            self.models.insert(m.name_any(), m);
        }
        self
    }

    /// An entry by name.
    pub fn get(&self, name: &str) -> Option<&AcceleratorModel> {
        self.models.get(name)
    }

    /// Every entry, by name.
    pub fn iter(&self) -> impl Iterator<Item = &AcceleratorModel> {
        self.models.values()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the catalogue has no entry.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// The catalogue as a JSON array, one object per model: `name` followed by the spec's fields.
    pub fn to_json(&self) -> serde_json::Value {
        let entries = self
            .iter()
            .map(|m| {
                let mut object = serde_json::Map::new();
                object.insert("name".into(), m.name_any().into());
                if let Ok(serde_json::Value::Object(spec)) = serde_json::to_value(&m.spec) {
                    object.extend(spec);
                }
                serde_json::Value::Object(object)
            })
            .collect();
        serde_json::Value::Array(entries)
    }

    /// The relative throughput of a model for a class, if stated.
    pub fn throughput(&self, model: &str, class: WorkloadClass) -> Option<rust_decimal::Decimal> {
        self.get(model)?.spec.throughput_for(class)
    }
}

/// A catalogue model a workload may run on, with the throughput it would get there.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    /// The model.
    pub model: &'a AcceleratorModel,
    /// The workload's choice that admits it.
    pub choice: &'a crate::AcceleratorChoice,
    /// Relative throughput for the workload: its own measured figure, else the catalogue's for
    /// its class; `None` when neither exists.
    pub throughput: Option<rust_decimal::Decimal>,
}

impl Catalogue {
    /// The models a workload's acceptable accelerators admit, in catalogue order. A model named
    /// explicitly takes its choice over a family that also covers it; models with less memory
    /// than the choice asks for are left out.
    pub fn candidates<'a>(
        &'a self,
        choices: &'a [crate::AcceleratorChoice],
        class: WorkloadClass,
    ) -> Vec<Candidate<'a>> {
        use crate::common::AcceleratorRef;
        self.iter()
            .filter_map(|model| {
                let name = model.name_any();
                let covers =
                    |c: &&crate::AcceleratorChoice| c.target().is_some_and(|t| t.covers(&name, model.spec.family));
                let choice = choices
                    .iter()
                    .filter(covers)
                    .find(|c| matches!(c.target(), Some(AcceleratorRef::Model(_))))
                    .or_else(|| choices.iter().find(covers))?;
                if choice.min_memory_gib.is_some_and(|min| model.spec.memory_gib < min) {
                    return None;
                }
                let measured = choice
                    .relative_throughput
                    .as_deref()
                    .and_then(|t| crate::validation::parse_non_negative_decimal(t).ok());
                let throughput = measured.or_else(|| model.spec.throughput_for(class));
                Some(Candidate { model, choice, throughput })
            })
            .collect()
    }
}
