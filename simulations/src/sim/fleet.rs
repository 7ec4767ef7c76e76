//! The fleet a scenario describes, as the engine's snapshot without workloads: catalogue (built-in
//! plus the scenario's overrides), clusters, interconnect groups, nodes and tenants under a root.

use tidepool_crds::scheduling_policy::PriceBasis;
use tidepool_engine::{
    Catalogue, Cluster, ClusterId, Device, Group, GroupId, Node, Quota, QuotaKey, Snapshot, Tenant, TenantId,
};

use crate::scenario::Scenario;

/// The fleet and tenants, ready for workloads.
#[derive(Clone, Debug)]
pub struct Fleet {
    /// Snapshot with no workloads: catalogue, topology, tenants.
    pub base: Snapshot,
    /// Engine tenant of each scenario tenant (the index workload sources use).
    pub tenants: Vec<TenantId>,
}

impl Fleet {
    /// Builds the fleet; errors name the scenario field.
    pub fn build(scenario: &Scenario) -> Result<Self, String> {
        Self::build_with(scenario, |_| {})
    }

    /// Builds the fleet, letting `extend` add models to the catalogue first (trace readers use it
    /// for models the built-in catalogue does not know).
    pub fn build_with(scenario: &Scenario, extend: impl FnOnce(&mut Catalogue)) -> Result<Self, String> {
        let mut api = tidepool_crds::Catalogue::builtin();
        let mut overridden = Vec::new();
        for (i, o) in scenario.catalogue.iter().enumerate() {
            let mut m = api
                .get(&o.model)
                .cloned()
                .ok_or_else(|| format!("catalogue[{i}].model: {:?} is not in the catalogue", o.model))?;
            if let Some(t) = &o.transfer {
                m.spec.prices.transfer = t.clone();
            }
            for (class, factor) in &o.throughput {
                m.spec.relative_throughput.insert(class.clone(), factor.clone());
            }
            tidepool_crds::Validate::validate(&m).map_err(|v| format!("catalogue[{i}]: {v}"))?;
            overridden.push(m);
        }
        api = api.with_overrides(overridden);
        let mut catalogue: Catalogue = tidepool_edge::catalogue(&api, PriceBasis::Transfer);
        extend(&mut catalogue);

        let clusters: Vec<Cluster> = scenario.clusters.iter().map(|c| Cluster { name: c.clone() }).collect();
        let mut groups = Vec::new();
        let mut nodes = Vec::new();
        for (i, pool) in scenario.node_pools.iter().enumerate() {
            let model = catalogue
                .model_id(&pool.model)
                .ok_or_else(|| format!("nodePools[{i}].model: {:?} is not in the catalogue", pool.model))?;
            let cluster = ClusterId(scenario.clusters.iter().position(|c| *c == pool.cluster).unwrap_or(0) as u32);
            for n in 0..pool.nodes {
                if n % pool.nodes_per_group == 0 {
                    groups.push(Group {
                        name: format!("{}-{}-g{}", pool.cluster, pool.model, n / pool.nodes_per_group),
                        cluster,
                        rack: (groups.len() / 4) as u32,
                    });
                }
                let per = pool.devices_per_node;
                nodes.push(Node {
                    name: format!("{}-{}-{n}", pool.cluster, pool.model),
                    group: GroupId(groups.len() as u32 - 1),
                    schedulable: true,
                    dedicated_to: None,
                    devices: (0..per)
                        .map(|d| Device {
                            id: d.to_string(),
                            model,
                            link_domain: (d * 2 / per.max(2)) as u8,
                            healthy: true,
                        })
                        .collect(),
                });
            }
        }

        let mut tenants = vec![Tenant {
            name: "group".into(),
            parent: None,
            weight: 1,
            quotas: Vec::new(),
            allowed_clusters: None,
            dedicated_only: false,
        }];
        let mut ids = Vec::new();
        for (i, t) in scenario.tenants.iter().enumerate() {
            let mut quotas = Vec::new();
            for (j, q) in t.quotas.iter().enumerate() {
                let key = match (&q.family, &q.model) {
                    (Some(f), None) => QuotaKey::Family(
                        catalogue
                            .family_id(f)
                            .ok_or_else(|| format!("tenants[{i}].quotas[{j}].family: {f:?} is not a family"))?,
                    ),
                    (None, Some(m)) => QuotaKey::Model(
                        catalogue
                            .model_id(m)
                            .ok_or_else(|| format!("tenants[{i}].quotas[{j}].model: {m:?} is not in the catalogue"))?,
                    ),
                    _ => return Err(format!("tenants[{i}].quotas[{j}]: set exactly one of family or model")),
                };
                quotas.push(Quota {
                    key,
                    nominal: q.nominal,
                    borrowing_limit: q.borrowing_limit,
                    lending_limit: q.lending_limit,
                });
            }
            let allowed = (!t.allowed_clusters.is_empty()).then(|| {
                t.allowed_clusters
                    .iter()
                    .filter_map(|c| scenario.clusters.iter().position(|x| x == c))
                    .map(|p| ClusterId(p as u32))
                    .collect()
            });
            ids.push(TenantId(tenants.len() as u32));
            tenants.push(Tenant {
                name: t.name.clone(),
                parent: Some(TenantId(0)),
                weight: t.weight.max(1),
                quotas,
                allowed_clusters: allowed,
                dedicated_only: false,
            });
        }
        let base = Snapshot { catalogue, clusters, groups, nodes, tenants, ..Default::default() };
        base.check().map_err(|e| e.to_string())?;
        Ok(Fleet { base, tenants: ids })
    }

    /// Devices per model in the fleet.
    pub fn devices_per_model(&self) -> Vec<u32> {
        let mut out = vec![0; self.base.catalogue.models.len()];
        for n in &self.base.nodes {
            for d in &n.devices {
                out[d.model.ix()] += 1;
            }
        }
        out
    }
}
