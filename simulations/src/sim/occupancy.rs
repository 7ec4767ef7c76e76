//! What the fleet holds between cycles, kept up to date on every bind and release, for the
//! parking rules ([`crate::sim::parking`]): free devices per pool of nodes (nodes of one cluster,
//! model and dedication, as the engine partitions them), the priorities of the replicas each
//! tenant runs per model, the devices each tenant uses per model, and who borrows. It decides
//! nothing and is never shown to the engine.

use std::collections::BTreeMap;

use tidepool_engine::{ClusterId, ModelId, NodeId, Snapshot, TenantId, UsageClass};

/// Nodes of one cluster and model with the same dedication, and their free devices.
#[derive(Clone, Debug)]
pub(crate) struct Pool {
    pub cluster: ClusterId,
    pub model: ModelId,
    pub dedicated: Option<TenantId>,
    /// `by_free[k]`: nodes with exactly `k` free devices.
    by_free: Vec<u32>,
    total_free: u32,
}

/// One replica's devices, as the occupancy counts them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Held {
    pub tenant: TenantId,
    pub priority: i32,
    pub node: NodeId,
    pub model: ModelId,
    pub devices: u32,
    pub usage: UsageClass,
}

/// Free capacity by pool and running work by tenant, model and priority.
#[derive(Clone, Debug)]
pub(crate) struct Occupancy {
    /// Per node: its pool (`None`: unschedulable or without devices) and free devices.
    pool_of: Vec<Option<u32>>,
    free: Vec<u32>,
    pub pools: Vec<Pool>,
    models: usize,
    /// Devices in use per (tenant, model), counted for the tenant and for each ancestor (tidal
    /// devices are not counted, as the engine's quotas do not count them).
    used: Vec<u32>,
    /// Running replicas per (tenant, model, priority).
    priorities: BTreeMap<(TenantId, ModelId, i32), u32>,
    /// Borrowed replicas per (tenant, model).
    borrowed: Vec<u32>,
}

impl Occupancy {
    /// An empty fleet: every healthy device of a schedulable node free.
    pub fn new(s: &Snapshot) -> Self {
        let mut keys: BTreeMap<(ClusterId, ModelId, Option<TenantId>), u32> = BTreeMap::new();
        let mut pools: Vec<Pool> = Vec::new();
        let mut pool_of = vec![None; s.nodes.len()];
        let mut free = vec![0; s.nodes.len()];
        for (i, node) in s.nodes.iter().enumerate() {
            let Some(first) = node.devices.first().filter(|_| node.schedulable) else { continue };
            let cluster = s.cluster_of(NodeId(i as u32));
            let p = *keys.entry((cluster, first.model, node.dedicated_to)).or_insert_with(|| {
                pools.push(Pool {
                    cluster,
                    model: first.model,
                    dedicated: node.dedicated_to,
                    by_free: Vec::new(),
                    total_free: 0,
                });
                pools.len() as u32 - 1
            });
            let healthy = node.devices.iter().filter(|d| d.healthy).count() as u32;
            let pool = &mut pools[p as usize];
            if pool.by_free.len() <= healthy as usize {
                pool.by_free.resize(healthy as usize + 1, 0);
            }
            pool.by_free[healthy as usize] += 1;
            pool.total_free += healthy;
            pool_of[i] = Some(p);
            free[i] = healthy;
        }
        let (models, tenants) = (s.catalogue.models.len(), s.tenants.len());
        Occupancy {
            pool_of,
            free,
            pools,
            models,
            used: vec![0; tenants * models],
            priorities: BTreeMap::new(),
            borrowed: vec![0; tenants * models],
        }
    }

    /// Records a replica placed.
    pub fn bind(&mut self, s: &Snapshot, h: Held) {
        self.move_devices(h.node, -(h.devices as i64));
        if h.usage != UsageClass::Tidal {
            for t in s.tenant_path(h.tenant) {
                self.used[t.ix() * self.models + h.model.ix()] += h.devices;
            }
        }
        *self.priorities.entry((h.tenant, h.model, h.priority)).or_default() += 1;
        if h.usage == UsageClass::Borrowed {
            self.borrowed[h.tenant.ix() * self.models + h.model.ix()] += 1;
        }
    }

    /// Records a replica stopped (the same `Held` it was bound with).
    pub fn release(&mut self, s: &Snapshot, h: Held) {
        self.move_devices(h.node, i64::from(h.devices));
        if h.usage != UsageClass::Tidal {
            for t in s.tenant_path(h.tenant) {
                self.used[t.ix() * self.models + h.model.ix()] -= h.devices;
            }
        }
        let key = (h.tenant, h.model, h.priority);
        if let Some(n) = self.priorities.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                self.priorities.remove(&key);
            }
        }
        if h.usage == UsageClass::Borrowed {
            self.borrowed[h.tenant.ix() * self.models + h.model.ix()] -= 1;
        }
    }

    fn move_devices(&mut self, node: NodeId, by: i64) {
        let Some(p) = self.pool_of[node.ix()] else { return };
        let pool = &mut self.pools[p as usize];
        let before = self.free[node.ix()];
        let after = (i64::from(before) + by).max(0) as u32;
        pool.by_free[before as usize] -= 1;
        if pool.by_free.len() <= after as usize {
            pool.by_free.resize(after as usize + 1, 0);
        }
        pool.by_free[after as usize] += 1;
        pool.total_free = pool.total_free + after - before;
        self.free[node.ix()] = after;
    }

    /// Whether a pool's free devices hold `replicas` replicas of `devices` each, counting every
    /// node (what the engine's placement asks first, before it looks at groups or reservations).
    pub fn room_for(&self, pool: usize, replicas: u32, devices: u32) -> bool {
        let p = &self.pools[pool];
        let devices = devices.max(1);
        if p.total_free < replicas * devices {
            return false;
        }
        let slots: u32 = p.by_free.iter().enumerate().map(|(k, &n)| n * (k as u32 / devices)).sum();
        slots >= replicas
    }

    /// Devices of a model a tenant (with its descendants) uses.
    pub fn used(&self, tenant: TenantId, model: ModelId) -> u32 {
        self.used[tenant.ix() * self.models + model.ix()]
    }

    /// Whether the tenant runs a replica on the model at priority `ceiling` or lower.
    pub fn runs_at_or_below(&self, tenant: TenantId, model: ModelId, ceiling: i32) -> bool {
        self.priorities.range((tenant, model, i32::MIN)..=(tenant, model, ceiling)).next().is_some()
    }

    /// Whether a tenant other than `tenant` holds borrowed devices of the model.
    pub fn others_borrow(&self, tenant: TenantId, model: ModelId) -> bool {
        self.borrowed.chunks(self.models).enumerate().any(|(t, row)| t != tenant.ix() && row[model.ix()] > 0)
    }
}

#[cfg(test)]
mod tests {
    use tidepool_engine::{Catalogue, Cluster, Device, Group, GroupId, Model, Node, Tenant};

    use super::*;

    fn fleet() -> Snapshot {
        let model = |name: &str| Model {
            name: name.into(),
            family: tidepool_engine::FamilyId(0),
            memory_gib: 80,
            price_per_hour: rust_decimal::Decimal::ONE,
            throughput: [Some(1.0); tidepool_engine::WorkloadClass::COUNT],
        };
        let node = |i: usize, m: u32| Node {
            name: format!("n{i}"),
            group: GroupId(0),
            schedulable: true,
            dedicated_to: None,
            devices: (0..8)
                .map(|d| Device { id: d.to_string(), model: ModelId(m), link_domain: 0, healthy: true })
                .collect(),
        };
        let tenant = |name: &str, parent| Tenant {
            name: name.into(),
            parent,
            weight: 1,
            quotas: Vec::new(),
            allowed_clusters: None,
            dedicated_only: false,
        };
        Snapshot {
            catalogue: Catalogue { families: vec!["f".into()], models: vec![model("a"), model("b")] },
            clusters: vec![Cluster { name: "c".into() }],
            groups: vec![Group { name: "g".into(), cluster: ClusterId(0), rack: 0 }],
            nodes: vec![node(0, 0), node(1, 0), node(2, 1)],
            tenants: vec![tenant("root", None), tenant("bank", Some(TenantId(0))), tenant("insurer", Some(TenantId(0)))],
            ..Default::default()
        }
    }

    fn held(node: u32, devices: u32, priority: i32, usage: UsageClass) -> Held {
        Held { tenant: TenantId(1), priority, node: NodeId(node), model: ModelId(0), devices, usage }
    }

    #[test]
    fn room_counts_whole_replicas_per_node() {
        let s = fleet();
        let mut o = Occupancy::new(&s);
        assert_eq!(o.pools.len(), 2, "one pool per model");
        assert!(o.room_for(0, 2, 8));
        o.bind(&s, held(0, 4, 0, UsageClass::Guaranteed));
        // 4 + 8 free devices: two replicas of 4 fit, two of 8 do not, though 12 ≥ 16 is false anyway.
        assert!(o.room_for(0, 3, 4));
        assert!(!o.room_for(0, 2, 8));
        o.bind(&s, held(1, 2, 0, UsageClass::Guaranteed));
        // 4 + 6 free: ten devices, but only one replica of 8... none: no node has 8 free.
        assert!(!o.room_for(0, 1, 8));
        assert!(o.room_for(0, 2, 4));
        o.release(&s, held(0, 4, 0, UsageClass::Guaranteed));
        assert!(o.room_for(0, 1, 8));
    }

    #[test]
    fn usage_priorities_and_borrowing_follow_binds_and_releases() {
        let s = fleet();
        let mut o = Occupancy::new(&s);
        let low = held(0, 2, 0, UsageClass::Borrowed);
        o.bind(&s, low);
        assert_eq!(o.used(TenantId(1), ModelId(0)), 2);
        assert_eq!(o.used(TenantId(0), ModelId(0)), 2, "counted for the ancestor too");
        assert!(o.runs_at_or_below(TenantId(1), ModelId(0), 0));
        assert!(!o.runs_at_or_below(TenantId(1), ModelId(0), -1));
        assert!(!o.runs_at_or_below(TenantId(2), ModelId(0), 100));
        assert!(o.others_borrow(TenantId(2), ModelId(0)));
        assert!(!o.others_borrow(TenantId(1), ModelId(0)), "its own borrowing does not count");
        o.release(&s, low);
        assert_eq!(o.used(TenantId(1), ModelId(0)), 0);
        assert!(!o.runs_at_or_below(TenantId(1), ModelId(0), 0));
        assert!(!o.others_borrow(TenantId(2), ModelId(0)));
    }
}
