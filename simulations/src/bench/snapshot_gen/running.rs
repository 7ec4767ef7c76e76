//! The running load: each department runs its load percent of its nominal quota of every
//! family — within nominal as `Guaranteed`, beyond it as `Borrowed` (preemptible work only) —
//! as single devices and gangs placed by the [`Placer`] in the clusters it may use.

use crate::generator::draw::weighted;
use rand::{Rng, RngExt};
use tidepool_engine::{Allocation, ClusterId, ModelId, Node, Seconds, Snapshot, TenantId, UsageClass, WorkloadId};

use super::catalogue::MODELS;
use super::fleet::{CLUSTERS, pool};
use super::placer::Placer;
use super::profile::{self, Draft, Shape};
use super::tenants::{self, DEPARTMENTS};

/// Share of running workloads that are one device (about 40 % of running devices).
const SINGLE: f64 = 0.9;
/// Started between 10 minutes and 3 days before the snapshot.
const STARTED: std::ops::RangeInclusive<i64> = 600..=3 * 86_400;
/// Share of checkpointing workloads that have checkpointed since they started.
const CHECKPOINTED: f64 = 0.8;
/// Draws in a row that may fail to place before a budget is given up as full.
const MAX_MISSES: u32 = 8;

/// Devices and workloads the running load took.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Running {
    pub workloads: u32,
    pub devices: u32,
    pub borrowed_devices: u32,
}

/// Appends the running workloads and their allocations to `s`.
pub(super) fn generate(
    rng: &mut impl Rng,
    s: &mut Snapshot,
    placer: &mut Placer,
    node_devices: u32,
    now: Seconds,
) -> Running {
    let mut out = Running::default();
    for (d, dept) in DEPARTMENTS.iter().enumerate() {
        let tenant = tenants::department_id(d);
        for f in 0..s.catalogue.families.len() {
            let nominal = tenants::nominal(&s.tenants[tenant.ix()], f);
            let load = nominal * dept.load_percent / 100;
            let guaranteed = load.min(nominal);
            for (budget, usage) in [(guaranteed, UsageClass::Guaranteed), (load - guaranteed, UsageClass::Borrowed)] {
                let fill = Fill { department: d, tenant, family: f as u32, usage, node_devices, now };
                let taken = fill.run(rng, s, placer, budget, &mut out);
                if usage == UsageClass::Borrowed {
                    out.borrowed_devices += taken;
                }
                out.devices += taken;
            }
        }
    }
    out
}

/// One department's budget of one family on one usage class.
struct Fill {
    department: usize,
    tenant: TenantId,
    family: u32,
    usage: UsageClass,
    node_devices: u32,
    now: Seconds,
}

impl Fill {
    /// Adds workloads until `budget` devices run or the clusters it may use are full; returns
    /// the devices taken.
    fn run(&self, rng: &mut impl Rng, s: &mut Snapshot, placer: &mut Placer, budget: u32, out: &mut Running) -> u32 {
        let mut left = budget;
        let mut misses = 0;
        while left > 0 && misses < MAX_MISSES {
            let mut shape = Shape::SINGLE;
            if !rng.random_bool(SINGLE) {
                shape = weighted(rng, &profile::gang_shapes(self.node_devices));
                if shape.devices() > left {
                    shape = Shape::SINGLE;
                }
            }
            let Some((model, placed)) = self.place(rng, s, placer, shape) else {
                misses += 1;
                continue;
            };
            misses = 0;
            let started = Seconds(self.now.0 - rng.random_range(STARTED));
            let draft = Draft {
                name_prefix: DEPARTMENTS[self.department].name,
                index: s.workloads.len(),
                tenant: self.tenant,
                shape,
                primary: model,
                submitted: Seconds(started.0 - rng.random_range(0..=3600)),
                running: true,
                must_be_preemptible: self.usage == UsageClass::Borrowed,
            };
            let workload = profile::workload(rng, draft, self.now);
            let last_checkpoint = workload.checkpoint.and_then(|c| {
                let since = self.now.0 - started.0;
                (since >= c.interval && rng.random_bool(CHECKPOINTED))
                    .then(|| Seconds(started.0 + since / c.interval * c.interval))
            });
            let id = WorkloadId(s.workloads.len() as u32);
            s.workloads.push(workload);
            for (replica, (node, mask)) in placed.into_iter().enumerate() {
                s.allocations.push(Allocation {
                    workload: id,
                    replica: replica as u32,
                    node,
                    devices: mask,
                    model,
                    usage: self.usage,
                    started,
                    last_checkpoint,
                });
            }
            out.workloads += 1;
            left -= shape.devices();
        }
        budget - left
    }

    /// Places a gang on a model of the family, in a cluster drawn by preference and then the
    /// others in order; returns the model and each replica's node and devices.
    fn place(
        &self,
        rng: &mut impl Rng,
        s: &Snapshot,
        placer: &mut Placer,
        shape: Shape,
    ) -> Option<(ModelId, Vec<(tidepool_engine::NodeId, u64)>)> {
        let tenant = &s.tenants[self.tenant.ix()];
        let allowed: Vec<ClusterId> =
            (0..CLUSTERS.len() as u32).map(ClusterId).filter(|c| tenant.allows_cluster(*c)).collect();
        // Institutions whose data may go anywhere lean on the smaller clusters, leaving the first
        // two to the bank.
        let preference: Vec<(ClusterId, u32)> = allowed
            .iter()
            .map(|&c| (c, if tenant.allowed_clusters.is_some() { CLUSTERS[c.ix()].1 } else { [20, 30, 50][c.ix()] }))
            .collect();
        let first = weighted(rng, &preference);
        let models: Vec<ModelId> =
            (0..MODELS.len() as u32).map(ModelId).filter(|m| MODELS[m.ix()].family == self.family).collect();
        let by_devices: Vec<(ModelId, u32)> = models.iter().map(|&m| (m, MODELS[m.ix()].fleet_percent)).collect();
        let model_first = weighted(rng, &by_devices);
        let eligible = |n: &Node| n.dedicated_to.is_none_or(|d| s.tenant_path(self.tenant).any(|t| t == d));
        let clusters = std::iter::once(first).chain(allowed.iter().copied().filter(|&c| c != first));
        for cluster in clusters {
            let order = std::iter::once(model_first).chain(models.iter().copied().filter(|&m| m != model_first));
            for model in order {
                if let Some(placed) = placer.place(rng, &s.nodes, pool(cluster, model), shape, &eligible) {
                    return Some((model, placed));
                }
            }
        }
        None
    }
}
