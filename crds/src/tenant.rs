//! `Tenant`: an institution or a department of one, with its namespaces, fair-share weight,
//! quotas and placement rules. Tenants form a tree (group → institution → department).
//!
//! Quota semantics (what the engine enforces):
//! - `nominal` devices are guaranteed: while a tenant uses no more than its nominal quota, it is
//!   never kept waiting because others borrowed, since borrowed devices are reclaimed for it;
//! - beyond nominal a tenant may borrow devices other tenants leave unused, up to
//!   `borrowingLimit` (absent = no limit beyond what is free); borrowed devices are reclaimable,
//!   so only preemptible workloads borrow;
//! - a tenant lends at most `lendingLimit` of its unused nominal devices (absent = all of them).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema, ResourceExt};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::common::{AcceleratorRef, Family, Labels};
use crate::validation::{Checker, Validate, Violations, is_dns_label};

/// An institution or department that owns namespaces, holds quotas and receives a chargeback
/// statement.
#[derive(CustomResource, KubeSchema, Clone, Debug, PartialEq, Serialize, Deserialize)]
#[kube(
    group = "tidepool.dev",
    version = "v1alpha1",
    kind = "Tenant",
    plural = "tenants",
    shortname = "tnt",
    category = "tidepool",
    status = "TenantStatus",
    printcolumn(name = "Parent", type_ = "string", json_path = ".spec.parent"),
    printcolumn(name = "Cost-Centre", type_ = "string", json_path = ".spec.costCenter"),
    printcolumn(name = "Weight", type_ = "integer", json_path = ".spec.weight"),
    printcolumn(name = "In-Use", type_ = "integer", json_path = ".status.devicesInUse"),
    printcolumn(name = "Borrowed", type_ = "integer", json_path = ".status.devicesBorrowed"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("!has(self.spec.parent) || self.spec.parent != self.metadata.name").message("spec.parent: a tenant cannot be its own parent"),
    doc = "A Tidepool tenant (cluster-scoped)."
)]
#[serde(rename_all = "camelCase")]
pub struct TenantSpec {
    /// Name shown on statements (e.g. `Bank — Retail Credit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Parent tenant, by name; absent for the root (the group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Cost centre that statements are addressed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    /// Namespaces whose workloads belong to this tenant. A namespace belongs to one tenant at most.
    #[serde(default)]
    #[schemars(length(max = 256))]
    pub namespaces: Vec<String>,
    /// Fair-share weight among siblings: a tenant of weight 2 gets twice the share of weight 1
    /// when both want more than is free.
    #[serde(default = "crate::defaults::tenant_weight")]
    #[schemars(range(min = 1, max = 1000))]
    pub weight: u32,
    /// Device quotas, one per accelerator family or model.
    #[serde(default)]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("self.all(a, self.exists_one(b, (has(a.family) && has(b.family) && a.family == b.family) || (has(a.model) && has(b.model) && a.model == b.model)))").message("quotas: each family or model may appear once"))]
    pub quotas: Vec<Quota>,
    /// Where this tenant's workloads may run.
    #[serde(default)]
    pub placement: PlacementRules,
}

/// A device quota for one family or model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("has(self.model) != has(self.family)").message("set exactly one of model or family"),
    validation = Rule::new("!has(self.lendingLimit) || self.lendingLimit <= self.nominal").message("lendingLimit must not exceed nominal")
)]
pub struct Quota {
    /// The accelerator family this quota counts. Set this or `model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// The catalogue model this quota counts. Set this or `family`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Devices guaranteed to the tenant.
    #[schemars(range(min = 0, max = 1000000))]
    pub nominal: u32,
    /// Most devices the tenant may borrow beyond `nominal`; absent means no limit, 0 disables borrowing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000000))]
    pub borrowing_limit: Option<u32>,
    /// Most of its unused nominal devices the tenant lends to others; absent means all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000000))]
    pub lending_limit: Option<u32>,
}

impl Quota {
    /// The family or model this quota counts, if exactly one is set.
    pub fn target(&self) -> Option<AcceleratorRef> {
        AcceleratorRef::from_fields(self.family, self.model.as_deref())
    }
}

/// Data-residency and isolation rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.isolation) || self.isolation != 'Dedicated' || (has(self.dedicatedNodeSelector) && size(self.dedicatedNodeSelector) > 0)").message("isolation Dedicated needs a dedicatedNodeSelector"))]
pub struct PlacementRules {
    /// Clusters the tenant's workloads and data may use (data residency). Empty means any cluster.
    #[serde(default)]
    #[schemars(length(max = 64))]
    pub allowed_clusters: Vec<String>,
    /// Labels of nodes reserved for this tenant: no other tenant is placed on them.
    #[serde(default)]
    pub dedicated_node_selector: Labels,
    /// `Shared` (default): any allowed node. `Dedicated`: only the tenant's dedicated nodes, never
    /// beside another tenant's workloads.
    #[serde(default)]
    pub isolation: Isolation,
}

/// Whether a tenant shares nodes with others.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Isolation {
    /// Runs on any allowed node.
    #[default]
    Shared,
    /// Runs only on its dedicated nodes.
    Dedicated,
}

/// Quota usage as the controller last computed it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct TenantStatus {
    /// Standard conditions (`Accepted`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["type".into()]))]
    pub conditions: Vec<Condition>,
    /// Generation of the spec this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Devices the tenant's workloads hold, all quotas together.
    #[serde(default)]
    pub devices_in_use: u32,
    /// Of those, devices held beyond nominal quota.
    #[serde(default)]
    pub devices_borrowed: u32,
    /// Usage per quota.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quotas: Vec<QuotaUsage>,
}

/// Usage of one quota.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    /// Family counted, when the quota is per family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// Model counted, when the quota is per model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Devices in use within this quota's scope.
    pub in_use: u32,
    /// Devices in use beyond nominal (borrowed from others).
    pub borrowed: u32,
    /// Unused nominal devices currently used by other tenants.
    pub lent: u32,
}

impl Validate for TenantSpec {
    fn validate(&self) -> Result<(), Violations> {
        let mut c = Checker::new();
        c.require(self.weight >= 1, "spec.weight", || "is 0".into(), "give a weight of at least 1");
        let mut seen_ns = BTreeSet::new();
        for (i, ns) in self.namespaces.iter().enumerate() {
            let field = format!("spec.namespaces[{i}]");
            c.require(
                is_dns_label(ns),
                field.clone(),
                || format!("{ns:?} is not a namespace name"),
                "use a DNS label: lowercase letters, digits and '-', at most 63 characters",
            );
            c.require(seen_ns.insert(ns), field, || format!("{ns:?} is listed twice"), "list each namespace once");
        }
        let mut seen = BTreeSet::new();
        for (i, q) in self.quotas.iter().enumerate() {
            let path = format!("spec.quotas[{i}]");
            match q.target() {
                None => c.report(
                    format!("{path}.family"),
                    "both or neither of family and model are set",
                    "name exactly one family or one catalogue model",
                ),
                Some(target) => c.require(
                    seen.insert(target.clone()),
                    format!("{path}.family"),
                    || format!("{target} already has a quota"),
                    "merge the two quotas into one",
                ),
            }
            if let Some(lend) = q.lending_limit {
                c.require(
                    lend <= q.nominal,
                    format!("{path}.lendingLimit"),
                    || format!("{lend} exceeds nominal ({})", q.nominal),
                    "a tenant can lend only what it is guaranteed: set lendingLimit to at most nominal",
                );
            }
        }
        for (i, cluster) in self.placement.allowed_clusters.iter().enumerate() {
            c.require(
                is_dns_label(cluster),
                format!("spec.placement.allowedClusters[{i}]"),
                || format!("{cluster:?} is not a cluster name"),
                "use the cluster's DNS-label name",
            );
        }
        c.require(
            self.placement.isolation != Isolation::Dedicated || !self.placement.dedicated_node_selector.is_empty(),
            "spec.placement.dedicatedNodeSelector",
            || "is empty while isolation is Dedicated".into(),
            "give the labels of the tenant's dedicated nodes, or set isolation to Shared",
        );
        c.finish()
    }
}

impl Validate for Tenant {
    fn validate(&self) -> Result<(), Violations> {
        let mut c = Checker::new();
        c.absorb(self.spec.validate());
        if self.spec.parent.as_deref() == Some(self.name_any().as_str()) {
            c.report(
                "spec.parent",
                "names the tenant itself",
                "name the parent tenant, or leave parent out for the root",
            );
        }
        c.finish()
    }
}

/// Checks rules that span tenants: parents exist, the tree has no cycle, a namespace belongs to
/// one tenant, and children's nominal quotas fit inside their parent's quota for the same family
/// or model. Field paths are prefixed with the tenant's name (`tenant/bank: spec.parent`).
pub fn validate_tenant_tree(tenants: &[Tenant]) -> Result<(), Violations> {
    let mut c = Checker::new();
    let by_name: BTreeMap<String, &Tenant> = tenants.iter().map(|t| (t.name_any(), t)).collect();
    let mut namespace_owner: BTreeMap<&str, String> = BTreeMap::new();
    for t in tenants {
        let name = t.name_any();
        if let Some(parent) = &t.spec.parent {
            c.require(
                by_name.contains_key(parent),
                format!("tenant/{name}: spec.parent"),
                || format!("tenant {parent:?} does not exist"),
                "create the parent tenant first, or fix the name",
            );
        }
        let mut cursor = t.spec.parent.clone();
        let mut steps = 0;
        while let Some(p) = cursor {
            steps += 1;
            if p == name || steps > tenants.len() {
                c.report(
                    format!("tenant/{name}: spec.parent"),
                    "the parent chain loops back to this tenant",
                    "make the tenants form a tree",
                );
                break;
            }
            cursor = by_name.get(&p).and_then(|t| t.spec.parent.clone());
        }
        for ns in &t.spec.namespaces {
            if let Some(owner) = namespace_owner.insert(ns, name.clone()) {
                c.report(
                    format!("tenant/{name}: spec.namespaces"),
                    format!("namespace {ns:?} is already owned by tenant {owner:?}"),
                    "give each namespace to one tenant",
                );
            }
        }
    }
    for parent in tenants {
        let pname = parent.name_any();
        for pq in &parent.spec.quotas {
            let Some(target) = pq.target() else { continue };
            let children_nominal: u64 = tenants
                .iter()
                .filter(|t| t.spec.parent.as_deref() == Some(pname.as_str()))
                .flat_map(|t| &t.spec.quotas)
                .filter(|q| q.target().as_ref() == Some(&target))
                .map(|q| u64::from(q.nominal))
                .sum();
            c.require(
                children_nominal <= u64::from(pq.nominal),
                format!("tenant/{pname}: spec.quotas"),
                || {
                    format!(
                        "children are guaranteed {children_nominal} devices of {target} but the parent only {}",
                        pq.nominal
                    )
                },
                "raise the parent's nominal quota or lower its children's",
            );
        }
    }
    c.finish()
}
