//! Scenario files: the fleet, the tenants and their quotas, catalogue overrides, the chip-aware
//! policy's objective, and where the workload comes from. YAML, camelCase, unknown fields
//! rejected; an error names the field (`nodePools[2].devicesPerNode: invalid type ...`).
//!
//! ```yaml
//! name: my-cloud
//! clusters: [sh-group-dc, sh-bank-dc]
//! nodePools:
//!   - {cluster: sh-bank-dc, model: ascend-910b, nodes: 16, devicesPerNode: 8, nodesPerGroup: 8}
//! tenants:                       # the institutions jobs belong to, in generator order
//!   - {name: bank, weight: 5, allowedClusters: [sh-bank-dc, sh-group-dc],
//!      quotas: [{family: ascend, nominal: 96, borrowingLimit: 32}]}
//! catalogue:                     # overrides of the built-in catalogue, by model
//!   - {model: ascend-910b, transfer: "7.50", throughput: {llm-training: "0.70"}}
//! objective: Balanced            # chip-aware policy: Cost, Balanced or Speed
//! workload:
//!   generator: {seed: 1, days: 7, jobsPerDay: 600}
//! cycleSeconds: 60
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// The built-in scenario `group-cloud`.
pub const GROUP_CLOUD: &str = include_str!("../scenarios/group-cloud.yaml");

/// A scenario file.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// Name, shown in reports.
    pub name: String,
    /// What it represents.
    #[serde(default)]
    pub description: String,
    /// Cluster names.
    pub clusters: Vec<String>,
    /// Nodes, by pool.
    pub node_pools: Vec<NodePool>,
    /// Tenants that own jobs (institutions), in the order workload sources number them.
    pub tenants: Vec<TenantConfig>,
    /// Catalogue overrides.
    #[serde(default)]
    pub catalogue: Vec<CatalogueOverride>,
    /// Objective of the chip-aware policy.
    #[serde(default = "default_objective")]
    pub objective: String,
    /// Where jobs come from.
    pub workload: WorkloadSource,
    /// Virtual seconds between scheduling cycles (at most one per interval, only when something changed).
    #[serde(default = "default_cycle")]
    pub cycle_seconds: i64,
}

fn default_objective() -> String {
    "Balanced".into()
}

fn default_cycle() -> i64 {
    60
}

/// Identical nodes in one cluster.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NodePool {
    /// Cluster name.
    pub cluster: String,
    /// Catalogue model of its devices.
    pub model: String,
    /// Number of nodes.
    pub nodes: u32,
    /// Devices per node.
    pub devices_per_node: u32,
    /// Nodes per interconnect group.
    #[serde(default = "default_group")]
    pub nodes_per_group: u32,
}

fn default_group() -> u32 {
    8
}

/// A tenant and its quotas.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenantConfig {
    /// Name.
    pub name: String,
    /// Fair-share weight.
    #[serde(default = "default_weight")]
    pub weight: u32,
    /// Clusters it may use; empty = any.
    #[serde(default)]
    pub allowed_clusters: Vec<String>,
    /// Quotas per family or model.
    #[serde(default)]
    pub quotas: Vec<QuotaConfig>,
}

fn default_weight() -> u32 {
    1
}

/// A quota, as in `Tenant.spec.quotas`.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct QuotaConfig {
    /// Family counted (set this or `model`).
    #[serde(default)]
    pub family: Option<String>,
    /// Model counted (set this or `family`).
    #[serde(default)]
    pub model: Option<String>,
    /// Guaranteed devices.
    pub nominal: u32,
    /// Most devices beyond nominal; absent = no limit.
    #[serde(default)]
    pub borrowing_limit: Option<u32>,
    /// Most unused nominal devices lent; absent = all.
    #[serde(default)]
    pub lending_limit: Option<u32>,
}

/// Changes to one built-in catalogue entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogueOverride {
    /// Catalogue model name.
    pub model: String,
    /// Transfer price per device-hour (decimal string).
    #[serde(default)]
    pub transfer: Option<String>,
    /// Relative throughput per workload class (decimal strings).
    #[serde(default)]
    pub throughput: BTreeMap<String, String>,
}

/// Where the jobs come from.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadSource {
    /// The built-in generator.
    #[serde(default)]
    pub generator: Option<GeneratorConfig>,
}

/// Settings of the built-in generator.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeneratorConfig {
    /// Seed.
    pub seed: u64,
    /// Days of arrivals.
    pub days: u32,
    /// Mean training jobs per day.
    pub jobs_per_day: f64,
}

/// A scenario that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not YAML, or a field is wrong.
    #[error("{file}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// What is wrong, starting with the field path.
        message: String,
    },
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
}

impl Scenario {
    /// Parses a scenario; `file` labels errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ScenarioError> {
        let de = serde_yaml::Deserializer::from_str(text);
        let scenario: Scenario = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let message = if path == "." { e.into_inner().to_string() } else { format!("{path}: {}", e.into_inner()) };
            ScenarioError::Invalid { file: file.to_owned(), message }
        })?;
        scenario.check().map_err(|message| ScenarioError::Invalid { file: file.to_owned(), message })?;
        Ok(scenario)
    }

    /// The chip-aware policy's objective.
    pub fn engine_objective(&self) -> tidepool_engine::Objective {
        match self.objective.as_str() {
            "Cost" => tidepool_engine::Objective::Cost,
            "Speed" => tidepool_engine::Objective::Speed,
            _ => tidepool_engine::Objective::Balanced,
        }
    }

    /// Reads `builtin:NAME` or a file path.
    pub fn load(spec: &str) -> Result<Self, ScenarioError> {
        match spec {
            "builtin:group-cloud" => Self::parse(GROUP_CLOUD, spec),
            path => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ScenarioError::Io { file: path.into(), source })?;
                Self::parse(&text, path)
            }
        }
    }

    fn check(&self) -> Result<(), String> {
        for (i, p) in self.node_pools.iter().enumerate() {
            if !self.clusters.contains(&p.cluster) {
                return Err(format!("nodePools[{i}].cluster: {:?} is not in clusters", p.cluster));
            }
            if p.devices_per_node == 0 || p.devices_per_node > 64 {
                return Err(format!("nodePools[{i}].devicesPerNode: {} is outside 1..=64", p.devices_per_node));
            }
            if p.nodes_per_group == 0 {
                return Err(format!("nodePools[{i}].nodesPerGroup: must be at least 1"));
            }
        }
        if self.tenants.is_empty() {
            return Err("tenants: at least one tenant is needed".into());
        }
        for (i, t) in self.tenants.iter().enumerate() {
            for (j, c) in t.allowed_clusters.iter().enumerate() {
                if !self.clusters.contains(c) {
                    return Err(format!("tenants[{i}].allowedClusters[{j}]: {c:?} is not in clusters"));
                }
            }
            for (j, q) in t.quotas.iter().enumerate() {
                if q.family.is_some() == q.model.is_some() {
                    return Err(format!("tenants[{i}].quotas[{j}]: set exactly one of family or model"));
                }
                if q.lending_limit.is_some_and(|l| l > q.nominal) {
                    return Err(format!("tenants[{i}].quotas[{j}].lendingLimit: exceeds nominal"));
                }
            }
        }
        if self.cycle_seconds <= 0 {
            return Err("cycleSeconds: must be positive".into());
        }
        if !["Cost", "Balanced", "Speed"].contains(&self.objective.as_str()) {
            return Err(format!("objective: {:?} is not Cost, Balanced or Speed", self.objective));
        }
        Ok(())
    }
}
