//! What the fleet holds between cycles, kept up to date on every bind and release, for the
//! parking rules ([`crate::sim::parking`]): free devices per pool of nodes (the partitions of the
//! engine's `FleetIndex`: nodes of one cluster, model and dedication), the devices each tenant
//! holds per pool and priority, borrowed devices per pool and tenant, the devices each tenant uses
//! per model and family, and the replicas on each node. It decides nothing and is never shown to
//! the engine.
//! Everything is in dense vectors: the parking rules read it for every parked class at every
//! cycle.

use tidepool_engine::{ClusterId, FleetIndex, ModelId, NodeId, QuotaKey, Snapshot, TenantId, UsageClass};

/// Nodes of one cluster and model with the same dedication, and their free devices.
#[derive(Clone, Debug)]
pub(crate) struct Pool {
    pub cluster: ClusterId,
    pub model: ModelId,
    pub dedicated: Option<TenantId>,
    /// `by_free[k]`: nodes with exactly `k` free devices.
    by_free: Vec<u32>,
    /// Its nodes, ascending.
    nodes: Vec<NodeId>,
    total_free: u32,
    /// Where in `nodes` each bind or release since the last `changes_dropped` was.
    changes: Vec<u32>,
    changes_dropped: u64,
}

/// [`Occupancy::slots_if_stopped`] for one pool, replica size and choice of replicas stopped, kept
/// from one count to the next: a count looks again only at the nodes bound or released on since.
#[derive(Clone, Debug, Default)]
pub(crate) struct KeptSlots {
    /// The pool's changes it has counted.
    seen: u64,
    per_node: Vec<u32>,
    total: u32,
}

/// One replica's devices, as the occupancy counts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Held {
    pub tenant: TenantId,
    pub priority: i32,
    pub node: NodeId,
    pub model: ModelId,
    pub devices: u32,
    pub usage: UsageClass,
}

/// Free capacity by pool and running work by tenant, pool and priority.
#[derive(Clone, Debug)]
pub(crate) struct Occupancy {
    /// Per node: its pool (`None`: unschedulable or without devices), where it is in the pool's
    /// nodes, and its free devices.
    pool_of: Vec<Option<u32>>,
    position: Vec<u32>,
    free: Vec<u32>,
    pub pools: Vec<Pool>,
    models: usize,
    families: usize,
    tenants: usize,
    /// Devices in use per (tenant, model) and per (tenant, family), counted for the tenant and
    /// for each ancestor (tidal devices are not counted, as the engine's quotas do not count
    /// them).
    used: Vec<u32>,
    used_family: Vec<u32>,
    /// Per (pool, tenant): devices held by priority, ascending.
    held: Vec<Vec<(i32, u32)>>,
    /// Per (pool, tenant): borrowed devices held.
    borrowed: Vec<u32>,
    /// Per node: the replicas running there.
    on_node: Vec<Vec<Held>>,
}

impl Occupancy {
    /// An empty fleet: every healthy device of a schedulable node free. Its pools are the
    /// engine's partitions, as `index` (the snapshot's) numbers them.
    pub fn new(s: &Snapshot, index: &FleetIndex) -> Self {
        let mut pool_of = vec![None; s.nodes.len()];
        let mut free = vec![0; s.nodes.len()];
        let mut position = vec![0; s.nodes.len()];
        let pools: Vec<Pool> = (0..index.partition_count())
            .map(|p| {
                let (cluster, model, dedicated) = index.partition_key(p);
                let nodes = index.partition_nodes(p).to_vec();
                let mut pool = Pool {
                    cluster,
                    model,
                    dedicated,
                    by_free: Vec::new(),
                    nodes,
                    total_free: 0,
                    changes: Vec::new(),
                    changes_dropped: 0,
                };
                for (at, &n) in pool.nodes.iter().enumerate() {
                    position[n.ix()] = at as u32;
                    let healthy = s.nodes[n.ix()].devices.iter().filter(|d| d.healthy).count() as u32;
                    if pool.by_free.len() <= healthy as usize {
                        pool.by_free.resize(healthy as usize + 1, 0);
                    }
                    pool.by_free[healthy as usize] += 1;
                    pool.total_free += healthy;
                    pool_of[n.ix()] = Some(p as u32);
                    free[n.ix()] = healthy;
                }
                pool
            })
            .collect();
        let (models, families, tenants) = (s.catalogue.models.len(), s.catalogue.families.len(), s.tenants.len());
        let slots = pools.len() * tenants;
        Occupancy {
            pool_of,
            position,
            free,
            pools,
            models,
            families,
            tenants,
            used: vec![0; tenants * models],
            used_family: vec![0; tenants * families],
            held: vec![Vec::new(); slots],
            borrowed: vec![0; slots],
            on_node: vec![Vec::new(); s.nodes.len()],
        }
    }

    /// The pool a node is in, if any.
    pub fn pool_of(&self, node: NodeId) -> Option<usize> {
        self.pool_of[node.ix()].map(|p| p as usize)
    }

    /// Records a replica placed.
    pub fn bind(&mut self, s: &Snapshot, h: Held) {
        self.count(s, h, true);
    }

    /// Records a replica stopped (the same `Held` it was bound with).
    pub fn release(&mut self, s: &Snapshot, h: Held) {
        self.count(s, h, false);
    }

    fn count(&mut self, s: &Snapshot, h: Held, bind: bool) {
        let n = h.devices;
        let add = |x: &mut u32| *x = if bind { *x + n } else { x.saturating_sub(n) };
        if h.usage != UsageClass::Tidal {
            let family = s.catalogue.model(h.model).family;
            for t in s.tenant_path(h.tenant) {
                add(&mut self.used[t.ix() * self.models + h.model.ix()]);
                add(&mut self.used_family[t.ix() * self.families + family.ix()]);
            }
        }
        let on_node = &mut self.on_node[h.node.ix()];
        if bind {
            on_node.push(h);
        } else if let Some(i) = on_node.iter().position(|r| *r == h) {
            on_node.swap_remove(i);
        }
        let Some(p) = self.pool_of[h.node.ix()] else { return };
        self.move_devices(h.node, if bind { -i64::from(n) } else { i64::from(n) });
        let pool = &mut self.pools[p as usize];
        pool.changes.push(self.position[h.node.ix()]);
        if pool.changes.len() > 4 * pool.nodes.len() {
            pool.changes_dropped += pool.changes.len() as u64;
            pool.changes.clear();
        }
        let slot = p as usize * self.tenants + h.tenant.ix();
        let held = &mut self.held[slot];
        match held.binary_search_by_key(&h.priority, |&(q, _)| q) {
            Ok(i) => {
                add(&mut held[i].1);
                if held[i].1 == 0 {
                    held.remove(i);
                }
            }
            Err(i) if bind => held.insert(i, (h.priority, n)),
            Err(_) => {}
        }
        if h.usage == UsageClass::Borrowed {
            add(&mut self.borrowed[slot]);
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

    /// Replicas of `devices` each a pool's free devices hold, counting every node.
    pub fn slots(&self, pool: usize, devices: u32) -> u32 {
        let devices = devices.max(1);
        self.pools[pool].by_free.iter().enumerate().map(|(k, &n)| n * (k as u32 / devices)).sum()
    }

    /// Replicas of `devices` each a pool could hold were the replicas `stopped` picks stopped,
    /// counting every node: on each, its free devices and those of such replicas there. `kept`:
    /// this count as it was the last time, for the same pool, size and choice of replicas (or a
    /// default one); only the nodes bound or released on since are counted again.
    pub fn slots_if_stopped(
        &self,
        pool: usize,
        devices: u32,
        stopped: impl Fn(&Held) -> bool,
        kept: &mut KeptSlots,
    ) -> u32 {
        let devices = devices.max(1);
        let pool = &self.pools[pool];
        let slots = |n: NodeId| {
            let freed: u32 = self.on_node[n.ix()].iter().filter(|r| stopped(r)).map(|r| r.devices).sum();
            (self.free[n.ix()] + freed) / devices
        };
        let since = kept.seen.checked_sub(pool.changes_dropped).map(|k| k as usize);
        match since.filter(|&k| !kept.per_node.is_empty() && pool.changes.len() - k < pool.nodes.len()) {
            Some(k) => {
                for &at in &pool.changes[k..] {
                    let now = slots(pool.nodes[at as usize]);
                    kept.total = kept.total + now - kept.per_node[at as usize];
                    kept.per_node[at as usize] = now;
                }
            }
            None => {
                kept.per_node = pool.nodes.iter().map(|&n| slots(n)).collect();
                kept.total = kept.per_node.iter().sum();
            }
        }
        kept.seen = pool.changes_dropped + pool.changes.len() as u64;
        kept.total
    }

    /// Free devices of a pool.
    pub fn free(&self, pool: usize) -> u32 {
        self.pools[pool].total_free
    }

    /// Devices a tenant holds in a pool at priority `ceiling` or lower.
    pub fn held_at_or_below(&self, pool: usize, tenant: TenantId, ceiling: i32) -> u32 {
        self.held[pool * self.tenants + tenant.ix()].iter().take_while(|&&(q, _)| q <= ceiling).map(|&(_, n)| n).sum()
    }

    /// Borrowed devices tenants other than `tenant` hold in a pool.
    pub fn borrowed_by_others(&self, pool: usize, tenant: TenantId) -> u32 {
        let row = &self.borrowed[pool * self.tenants..(pool + 1) * self.tenants];
        row.iter().enumerate().filter(|&(t, _)| t != tenant.ix()).map(|(_, &n)| n).sum()
    }

    /// Devices a tenant (with its descendants) uses that a quota key counts.
    pub fn used(&self, tenant: TenantId, key: QuotaKey) -> u32 {
        match key {
            QuotaKey::Model(m) => self.used[tenant.ix() * self.models + m.ix()],
            QuotaKey::Family(f) => self.used_family[tenant.ix() * self.families + f.ix()],
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use tidepool_engine::{Catalogue, Cluster, Device, Group, GroupId, Model, Node, Tenant};

    use super::*;

    /// Two nodes of model `a` and one of `b` (eight devices each, one family), in one cluster;
    /// tenants root, bank (1) and insurer (2), each guaranteed the whole family.
    pub(crate) fn fleet() -> Snapshot {
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
        let quota = tidepool_engine::Quota {
            key: QuotaKey::Family(tidepool_engine::FamilyId(0)),
            nominal: 24,
            borrowing_limit: None,
            lending_limit: None,
        };
        let tenant = |name: &str, parent: Option<TenantId>| Tenant {
            name: name.into(),
            parent,
            weight: 1,
            quotas: if parent.is_some() { vec![quota] } else { Vec::new() },
            allowed_clusters: None,
            dedicated_only: false,
        };
        Snapshot {
            catalogue: Catalogue { families: vec!["f".into()], models: vec![model("a"), model("b")] },
            clusters: vec![Cluster { name: "c".into() }],
            groups: vec![Group { name: "g".into(), cluster: ClusterId(0), rack: 0 }],
            nodes: vec![node(0, 0), node(1, 0), node(2, 1)],
            tenants: vec![
                tenant("root", None),
                tenant("bank", Some(TenantId(0))),
                tenant("insurer", Some(TenantId(0))),
            ],
            ..Default::default()
        }
    }

    fn held(node: u32, devices: u32, priority: i32, usage: UsageClass) -> Held {
        Held { tenant: TenantId(1), priority, node: NodeId(node), model: ModelId(0), devices, usage }
    }

    #[test]
    fn slots_count_whole_replicas_per_node() {
        let s = fleet();
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        assert_eq!(o.pools.len(), 2, "one pool per model");
        assert_eq!(o.slots(0, 8), 2);
        o.bind(&s, held(0, 4, 0, UsageClass::Guaranteed));
        // 4 + 8 free devices: three replicas of 4, one of 8.
        assert_eq!(o.slots(0, 4), 3);
        assert_eq!(o.slots(0, 8), 1);
        o.bind(&s, held(1, 2, 0, UsageClass::Guaranteed));
        // 4 + 6 free: ten devices, but no node has 8 free.
        assert_eq!(o.free(0), 10);
        assert_eq!(o.slots(0, 8), 0);
        assert_eq!(o.slots(0, 4), 2);
        o.release(&s, held(0, 4, 0, UsageClass::Guaranteed));
        assert_eq!(o.slots(0, 8), 1);
    }

    #[test]
    fn slots_if_stopped_count_freed_devices_on_the_node_they_free() {
        let s = fleet();
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let low = held(0, 4, 0, UsageClass::Guaranteed);
        let high = held(1, 4, 100, UsageClass::Guaranteed);
        o.bind(&s, low);
        o.bind(&s, high);
        o.bind(&s, held(0, 4, 100, UsageClass::Guaranteed));
        // Four free on node 1 and four of priority 0 on node 0: eight devices, no node of eight.
        assert_eq!(o.free(0) + o.held_at_or_below(0, TenantId(1), 0), 8);
        assert_eq!(o.slots_if_stopped(0, 8, |r| r.priority <= 0, &mut KeptSlots::default()), 0);
        assert_eq!(o.slots_if_stopped(0, 4, |r| r.priority <= 0, &mut KeptSlots::default()), 2);
        assert_eq!(o.slots_if_stopped(0, 8, |r| r.priority <= 100, &mut KeptSlots::default()), 2);
        o.release(&s, high);
        assert_eq!(o.slots_if_stopped(0, 8, |r| r.priority <= 0, &mut KeptSlots::default()), 1, "node 1 whole again");
        assert_eq!(o.slots_if_stopped(0, 8, |_| false, &mut KeptSlots::default()), 1);
    }

    #[test]
    fn a_kept_count_of_slots_if_stopped_follows_binds_and_releases() {
        let s = fleet();
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let low = |r: &Held| r.priority <= 0;
        let mut kept = KeptSlots::default();
        let steps = [
            (held(0, 4, 0, UsageClass::Guaranteed), true),
            (held(1, 4, 100, UsageClass::Guaranteed), true),
            (held(0, 4, 100, UsageClass::Guaranteed), true),
            (held(1, 2, 0, UsageClass::Guaranteed), true),
            (held(0, 4, 0, UsageClass::Guaranteed), false),
            (held(1, 4, 100, UsageClass::Guaranteed), false),
        ];
        for (i, (h, bind)) in steps.into_iter().enumerate() {
            if bind {
                o.bind(&s, h)
            } else {
                o.release(&s, h)
            }
            // One change since the last count, on a pool of two nodes: that node alone is counted.
            let fresh = o.slots_if_stopped(0, 2, low, &mut KeptSlots::default());
            assert_eq!(o.slots_if_stopped(0, 2, low, &mut kept), fresh, "after step {i}");
        }
        // Far more changes than the pool has nodes: the changes are dropped and it counts afresh.
        for _ in 0..10 {
            o.bind(&s, held(1, 2, 0, UsageClass::Guaranteed));
            o.release(&s, held(1, 2, 0, UsageClass::Guaranteed));
        }
        o.bind(&s, held(1, 2, 100, UsageClass::Guaranteed));
        let fresh = o.slots_if_stopped(0, 2, low, &mut KeptSlots::default());
        assert_eq!(o.slots_if_stopped(0, 2, low, &mut kept), fresh);
    }

    #[test]
    fn usage_priorities_and_borrowing_follow_binds_and_releases() {
        let s = fleet();
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let low = held(0, 2, 0, UsageClass::Borrowed);
        o.bind(&s, low);
        let high = held(0, 4, 100, UsageClass::Guaranteed);
        o.bind(&s, high);
        let model = QuotaKey::Model(ModelId(0));
        let family = QuotaKey::Family(tidepool_engine::FamilyId(0));
        assert_eq!(o.used(TenantId(1), model), 6);
        assert_eq!(o.used(TenantId(1), family), 6);
        assert_eq!(o.used(TenantId(0), model), 6, "counted for the ancestor too");
        assert_eq!(o.held_at_or_below(0, TenantId(1), 0), 2);
        assert_eq!(o.held_at_or_below(0, TenantId(1), 100), 6);
        assert_eq!(o.held_at_or_below(0, TenantId(1), -1), 0);
        assert_eq!(o.held_at_or_below(0, TenantId(2), 500), 0);
        assert_eq!(o.borrowed_by_others(0, TenantId(2)), 2);
        assert_eq!(o.borrowed_by_others(0, TenantId(1)), 0, "its own borrowing does not count");
        o.release(&s, low);
        assert_eq!(o.used(TenantId(1), model), 4);
        assert_eq!(o.held_at_or_below(0, TenantId(1), 0), 0);
        assert_eq!(o.borrowed_by_others(0, TenantId(2)), 0);
        o.release(&s, high);
        assert_eq!(o.used(TenantId(0), family), 0);
        assert_eq!(o.free(0), 16);
    }
}
