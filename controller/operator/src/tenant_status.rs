//! Tenant status as Tidepool writes it after each pass: devices its workloads hold, how many of
//! those are borrowed, and per quota the devices in use, borrowed beyond nominal, and lent to
//! siblings. Pure: builds the status from the snapshot and what each workload holds; the applier
//! sends it with server-side apply.
//!
//! Counting follows the engine's quota rules: a quota counts the tenant's and its descendants'
//! guaranteed and borrowed devices (tidal devices count for the lender, so not here); what
//! siblings borrow beyond their nominal is shown as lent by the siblings with unused nominal, in
//! name order, up to each one's lending limit.

use std::collections::BTreeMap;

use tidepool_crds::common::Family;
use tidepool_crds::tenant::{QuotaUsage, TenantStatus};
use tidepool_engine::{ModelId, Snapshot, TenantId, UsageClass};
use tidepool_engine::{Quota, QuotaKey};

/// Devices one workload holds: tenant, model, how many, and on what terms.
pub type Holding = (TenantId, ModelId, u32, UsageClass);

fn in_scope(s: &Snapshot, key: QuotaKey, model: ModelId) -> bool {
    match key {
        QuotaKey::Model(m) => m == model,
        QuotaKey::Family(f) => s.catalogue.models[model.ix()].family == f,
    }
}

fn descends_from(s: &Snapshot, mut t: TenantId, ancestor: TenantId) -> bool {
    loop {
        if t == ancestor {
            return true;
        }
        match s.tenants[t.ix()].parent {
            Some(p) => t = p,
            None => return false,
        }
    }
}

/// Each tenant's status (without conditions), indexed by `TenantId`.
pub fn statuses(s: &Snapshot, held: &[Holding], generations: &[Option<i64>]) -> Vec<TenantStatus> {
    let n = s.tenants.len();
    let in_use = |t: TenantId, q: &Quota| -> u32 {
        held.iter()
            .filter(|(owner, model, _, usage)| {
                *usage != UsageClass::Tidal && in_scope(s, q.key, *model) && descends_from(s, *owner, t)
            })
            .map(|h| h.2)
            .sum()
    };
    let mut out: Vec<TenantStatus> = (0..n)
        .map(|i| {
            let t = TenantId(i as u32);
            let own = held.iter().filter(|h| h.0 == t && h.3 != UsageClass::Tidal);
            TenantStatus {
                conditions: Vec::new(),
                observed_generation: generations.get(i).copied().flatten(),
                devices_in_use: own.clone().map(|h| h.2).sum(),
                devices_borrowed: own.filter(|h| h.3 == UsageClass::Borrowed).map(|h| h.2).sum(),
                quotas: s.tenants[i]
                    .quotas
                    .iter()
                    .map(|q| {
                        let used = in_use(t, q);
                        let (family, model) = match q.key {
                            QuotaKey::Family(f) => {
                                (Family::ALL.into_iter().find(|x| x.as_str() == s.catalogue.families[f.ix()]), None)
                            }
                            QuotaKey::Model(m) => (None, Some(s.catalogue.models[m.ix()].name.clone())),
                        };
                        QuotaUsage { family, model, in_use: used, borrowed: used.saturating_sub(q.nominal), lent: 0 }
                    })
                    .collect(),
            }
        })
        .collect();
    lend(s, &mut out);
    out
}

/// Whether `current` already shows `want`'s usage (conditions are not Tidepool's to compare).
pub fn same_usage(current: Option<&TenantStatus>, want: &TenantStatus) -> bool {
    current.is_some_and(|c| {
        (c.observed_generation, c.devices_in_use, c.devices_borrowed, &c.quotas)
            == (want.observed_generation, want.devices_in_use, want.devices_borrowed, &want.quotas)
    })
}

/// Shows siblings' borrowing as lent by the siblings with unused nominal of the same key.
fn lend(s: &Snapshot, out: &mut [TenantStatus]) {
    // (parent, key) → (tenant index, quota index) of the siblings with a quota for the key.
    type Siblings = BTreeMap<(Option<TenantId>, QuotaKey), Vec<(usize, usize)>>;
    let mut groups = Siblings::new();
    for (i, t) in s.tenants.iter().enumerate() {
        for (j, q) in t.quotas.iter().enumerate() {
            groups.entry((t.parent, q.key)).or_default().push((i, j));
        }
    }
    for members in groups.values_mut() {
        members.sort_by(|a, b| s.tenants[a.0].name.cmp(&s.tenants[b.0].name));
        let mut borrowed: u32 = members.iter().map(|&(i, j)| out[i].quotas[j].borrowed).sum();
        for &(i, j) in members.iter() {
            let quota = &s.tenants[i].quotas[j];
            let usage = &mut out[i].quotas[j];
            let unused = quota.nominal.saturating_sub(usage.in_use);
            let lendable = quota.lending_limit.map_or(unused, |limit| unused.min(limit));
            usage.lent = lendable.min(borrowed);
            borrowed -= usage.lent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tidepool_engine::{Catalogue, Model, Tenant};

    fn snapshot() -> Snapshot {
        let model = |name: &str, family| Model {
            name: name.into(),
            family: tidepool_engine::FamilyId(family),
            memory_gib: 80,
            price_per_hour: Default::default(),
            throughput: Default::default(),
        };
        let catalogue = Catalogue {
            families: vec!["nvidia".into(), "ascend".into()],
            models: vec![model("nvidia-a100-80g", 0), model("ascend-910b", 1)],
        };
        let tenant = |name: &str, nominal: u32, lending_limit| Tenant {
            name: name.into(),
            parent: None,
            weight: 1,
            quotas: vec![Quota {
                key: QuotaKey::Family(tidepool_engine::FamilyId(0)),
                nominal,
                borrowing_limit: None,
                lending_limit,
            }],
            allowed_clusters: None,
            dedicated_only: false,
        };
        Snapshot {
            catalogue,
            tenants: vec![tenant("bank", 8, Some(2)), tenant("insurer", 8, None), tenant("securities", 8, None)],
            ..Default::default()
        }
    }

    #[test]
    fn borrowing_shows_as_lent_by_siblings_in_name_order_within_lending_limits() {
        let s = snapshot();
        let (a100, ascend) = (ModelId(0), ModelId(1));
        let held = [
            (TenantId(2), a100, 8, UsageClass::Guaranteed),
            (TenantId(2), a100, 6, UsageClass::Borrowed),
            (TenantId(1), a100, 4, UsageClass::Guaranteed),
            (TenantId(1), ascend, 8, UsageClass::Guaranteed),
            (TenantId(0), a100, 2, UsageClass::Tidal),
        ];
        let st = statuses(&s, &held, &[Some(3), None, Some(1)]);
        let securities = &st[2];
        assert_eq!((securities.devices_in_use, securities.devices_borrowed), (14, 6));
        assert_eq!((securities.quotas[0].in_use, securities.quotas[0].borrowed, securities.quotas[0].lent), (14, 6, 0));
        // The bank, first by name, lends 2 of its 8 unused (its lending limit); tidal devices are
        // not its usage. The insurer lends the other 4; its ascend cards are outside the quota.
        assert_eq!((st[0].devices_in_use, st[0].quotas[0].in_use, st[0].quotas[0].lent), (0, 0, 2));
        assert_eq!((st[1].devices_in_use, st[1].quotas[0].in_use, st[1].quotas[0].lent), (12, 4, 4));
        assert_eq!(st[0].observed_generation, Some(3));
        assert_eq!(st[0].quotas[0].family, Some(Family::Nvidia));
    }
}
