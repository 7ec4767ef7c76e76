//! Quota accounting over the tenant tree during a cycle.
//!
//! Semantics (the README's and `tidepool_crds::tenant`'s, made exact):
//! - usage of a tenant counts its own and its descendants' guaranteed and borrowed devices; tidal
//!   devices count for the lender, not the borrower;
//! - a request of `n` devices of model `m` by tenant `T` is **admissible** when, at every tenant
//!   `A` on the path from `T` to the root that has a quota covering `m` (a per-model quota wins
//!   over a per-family one), `usage(A) + n ≤ nominal(A) + borrowingLimit(A)`;
//! - it is **guaranteed** when `usage(A) + n ≤ nominal(A)` at every such `A`, and some `A` has a
//!   quota; otherwise it is **borrowed**, and only preemptible workloads may borrow;
//! - borrowed devices must come from what others may lend: for every sibling `S` of a tenant on
//!   the path, `max(0, nominal(S) − usage(S) − lendingLimit(S))` devices of the family stay free
//!   for `S`. Lending limits are enforced at family granularity.

use crate::allocation::UsageClass;
use crate::capacity::Capacity;
use crate::holdings::Totals;
use crate::ids::{FamilyId, ModelId, TenantId};
use crate::snapshot::Snapshot;
use crate::tenants::{Quota, QuotaKey};

/// Devices in use per tenant (subtree), per model and per family.
pub(crate) struct Usage {
    models: usize,
    families: usize,
    by_model: Vec<u32>,
    by_family: Vec<u32>,
    pub children: Vec<Vec<TenantId>>,
    pub roots: Vec<TenantId>,
}

/// Why a request is not admissible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum QuotaBlock {
    /// Beyond nominal + borrowing limit at `tenant`.
    Limit { tenant: TenantId, quota: Quota, used: u32 },
    /// Would borrow, but the workload is not preemptible.
    NotPreemptible { tenant: Option<(TenantId, Quota, u32)> },
    /// Would borrow devices other tenants hold back (lending limits).
    HeldBack { held: u32 },
}

impl Usage {
    pub fn new(s: &Snapshot, totals: &Totals) -> Self {
        let (models, families) = (s.catalogue.models.len(), s.catalogue.families.len());
        let t = s.tenants.len();
        let mut children = vec![Vec::new(); t];
        let mut roots = Vec::new();
        for (i, tenant) in s.tenants.iter().enumerate() {
            match tenant.parent {
                Some(p) => children[p.ix()].push(TenantId(i as u32)),
                None => roots.push(TenantId(i as u32)),
            }
        }
        let mut usage = Usage {
            models,
            families,
            by_model: vec![0; t * models],
            by_family: vec![0; t * families],
            children,
            roots,
        };
        // Each tenant's own devices, then each subtree's: a parent comes before its children,
        // so going backwards every child is complete before it is added to its parent.
        usage.by_model.copy_from_slice(&totals.devices);
        for (t, tenant) in s.tenants.iter().enumerate().rev() {
            if let Some(p) = tenant.parent {
                for m in 0..models {
                    usage.by_model[p.ix() * models + m] += usage.by_model[t * models + m];
                }
            }
        }
        for tenant in 0..t {
            for (m, model) in s.catalogue.models.iter().enumerate() {
                usage.by_family[tenant * families + model.family.ix()] += usage.by_model[tenant * models + m];
            }
        }
        usage
    }

    pub fn add(&mut self, s: &Snapshot, tenant: TenantId, model: ModelId, n: u32) {
        let family = s.catalogue.model(model).family;
        for t in s.tenant_path(tenant) {
            self.by_model[t.ix() * self.models + model.ix()] += n;
            self.by_family[t.ix() * self.families + family.ix()] += n;
        }
    }

    pub fn remove(&mut self, s: &Snapshot, tenant: TenantId, model: ModelId, n: u32) {
        let family = s.catalogue.model(model).family;
        for t in s.tenant_path(tenant) {
            self.by_model[t.ix() * self.models + model.ix()] -= n;
            self.by_family[t.ix() * self.families + family.ix()] -= n;
        }
    }

    /// Usage of the key a quota counts.
    pub fn used(&self, tenant: TenantId, key: QuotaKey) -> u32 {
        match key {
            QuotaKey::Model(m) => self.by_model[tenant.ix() * self.models + m.ix()],
            QuotaKey::Family(f) => self.by_family[tenant.ix() * self.families + f.ix()],
        }
    }

    /// The class `n` more devices of `model` would have for `tenant`, or why they are not admissible.
    pub fn admit(
        &self,
        s: &Snapshot,
        cap: &Capacity,
        tenant: TenantId,
        model: ModelId,
        n: u32,
        preemptible: bool,
    ) -> Result<UsageClass, QuotaBlock> {
        let family = s.catalogue.model(model).family;
        let mut covered = false;
        let mut beyond: Option<(TenantId, Quota, u32)> = None;
        for a in s.tenant_path(tenant) {
            let Some(q) = s.tenants[a.ix()].quota_for(model, family) else { continue };
            covered = true;
            let used = self.used(a, q.key);
            if let Some(limit) = q.borrowing_limit
                && used + n > q.nominal + limit
            {
                return Err(QuotaBlock::Limit { tenant: a, quota: *q, used });
            }
            if used + n > q.nominal && beyond.is_none() {
                beyond = Some((a, *q, used));
            }
        }
        if covered && beyond.is_none() {
            return Ok(UsageClass::Guaranteed);
        }
        if !preemptible {
            return Err(QuotaBlock::NotPreemptible { tenant: beyond });
        }
        let held = self.held_back(s, tenant, model, family);
        let free = family_free(s, cap, family);
        if free < n + held {
            return Err(QuotaBlock::HeldBack { held });
        }
        Ok(UsageClass::Borrowed)
    }

    /// Devices of the family that siblings along the path keep for themselves (lending limits).
    fn held_back(&self, s: &Snapshot, tenant: TenantId, model: ModelId, family: FamilyId) -> u32 {
        let mut held = 0;
        for a in s.tenant_path(tenant) {
            let siblings = match s.tenants[a.ix()].parent {
                Some(p) => &self.children[p.ix()],
                None => &self.roots,
            };
            for &sib in siblings.iter().filter(|&&x| x != a) {
                let Some(q) = s.tenants[sib.ix()].quota_for(model, family) else { continue };
                let Some(lend) = q.lending_limit else { continue };
                let unused = q.nominal.saturating_sub(self.used(sib, q.key));
                held += unused.saturating_sub(lend);
            }
        }
        held
    }
}

fn family_free(s: &Snapshot, cap: &Capacity, family: FamilyId) -> u32 {
    s.catalogue.model_ids().filter(|m| s.catalogue.model(*m).family == family).map(|m| cap.free_per_model[m.ix()]).sum()
}
