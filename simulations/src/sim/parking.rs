//! Parking: the simulator's queue manager keeps a workload the engine could not start out of the
//! next cycles until something happens that could let it start — as Kueue does with inadmissible
//! workloads (its `BestEffortFIFO` queues requeue them when capacity is freed), and as a
//! controller must on a fleet with thousands waiting, where searching the whole queue every cycle
//! costs more than the cycle is worth.
//!
//! A workload is parked after a cycle leaves it pending for capacity or quota while it holds
//! nothing and backfill reserved nothing for it (a gang with a reservation stays in every cycle,
//! so work that would delay it cannot take its nodes). It is woken, to be tried at the next cycle,
//! when since it was parked:
//! - devices of a family it accepts were released (a job finished or was preempted, a service was
//!   deleted or scaled down), and then either it was blocked by quota alone (usage fell), or a
//!   pool of nodes it may use now has free room for its whole gang counting every node (what the
//!   engine's placement checks first), or it could preempt (see below); or
//! - it could preempt, and a replica it could preempt started on a model it accepts: one of its
//!   tenant's at a priority at least the policy's gap lower, or another tenant's on borrowed
//!   devices while its own tenant is within nominal quota for its gang.
//!
//! Each condition is necessary for the engine to start it: without any of them its attempt fails
//! as before. What parking changes is that a parked gang makes no backfill reservation, and the
//! few cases where time alone would change the outcome (the order of preemption victims by work
//! lost) wait for the next event. Parked workloads sharing tenant, priority, gang shape, accepted
//! models and cause form one class, woken together, so a cycle looks at classes, not at every
//! waiting workload. Tidal lending is not modelled: the simulator lends no devices.

use std::collections::BTreeMap;

use tidepool_engine::{FamilyId, ModelId, Policy, QuotaKey, Snapshot, Target, TenantId, UsageClass, Workload};

use crate::sim::occupancy::Occupancy;

/// What parked workloads of one class share.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ClassKey {
    tenant: TenantId,
    priority: i32,
    replicas: u32,
    devices: u32,
    /// Accepted models, ascending.
    models: Vec<ModelId>,
    /// Left pending by quota alone (every candidate blocked by quota, none by room).
    quota_only: bool,
}

#[derive(Clone, Debug)]
struct Class {
    key: ClassKey,
    families: Vec<FamilyId>,
    /// Pools of nodes (see [`Occupancy`]) its workloads may use.
    pools: Vec<usize>,
    /// Parked jobs, by the caller's job index.
    members: Vec<usize>,
    /// The cycle the oldest member was parked in: events since then may wake the class.
    since: u64,
}

/// Parked workloads by class and the events that wake them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Parking {
    classes: Vec<Class>,
    index: BTreeMap<ClassKey, usize>,
    /// Classes with members.
    occupied: Vec<usize>,
    /// The current cycle; events are stamped with it.
    tick: u64,
    /// Per family: the last cycle devices of it were released in.
    released: BTreeMap<FamilyId, u64>,
    /// Per (tenant, model, priority): the last cycle a replica of the tenant at that priority
    /// started on the model.
    started: BTreeMap<(TenantId, ModelId, i32), u64>,
    /// Per (tenant, model): the last cycle the tenant started a replica on borrowed devices of it.
    borrowed: BTreeMap<(TenantId, ModelId), u64>,
}

impl Parking {
    /// Devices of a model were released.
    pub fn released(&mut self, s: &Snapshot, model: ModelId) {
        self.released.insert(s.catalogue.model(model).family, self.tick);
    }

    /// A replica started.
    pub fn started(&mut self, tenant: TenantId, model: ModelId, priority: i32, usage: UsageClass) {
        self.started.insert((tenant, model, priority), self.tick);
        if usage == UsageClass::Borrowed {
            self.borrowed.insert((tenant, model), self.tick);
        }
    }

    /// Parks `job`, whose workload `wl` the last cycle left pending (`quota_only`: for quota
    /// alone).
    pub fn park(&mut self, s: &Snapshot, occupancy: &Occupancy, job: usize, wl: &Workload, quota_only: bool) {
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
            quota_only,
        };
        let c = match self.index.get(&key) {
            Some(&c) => c,
            None => {
                self.classes.push(new_class(s, occupancy, key.clone()));
                self.index.insert(key, self.classes.len() - 1);
                self.classes.len() - 1
            }
        };
        let class = &mut self.classes[c];
        if class.members.is_empty() {
            class.since = self.tick;
            self.occupied.push(c);
        }
        class.members.push(job);
    }

    /// Starts a cycle: returns the jobs woken for it (in no particular order), and stamps the
    /// events that follow with the new cycle.
    pub fn begin_cycle(&mut self, s: &Snapshot, occupancy: &Occupancy, policy: &Policy) -> Vec<usize> {
        let mut woken = Vec::new();
        let mut i = 0;
        while i < self.occupied.len() {
            let c = self.occupied[i];
            if self.wakes(s, occupancy, policy, &self.classes[c]) {
                woken.append(&mut self.classes[c].members);
                self.occupied.swap_remove(i);
            } else {
                i += 1;
            }
        }
        self.tick += 1;
        woken
    }

    fn wakes(&self, s: &Snapshot, occupancy: &Occupancy, policy: &Policy, c: &Class) -> bool {
        let k = &c.key;
        let released = c.families.iter().any(|f| self.released.get(f).is_some_and(|&t| t >= c.since));
        let ceiling = k.priority.saturating_sub(policy.min_priority_gap);
        let reclaims = |m: ModelId| policy.reclaim_borrowed && within_nominal(s, occupancy, k, m);
        let new_victim = policy.preemption
            && k.models.iter().any(|&m| {
                self.started.range((k.tenant, m, i32::MIN)..=(k.tenant, m, ceiling)).any(|(_, &t)| t >= c.since)
                    || (self
                        .borrowed
                        .iter()
                        .any(|(&(t, bm), &at)| bm == m && t != k.tenant && at >= c.since)
                        && reclaims(m))
            });
        if new_victim {
            return true;
        }
        if !released {
            return false;
        }
        let may_preempt = policy.preemption
            && k.models.iter().any(|&m| {
                occupancy.runs_at_or_below(k.tenant, m, ceiling) || (occupancy.others_borrow(k.tenant, m) && reclaims(m))
            });
        k.quota_only || may_preempt || c.pools.iter().any(|&p| occupancy.room_for(p, k.replicas, k.devices))
    }

    /// Jobs parked now (members of every class), for tests and reports.
    #[cfg(test)]
    pub fn parked(&self) -> usize {
        self.occupied.iter().map(|&c| self.classes[c].members.len()).sum()
    }
}

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
    Class { key, families, pools, members: Vec::new(), since: 0 }
}

/// Whether the class's gang fits within the nominal quota of its tenant's nearest quota for the
/// model (the engine reclaims borrowed devices only for such a gang).
fn within_nominal(s: &Snapshot, occupancy: &Occupancy, k: &ClassKey, m: ModelId) -> bool {
    let family = s.catalogue.model(m).family;
    let Some((a, q)) = s.tenant_path(k.tenant).find_map(|a| s.tenants[a.ix()].quota_for(m, family).map(|q| (a, *q)))
    else {
        return false;
    };
    let used: u32 = match q.key {
        QuotaKey::Model(qm) => occupancy.used(a, qm),
        QuotaKey::Family(f) => {
            s.catalogue.model_ids().filter(|&x| s.catalogue.model(x).family == f).map(|x| occupancy.used(a, x)).sum()
        }
    };
    used + k.replicas * k.devices <= q.nominal
}
