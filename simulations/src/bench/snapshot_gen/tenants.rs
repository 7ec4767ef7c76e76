//! The tenant tree of a financial group: the group, three institutions and two departments
//! each, with family quotas that split the fleet, and the running load each department carries.

use tidepool_engine::{ClusterId, FamilyId, Node, Quota, QuotaKey, Tenant, TenantId};

use super::catalogue::{FAMILIES, MODELS};

/// An institution: name, fair-share weight, percent of each family's devices as nominal quota.
const INSTITUTIONS: [(&str, u32, u32); 3] = [("bank", 5, 50), ("insurer", 3, 30), ("securities", 2, 20)];

/// A department of an institution.
pub(super) struct Department {
    pub name: &'static str,
    /// Index into [`INSTITUTIONS`].
    institution: usize,
    weight: u32,
    /// Percent of the institution's nominal quota.
    percent_of_parent: u32,
    /// Devices running at the snapshot, as a percent of its nominal quota; beyond 100 is borrowed.
    pub load_percent: u32,
    /// Percent of the pending queue's workloads.
    pub pending_percent: u32,
    /// Clusters it may use (data residency); `None` = any.
    pub clusters: Option<&'static [u32]>,
}

/// Bank data stays in the first two clusters.
const BANK_CLUSTERS: &[u32] = &[0, 1];

/// The departments, in tenant order after the group and the institutions.
pub(super) const DEPARTMENTS: [Department; 6] = [
    Department {
        name: "bank-retail",
        institution: 0,
        weight: 3,
        percent_of_parent: 60,
        load_percent: 80,
        pending_percent: 30,
        clusters: Some(BANK_CLUSTERS),
    },
    Department {
        name: "bank-markets",
        institution: 0,
        weight: 2,
        percent_of_parent: 40,
        load_percent: 110,
        pending_percent: 20,
        clusters: Some(BANK_CLUSTERS),
    },
    Department {
        name: "insurer-actuarial",
        institution: 1,
        weight: 3,
        percent_of_parent: 60,
        load_percent: 35,
        pending_percent: 18,
        clusters: None,
    },
    Department {
        name: "insurer-claims",
        institution: 1,
        weight: 2,
        percent_of_parent: 40,
        load_percent: 30,
        pending_percent: 12,
        clusters: None,
    },
    Department {
        name: "securities-quant",
        institution: 2,
        weight: 3,
        percent_of_parent: 60,
        load_percent: 25,
        pending_percent: 12,
        clusters: None,
    },
    Department {
        name: "securities-research",
        institution: 2,
        weight: 2,
        percent_of_parent: 40,
        load_percent: 20,
        pending_percent: 8,
        clusters: None,
    },
];

/// Tenant id of the department at `index` in [`DEPARTMENTS`].
pub(super) fn department_id(index: usize) -> TenantId {
    TenantId((1 + INSTITUTIONS.len() + index) as u32)
}

/// The department the dedicated nodes belong to (the bank's trading desk).
pub(super) const DEDICATED_DEPARTMENT: usize = 1;

/// A quota of `nominal` devices of a family: borrowing up to 25 % beyond it, lending up to
/// half of it; the root has neither limit.
fn quota(family: usize, nominal: u32, root: bool) -> Quota {
    Quota {
        key: QuotaKey::Family(FamilyId(family as u32)),
        nominal,
        borrowing_limit: (!root).then_some(nominal / 4),
        lending_limit: (!root).then_some(nominal / 2),
    }
}

/// Nominal quota of a tenant for a family (0 when it has none).
pub(super) fn nominal(tenant: &Tenant, family: usize) -> u32 {
    tenant.quotas.iter().find(|q| q.key == QuotaKey::Family(FamilyId(family as u32))).map_or(0, |q| q.nominal)
}

/// The tenants, parents first: the group (quota = the fleet), the institutions, the departments.
pub(super) fn build(nodes: &[Node]) -> Vec<Tenant> {
    let mut fleet = [0u32; FAMILIES.len()];
    for node in nodes {
        for d in &node.devices {
            fleet[MODELS[d.model.ix()].family as usize] += 1;
        }
    }
    let families = || (0..FAMILIES.len()).filter(|&f| fleet[f] > 0);
    let tenant = |name: &str, parent: Option<TenantId>, weight: u32, quotas: Vec<Quota>| Tenant {
        name: name.to_owned(),
        parent,
        weight,
        quotas,
        allowed_clusters: None,
        dedicated_only: false,
    };
    let mut tenants = vec![tenant("group", None, 1, families().map(|f| quota(f, fleet[f], true)).collect())];
    let mut institution_nominal = Vec::new();
    for (name, weight, percent) in INSTITUTIONS {
        let nominal: Vec<u32> = fleet.iter().map(|total| total * percent / 100).collect();
        tenants.push(tenant(
            name,
            Some(TenantId(0)),
            weight,
            families().map(|f| quota(f, nominal[f], false)).collect(),
        ));
        institution_nominal.push(nominal);
    }
    for (i, d) in DEPARTMENTS.iter().enumerate() {
        let parent = &institution_nominal[d.institution];
        // The first department takes its percent; the second the rest, so children sum to the parent.
        let first = i % 2 == 0;
        let nominal = |f: usize| {
            let share = parent[f] * DEPARTMENTS[i - i % 2].percent_of_parent / 100;
            if first { share } else { parent[f] - share }
        };
        let mut t = tenant(
            d.name,
            Some(TenantId(1 + d.institution as u32)),
            d.weight,
            families().map(|f| quota(f, nominal(f), false)).collect(),
        );
        t.allowed_clusters = d.clusters.map(|c| c.iter().map(|&c| ClusterId(c)).collect());
        tenants.push(t);
    }
    tenants
}
