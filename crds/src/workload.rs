//! Pieces both workload kinds share: the explanation of a chip choice in status, and the checks on
//! the list of acceptable accelerators.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::AcceleratorChoice;
use crate::validation::Checker;

/// Why the chosen model won.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    /// The chosen catalogue model.
    pub model: String,
    /// One sentence: why this model.
    pub reason: String,
    /// Every model considered, the chosen one included.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<Alternative>,
}

/// A model that was considered.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alternative {
    /// Catalogue model.
    pub model: String,
    /// Expected runtime in hours on this model, when the work is known (decimal string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_hours: Option<String>,
    /// Expected cost on this model (decimal string, pricing currency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_cost: Option<String>,
    /// Why it was not chosen (absent for the chosen one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_because: Option<String>,
}

/// Checks `spec.accelerators`: at least one, each well formed, no target listed twice, and (for
/// inference) a per-replica capacity on each.
pub(crate) fn check_accelerators(choices: &[AcceleratorChoice], needs_capacity: bool, c: &mut Checker) {
    c.require(
        !choices.is_empty(),
        "spec.accelerators",
        || "is empty".into(),
        "list at least one accelerator model or family the workload has an image for",
    );
    let mut seen = std::collections::BTreeSet::new();
    for (i, choice) in choices.iter().enumerate() {
        let path = format!("spec.accelerators[{i}]");
        choice.check(&path, c);
        if let Some(target) = choice.target() {
            c.require(
                seen.insert(target.clone()),
                format!("{path}.model"),
                || format!("{target} is listed twice"),
                "list each model or family once",
            );
        }
        if needs_capacity {
            c.require(
                choice.capacity_requests_per_second.is_some(),
                format!("{path}.capacityRequestsPerSecond"),
                || "is missing".into(),
                "give the requests per second one replica serves on this accelerator",
            );
        }
    }
}
