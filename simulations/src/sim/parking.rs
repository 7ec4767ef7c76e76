//! Parking: the simulator's queue manager keeps a workload the engine could not start out of the
//! next cycles until something happens that could let it start — as Kueue does with inadmissible
//! workloads (its `BestEffortFIFO` queues requeue them when capacity is freed), and as a
//! controller must on a fleet with thousands waiting, where searching the whole queue every cycle
//! costs more than the cycle is worth.
//!
//! A workload is parked after a cycle leaves it pending for capacity or quota while it holds
//! nothing and backfill reserved nothing for it (a gang with a reservation stays in every cycle,
//! so work that would delay it cannot take its nodes). Parked workloads alike in tenant,
//! priority, gang shape, accepted models, preemptibility and cause form a class. A class is
//! looked at again only after devices were released in one of the pools of nodes it may use, or
//! (for its quota) by its tenant or an ancestor with a quota for a family it accepts — or, when it
//! may borrow, anywhere in such a family (lending limits); releases count from the start of the
//! cycle that parked its members, as the engine did not see them. Then as many of its oldest members are
//! woken, to be tried at the next cycle, as could start by these counts:
//! - without preemption: whole gangs that the free devices of one pool hold, counting every node
//!   (what the engine's placement asks first), within what its quota still admits;
//! - with preemption (when the policy preempts): gangs that a pool could take, node by node, in
//!   its free devices plus those its victims hold there — its tenant's work at a priority at least
//!   the policy's gap lower, and other tenants' borrowed devices while its tenant is within
//!   nominal quota for the gang — within what its quota admits once its own victims are gone;
//! - blocked by quota alone: gangs its quota now admits on a model in a pool it may use.
//!
//! Each count bounds what the engine could start at that point: a workload left out would fail
//! as before. What parking changes: a parked gang makes no backfill reservation; work that starts
//! while a gang is parked becomes a victim it may preempt only at the next release in its pools
//! or quota; and devices or quota that preemptions free later in the same cycle (others' borrowed
//! work reclaimed) are seen at that release, the next cycle. Kueue likewise requeues inadmissible
//! workloads when capacity is freed, not when others are admitted. The static policy (first come,
//! first served, no preemption or backfill) decides as without parking: alike workloads come
//! oldest first there too, and the counts bound what could start. Tidal lending is not modelled:
//! the simulator lends no devices.

use std::collections::BTreeMap;

use tidepool_engine::{FamilyId, ModelId, NodeId, Policy, Snapshot, Target, TenantId, UsageClass, Workload};

use crate::sim::occupancy::{Held, KeptSlots, Occupancy};

/// Pools, quota holders and families (for borrowing) devices were released for.
#[derive(Clone, Debug, Default)]
struct ReleasedSince {
    pools: Vec<usize>,
    quota: Vec<(TenantId, FamilyId)>,
    families: Vec<FamilyId>,
}

/// Appends `x` to a short list unless it is there.
fn add_once<T: PartialEq>(list: &mut Vec<T>, x: T) {
    if !list.contains(&x) {
        list.push(x);
    }
}

/// What parked workloads of one class share.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ClassKey {
    tenant: TenantId,
    priority: i32,
    replicas: u32,
    devices: u32,
    /// Accepted models, ascending.
    models: Vec<ModelId>,
    /// May borrow (and so be held back by others' lending limits).
    preemptible: bool,
    /// Left pending by quota alone (every candidate blocked by quota, none by room).
    quota_only: bool,
}

#[derive(Clone, Debug)]
struct Class {
    key: ClassKey,
    families: Vec<FamilyId>,
    /// The tenants on its tenant's path with a quota for a family it accepts, with the family:
    /// their usage is what its quota checks count.
    quota_holders: Vec<(TenantId, FamilyId)>,
    /// Pools of nodes (see [`Occupancy`]) its workloads may use.
    pools: Vec<usize>,
    /// Parked jobs, by the caller's job index, ascending.
    members: Vec<usize>,
    /// Devices were released in one of its pools, or for its quota, since it was last looked at
    /// (for a class without members: since the cycle began).
    fresh_pools: bool,
    fresh_quota: bool,
}

/// Parked workloads by class and the events that wake them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Parking {
    classes: Vec<Class>,
    index: BTreeMap<ClassKey, usize>,
    /// Classes marked fresh since the cycle began (each once).
    fresh: Vec<usize>,
    /// Classes with members, by pool they may use.
    by_pool: Vec<Vec<usize>>,
    /// Classes with members, by quota holder and family.
    by_quota: BTreeMap<(TenantId, FamilyId), Vec<usize>>,
    /// Classes with members that may borrow, by family they accept.
    borrowing: BTreeMap<FamilyId, Vec<usize>>,
    /// What releases since the cycle began were for: a class that gets its first member at the
    /// cycle's end is fresh if it waits for one of them.
    released: ReleasedSince,
    /// The wake counts with preemption, kept from cycle to cycle.
    slots_if_stopped: SlotsIfStopped,
}

impl Parking {
    /// Devices of a model held by `tenant` on `node` were released: the classes that wait for
    /// them are marked to be looked at.
    pub fn released(&mut self, s: &Snapshot, occupancy: &Occupancy, tenant: TenantId, node: NodeId, model: ModelId) {
        let family = s.catalogue.model(model).family;
        let Parking { classes, fresh, by_pool, by_quota, borrowing, released, .. } = self;
        let mut mark = |c: usize, pools: bool| mark(classes, fresh, c, pools);
        if let Some(p) = occupancy.pool_of(node) {
            add_once(&mut released.pools, p);
            if let Some(list) = by_pool.get(p) {
                list.iter().for_each(|&c| mark(c, true));
            }
        }
        for t in s.tenant_path(tenant) {
            add_once(&mut released.quota, (t, family));
            if let Some(list) = by_quota.get(&(t, family)) {
                list.iter().for_each(|&c| mark(c, false));
            }
        }
        add_once(&mut released.families, family);
        if let Some(list) = borrowing.get(&family) {
            list.iter().for_each(|&c| mark(c, false));
        }
    }

    /// The class of a workload the last cycle left pending (`quota_only`: for quota alone).
    pub fn class_of(&mut self, s: &Snapshot, occupancy: &Occupancy, wl: &Workload, quota_only: bool) -> usize {
        let models: Vec<ModelId> = s
            .catalogue
            .model_ids()
            .filter(|&m| {
                let family = s.catalogue.model(m).family;
                wl.accepts.iter().any(|a| a.target == Target::Model(m) || a.target == Target::Family(family))
            })
            .collect();
        let key = ClassKey {
            tenant: wl.tenant,
            priority: wl.priority,
            replicas: wl.replicas_min,
            devices: wl.devices_per_replica,
            models,
            preemptible: wl.preemptible,
            quota_only,
        };
        if let Some(&c) = self.index.get(&key) {
            return c;
        }
        let c = self.classes.len();
        self.classes.push(new_class(s, occupancy, key.clone()));
        self.index.insert(key, c);
        c
    }

    /// Parks `job` in class `c` (from [`Parking::class_of`]).
    pub fn park(&mut self, c: usize, job: usize) {
        if self.classes[c].members.is_empty() {
            self.file(c, true);
            let class = &self.classes[c];
            let since = &self.released;
            let pools = class.pools.iter().any(|p| since.pools.contains(p));
            let quota = class.quota_holders.iter().any(|h| since.quota.contains(h))
                || (class.key.preemptible && class.families.iter().any(|f| since.families.contains(f)));
            if pools {
                mark(&mut self.classes, &mut self.fresh, c, true);
            }
            if quota {
                mark(&mut self.classes, &mut self.fresh, c, false);
            }
        }
        let class = &mut self.classes[c];
        // Kept oldest (lowest job index) first: the engine takes alike workloads oldest first.
        let at = class.members.partition_point(|&m| m < job);
        class.members.insert(at, job);
    }

    /// Forgets a parked job that no longer waits (a service deleted while parked).
    pub fn forget(&mut self, c: usize, job: usize) {
        let members = &mut self.classes[c].members;
        if let Ok(i) = members.binary_search(&job) {
            members.remove(i);
            if members.is_empty() {
                self.file(c, false);
            }
        }
    }

    /// Files a class (`true`) where releases of what it waits for find it, or takes it out: only
    /// classes with members are filed, so a release marks no more classes than wait for it.
    fn file(&mut self, c: usize, filed: bool) {
        let Parking { classes, by_pool, by_quota, borrowing, .. } = self;
        let class = &classes[c];
        let set = |list: &mut Vec<usize>| {
            if filed {
                list.push(c);
            } else {
                list.retain(|&x| x != c);
            }
        };
        for &p in &class.pools {
            if by_pool.len() <= p {
                by_pool.resize(p + 1, Vec::new());
            }
            set(&mut by_pool[p]);
        }
        for &holder in &class.quota_holders {
            set(by_quota.entry(holder).or_default());
        }
        if class.key.preemptible {
            for &f in &class.families {
                set(borrowing.entry(f).or_default());
            }
        }
    }

    /// Starts a cycle: returns the jobs woken for it. Of a class, as many of its oldest members
    /// are woken as could start (its members are alike, and the engine takes them oldest first):
    /// the rest would find no room.
    pub fn begin_cycle(&mut self, s: &Snapshot, occupancy: &Occupancy, policy: &Policy) -> Vec<usize> {
        let mut woken = Vec::new();
        let mut slots = std::mem::take(&mut self.slots_if_stopped);
        self.released = ReleasedSince::default();
        for c in std::mem::take(&mut self.fresh) {
            if !self.classes[c].members.is_empty() {
                let n = self.could_start(s, occupancy, policy, c, &mut slots).min(self.classes[c].members.len());
                woken.extend(self.classes[c].members.drain(..n));
                if self.classes[c].members.is_empty() {
                    self.file(c, false);
                }
            }
            let class = &mut self.classes[c];
            (class.fresh_pools, class.fresh_quota) = (false, false);
        }
        self.slots_if_stopped = slots;
        woken
    }

    /// How many of a class's gangs could start now, at most, given what was released for it.
    fn could_start(
        &self,
        s: &Snapshot,
        occupancy: &Occupancy,
        policy: &Policy,
        class: usize,
        slots_if_stopped: &mut SlotsIfStopped,
    ) -> usize {
        let c = &self.classes[class];
        let k = &c.key;
        let need = (k.replicas * k.devices).max(1);
        let ceiling = k.priority.saturating_sub(policy.min_priority_gap);
        let gangs = |devices: u32| (devices / need) as usize;
        if policy.preemption {
            // Preemption: pools where free devices and those its victims hold could take gangs,
            // with quota room once its own victims' devices are given back.
            let mut n = 0;
            for &p in &c.pools {
                let model = occupancy.pools[p].model;
                let reclaim = policy.reclaim_borrowed && within_nominal(s, occupancy, k, model);
                let mut room = occupancy.free(p) + occupancy.held_at_or_below(p, k.tenant, ceiling);
                if reclaim {
                    room += occupancy.borrowed_by_others(p, k.tenant);
                }
                let own_on_model: u32 = c
                    .pools
                    .iter()
                    .filter(|&&q| occupancy.pools[q].model == model)
                    .map(|&q| occupancy.held_at_or_below(q, k.tenant, ceiling))
                    .sum();
                let quota = quota_room(s, occupancy, k, model, own_on_model);
                let mut here = gangs(room.min(quota));
                let replicas = k.replicas.max(1);
                if here > 0 && occupancy.slots(p, k.devices) / replicas < here as u32 {
                    // Device counts can hide that no node would have a whole replica free.
                    let key = (p, k.tenant, ceiling, reclaim, k.devices);
                    let victim = |r: &Held| {
                        (r.tenant == k.tenant && r.priority <= ceiling)
                            || (reclaim && r.tenant != k.tenant && r.usage == UsageClass::Borrowed)
                    };
                    let kept = slots_if_stopped.entry(key).or_default();
                    let slots = occupancy.slots_if_stopped(p, k.devices, victim, kept);
                    here = here.min((slots / replicas) as usize);
                }
                n += here;
            }
            if n > 0 {
                return n;
            }
        }
        if k.quota_only {
            // Its own quota's usage fell, or, when it may borrow, others' lending may allow it;
            // either way only as far as its own usage now leaves room, on a model it may use (the
            // engine does not look at an accepted model in no pool its tenant may use).
            return if c.fresh_quota {
                let usable = c.pools.iter().map(|&p| occupancy.pools[p].model);
                usable.map(|m| gangs(quota_room(s, occupancy, k, m, 0))).max().unwrap_or(0)
            } else {
                0
            };
        }
        c.pools
            .iter()
            .map(|&p| {
                let slots = (occupancy.slots(p, k.devices) / k.replicas.max(1)) as usize;
                slots.min(gangs(quota_room(s, occupancy, k, occupancy.pools[p].model, 0)))
            })
            .sum()
    }

    /// Jobs parked now (members of every class), for tests.
    #[cfg(test)]
    pub fn parked(&self) -> usize {
        self.classes.iter().map(|c| c.members.len()).sum()
    }
}

/// Marks a class fresh, for its pools or for its quota.
fn mark(classes: &mut [Class], fresh: &mut Vec<usize>, c: usize, pools: bool) {
    let class = &mut classes[c];
    if !class.fresh_pools && !class.fresh_quota {
        fresh.push(c);
    }
    if pools {
        class.fresh_pools = true;
    } else {
        class.fresh_quota = true;
    }
}

/// The replica slots of a pool were a tenant's victims stopped, by (pool, tenant, priority
/// ceiling, whether others' borrowed devices count, devices per replica): alike classes share
/// them, and each is counted again only where the pool changed.
type SlotsIfStopped = BTreeMap<(usize, TenantId, i32, bool, u32), KeptSlots>;

fn new_class(s: &Snapshot, occupancy: &Occupancy, key: ClassKey) -> Class {
    let mut families: Vec<FamilyId> = key.models.iter().map(|&m| s.catalogue.model(m).family).collect();
    families.sort();
    families.dedup();
    let tenant = &s.tenants[key.tenant.ix()];
    let pools = occupancy
        .pools
        .iter()
        .enumerate()
        .filter(|(_, p)| {
            key.models.contains(&p.model)
                && tenant.allows_cluster(p.cluster)
                && match p.dedicated {
                    None => !tenant.dedicated_only,
                    Some(d) => s.tenant_path(key.tenant).any(|t| t == d),
                }
        })
        .map(|(i, _)| i)
        .collect();
    let mut quota_holders = Vec::new();
    for a in s.tenant_path(key.tenant) {
        for &m in &key.models {
            let family = s.catalogue.model(m).family;
            if s.tenants[a.ix()].quota_for(m, family).is_some() && !quota_holders.contains(&(a, family)) {
                quota_holders.push((a, family));
            }
        }
    }
    Class { key, families, quota_holders, pools, members: Vec::new(), fresh_pools: false, fresh_quota: false }
}

/// Devices of a model quota could still admit for the class's tenant once `freed` of its
/// devices of the model are given back, as far as the tenants' usage says (the engine's admission
/// also holds back what others may not lend); `u32::MAX` when no quota limits it.
fn quota_room(s: &Snapshot, occupancy: &Occupancy, k: &ClassKey, m: ModelId, freed: u32) -> u32 {
    let family = s.catalogue.model(m).family;
    let mut covered = false;
    let mut room = u32::MAX;
    for a in s.tenant_path(k.tenant) {
        let Some(q) = s.tenants[a.ix()].quota_for(m, family) else { continue };
        covered = true;
        let used = occupancy.used(a, q.key).saturating_sub(freed);
        let cap = if k.preemptible { q.borrowing_limit.map(|l| q.nominal + l) } else { Some(q.nominal) };
        if let Some(cap) = cap {
            room = room.min(cap.saturating_sub(used));
        }
    }
    if covered || k.preemptible { room } else { 0 }
}

/// Whether the class's gang fits within the nominal quota of its tenant's nearest quota for the
/// model (the engine reclaims borrowed devices only for such a gang).
fn within_nominal(s: &Snapshot, occupancy: &Occupancy, k: &ClassKey, m: ModelId) -> bool {
    let family = s.catalogue.model(m).family;
    let Some((a, q)) = s.tenant_path(k.tenant).find_map(|a| s.tenants[a.ix()].quota_for(m, family).map(|q| (a, *q)))
    else {
        return false;
    };
    occupancy.used(a, q.key) + k.replicas * k.devices <= q.nominal
}

#[cfg(test)]
mod tests {
    use tidepool_engine::{Accept, FleetIndex, Quota, QuotaKey, Seconds, UsageClass, WorkloadClass, WorkloadKind};

    use super::*;
    use crate::sim::occupancy::tests::fleet;

    const BANK: TenantId = TenantId(1);
    const INSURER: TenantId = TenantId(2);

    fn gang(tenant: TenantId, priority: i32, replicas: u32, devices: u32, model: u32) -> Workload {
        Workload {
            name: "w".into(),
            tenant,
            kind: WorkloadKind::Training,
            class: WorkloadClass::LlmTraining,
            priority,
            preemptible: false,
            replicas_min: replicas,
            replicas_wanted: replicas,
            devices_per_replica: devices,
            accepts: vec![Accept { target: Target::Model(ModelId(model)), min_memory_gib: 0, throughput: None }],
            allow_mixed_models: false,
            expected_work: Some(1.0),
            checkpoint: None,
            deadline: None,
            submitted: Seconds(0),
        }
    }

    fn replica(tenant: TenantId, priority: i32, node: u32, devices: u32) -> Held {
        let model = ModelId(if node < 2 { 0 } else { 1 });
        Held { tenant, priority, node: NodeId(node), model, devices, usage: UsageClass::Guaranteed }
    }

    /// Binds, then parks `job` (workload `wl`) in a cycle.
    fn parked(s: &Snapshot, o: &Occupancy, p: &mut Parking, policy: &Policy, wl: &Workload, quota_only: bool) {
        assert!(p.begin_cycle(s, o, policy).is_empty());
        let c = p.class_of(s, o, wl, quota_only);
        p.park(c, 7);
        assert_eq!(p.parked(), 1);
    }

    fn release(s: &Snapshot, o: &mut Occupancy, p: &mut Parking, h: Held) {
        o.release(s, h);
        p.released(s, o, h.tenant, h.node, h.model);
    }

    #[test]
    fn a_parked_gang_wakes_once_a_node_it_accepts_has_room_and_not_before() {
        let s = fleet();
        let policy = Policy { preemption: false, ..Policy::default() };
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let mut p = Parking::default();
        let full = [
            replica(INSURER, 0, 0, 4),
            replica(INSURER, 0, 0, 4),
            replica(INSURER, 0, 1, 8),
            replica(INSURER, 0, 2, 8),
        ];
        for h in full {
            o.bind(&s, h);
        }
        let wl = gang(BANK, 0, 1, 8, 0);
        parked(&s, &o, &mut p, &policy, &wl, false);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "nothing happened");
        release(&s, &mut o, &mut p, full[3]);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "freed devices of a model it does not accept");
        release(&s, &mut o, &mut p, full[0]);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "four free devices hold no replica of eight");
        release(&s, &mut o, &mut p, full[1]);
        assert_eq!(p.begin_cycle(&s, &o, &policy), vec![7], "a whole node is free");
        assert_eq!(p.parked(), 0);
    }

    /// Both nodes of model `a` held whole by the insurer, no preemption, and a first cycle begun.
    fn both_nodes_of_a_held_by_the_insurer() -> (Snapshot, Policy, Occupancy, Parking, [Held; 2]) {
        let s = fleet();
        let policy = Policy { preemption: false, ..Policy::default() };
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let mut p = Parking::default();
        let full = [replica(INSURER, 0, 0, 8), replica(INSURER, 0, 1, 8)];
        for h in full {
            o.bind(&s, h);
        }
        assert!(p.begin_cycle(&s, &o, &policy).is_empty());
        (s, policy, o, p, full)
    }

    #[test]
    fn of_alike_gangs_only_as_many_as_could_start_wake_oldest_first() {
        let (s, policy, mut o, mut p, full) = both_nodes_of_a_held_by_the_insurer();
        let c = p.class_of(&s, &o, &gang(BANK, 0, 1, 8, 0), false);
        for job in [12, 5, 9] {
            p.park(c, job);
        }
        release(&s, &mut o, &mut p, full[1]);
        assert_eq!(p.begin_cycle(&s, &o, &policy), vec![5], "one node free: the oldest gang");
        assert_eq!(p.parked(), 2);
        release(&s, &mut o, &mut p, full[0]);
        assert_eq!(p.begin_cycle(&s, &o, &policy), vec![9, 12], "both nodes free (the first did not start)");
    }

    #[test]
    fn a_gang_parked_after_a_release_in_its_cycle_is_looked_at_in_the_next() {
        let (s, policy, mut o, mut p, full) = both_nodes_of_a_held_by_the_insurer();
        // The engine left the gang pending; later in the same cycle a node it accepts was freed
        // (a victim stopped without grace), before the gang was parked in a class new to it.
        release(&s, &mut o, &mut p, full[0]);
        let c = p.class_of(&s, &o, &gang(BANK, 0, 1, 8, 0), false);
        p.park(c, 7);
        assert_eq!(p.begin_cycle(&s, &o, &policy), vec![7]);
        // Nothing released since: parked again, it waits.
        p.park(c, 7);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty());
    }

    #[test]
    fn a_gang_blocked_by_quota_wakes_when_its_tenant_gives_devices_back() {
        let mut s = fleet();
        let family = s.catalogue.model(ModelId(0)).family;
        s.tenants[BANK.ix()].quotas =
            vec![Quota { key: QuotaKey::Family(family), nominal: 8, borrowing_limit: Some(0), lending_limit: None }];
        let policy = Policy { preemption: false, ..Policy::default() };
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let mut p = Parking::default();
        let (bank, insurer) = (replica(BANK, 0, 0, 8), replica(INSURER, 0, 1, 8));
        o.bind(&s, bank);
        o.bind(&s, insurer);
        let wl = gang(BANK, 0, 1, 4, 1); // four devices of `b`, whose node is free
        parked(&s, &o, &mut p, &policy, &wl, true);
        release(&s, &mut o, &mut p, insurer);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "another tenant's usage fell, not its own");
        release(&s, &mut o, &mut p, bank);
        assert_eq!(p.begin_cycle(&s, &o, &policy), vec![7]);
    }

    #[test]
    fn a_gang_blocked_by_quota_is_not_woken_by_room_on_a_model_it_may_not_use() {
        let mut s = fleet();
        // Model `b`'s node is the insurer's own: the bank accepts `b` but may not run there.
        s.nodes[2].dedicated_to = Some(INSURER);
        let quota = |m: u32, nominal: u32| Quota {
            key: QuotaKey::Model(ModelId(m)),
            nominal,
            borrowing_limit: None,
            lending_limit: None,
        };
        s.tenants[BANK.ix()].quotas = vec![quota(0, 8), quota(1, 16)];
        let policy = Policy { preemption: false, ..Policy::default() };
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let mut p = Parking::default();
        let held = [replica(BANK, 0, 0, 8), replica(BANK, 0, 1, 4), replica(BANK, 0, 1, 4)];
        for h in held {
            o.bind(&s, h);
        }
        let mut wl = gang(BANK, 0, 1, 4, 0);
        wl.accepts.push(Accept { target: Target::Model(ModelId(1)), min_memory_gib: 0, throughput: None });
        parked(&s, &o, &mut p, &policy, &wl, true);
        release(&s, &mut o, &mut p, held[2]);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "12 of `a` in use, 8 nominal: no room where it may run");
        release(&s, &mut o, &mut p, held[1]);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "8 of 8 still");
        release(&s, &mut o, &mut p, held[0]);
        assert_eq!(p.begin_cycle(&s, &o, &policy), vec![7]);
    }

    #[test]
    fn a_gang_that_may_preempt_wakes_when_a_node_of_free_devices_and_its_victims_could_hold_it() {
        let s = fleet();
        let policy = Policy::default();
        let mut o = Occupancy::new(&s, &FleetIndex::new(&s));
        let mut p = Parking::default();
        let low = replica(BANK, 0, 0, 4);
        let others = [replica(INSURER, 500, 0, 4), replica(INSURER, 500, 1, 4), replica(INSURER, 500, 1, 4)];
        o.bind(&s, low);
        for h in others {
            o.bind(&s, h);
        }
        let wl = gang(BANK, 100, 1, 8, 0);
        parked(&s, &o, &mut p, &policy, &wl, false);
        let stranger = replica(INSURER, 0, 2, 2);
        o.bind(&s, stranger);
        release(&s, &mut o, &mut p, stranger);
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "a release on a model it does not accept");
        release(&s, &mut o, &mut p, others[1]);
        // Four free on node 1 and four of its own at priority 0 on node 0: eight devices, but no
        // node where eight would be free.
        assert!(p.begin_cycle(&s, &o, &policy).is_empty(), "no node could hold the replica");
        release(&s, &mut o, &mut p, others[0]);
        // Node 0: four free and four of its own at priority 0.
        assert_eq!(p.begin_cycle(&s, &o, &policy), vec![7]);
    }
}
