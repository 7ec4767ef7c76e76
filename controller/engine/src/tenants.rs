//! Tenants as the engine sees them: a tree with fair-share weights, quotas and placement rules.

use crate::ids::{ClusterId, FamilyId, ModelId, TenantId};

/// A tenant (institution or department).
#[derive(Clone, Debug)]
pub struct Tenant {
    /// Tenant name.
    pub name: String,
    /// Parent in the tenant tree.
    pub parent: Option<TenantId>,
    /// Fair-share weight among siblings (at least 1).
    pub weight: u32,
    /// Quotas, at most one per key.
    pub quotas: Vec<Quota>,
    /// Clusters its workloads may use (data residency); `None` = any.
    pub allowed_clusters: Option<Vec<ClusterId>>,
    /// Whether its workloads may run only on nodes dedicated to it (or to an ancestor).
    pub dedicated_only: bool,
}

/// What a quota counts: one model, or every model of a family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QuotaKey {
    /// Every model of the family.
    Family(FamilyId),
    /// One model.
    Model(ModelId),
}

/// A device quota (see the crate docs for the semantics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    /// What it counts.
    pub key: QuotaKey,
    /// Devices guaranteed.
    pub nominal: u32,
    /// Most devices beyond nominal; `None` = no limit.
    pub borrowing_limit: Option<u32>,
    /// Most unused nominal devices lent to others; `None` = all.
    pub lending_limit: Option<u32>,
}

impl Tenant {
    /// The quota that counts a model of a family here: a per-model quota wins over a family one.
    pub fn quota_for(&self, model: ModelId, family: FamilyId) -> Option<&Quota> {
        self.quotas
            .iter()
            .find(|q| q.key == QuotaKey::Model(model))
            .or_else(|| self.quotas.iter().find(|q| q.key == QuotaKey::Family(family)))
    }

    /// Whether the tenant may use a cluster.
    pub fn allows_cluster(&self, cluster: ClusterId) -> bool {
        self.allowed_clusters.as_ref().is_none_or(|c| c.contains(&cluster))
    }
}
