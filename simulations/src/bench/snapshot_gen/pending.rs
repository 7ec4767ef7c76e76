//! The pending queue: exactly the requested number of pods (replicas), 60 % of them
//! single-device workloads and the rest gangs, in random order, submitted one after another
//! before the snapshot.

use crate::generator::draw::weighted;
use rand::Rng;
use rand::seq::SliceRandom;
use tidepool_engine::{ClusterId, ModelId, Seconds, Snapshot};

use super::catalogue::MODELS;
use super::fleet::pool;
use super::profile::{self, Draft, Shape};
use super::tenants::{self, DEPARTMENTS};

/// Percent of pending pods that are single-device, single-replica workloads.
const SINGLE_PERCENT: u64 = 60;
/// The queue is submitted over (at least) the 6 hours before the snapshot.
const WINDOW: i64 = 6 * 3600;

/// What was queued.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Pending {
    pub workloads: u32,
    pub pods: u32,
    pub gangs: u32,
}

/// Gang and single shapes adding up to exactly `pods` replicas.
fn shapes(rng: &mut impl Rng, pods: u32, node_devices: u32) -> Vec<Shape> {
    let singles = ((u64::from(pods) * SINGLE_PERCENT + 50) / 100) as u32;
    let mut gang_pods = pods - singles;
    let all = profile::gang_shapes(node_devices);
    let mut out = Vec::new();
    while gang_pods > 0 {
        let mut shape = weighted(rng, &all);
        if shape.replicas > gang_pods {
            // The largest gang that still fits, else single devices for the rest.
            match all.iter().map(|s| s.0).filter(|s| s.replicas <= gang_pods).max_by_key(|s| s.replicas) {
                Some(s) => shape = s,
                None => break,
            }
        }
        gang_pods -= shape.replicas;
        out.push(shape);
    }
    out.extend(std::iter::repeat_n(Shape::SINGLE, (singles + gang_pods) as usize));
    out.shuffle(rng);
    out
}

/// Appends the pending workloads to `s`; `pool_sizes`: nodes per (cluster, model) pool.
pub(super) fn generate(
    rng: &mut impl Rng,
    s: &mut Snapshot,
    pool_sizes: &[usize],
    pods: u32,
    node_devices: u32,
    now: Seconds,
) -> Pending {
    let shapes = shapes(rng, pods, node_devices);
    let departments: Vec<(usize, u32)> = DEPARTMENTS.iter().enumerate().map(|(i, d)| (i, d.pending_percent)).collect();
    // Per department: each model weighted by its devices in the clusters the department may use.
    let models: Vec<Vec<(ModelId, u32)>> = (0..DEPARTMENTS.len())
        .map(|d| {
            let tenant = &s.tenants[tenants::department_id(d).ix()];
            (0..MODELS.len() as u32)
                .map(ModelId)
                .map(|m| {
                    let nodes: usize = (0..s.clusters.len() as u32)
                        .map(ClusterId)
                        .filter(|c| tenant.allows_cluster(*c))
                        .map(|c| pool_sizes[pool(c, m)])
                        .sum();
                    (m, nodes as u32)
                })
                .filter(|(_, n)| *n > 0)
                .collect()
        })
        .collect();
    let step = (WINDOW / shapes.len().max(1) as i64).max(1);
    let mut out = Pending::default();
    for (i, shape) in shapes.iter().enumerate() {
        let d = weighted(rng, &departments);
        let Some(primary) = (!models[d].is_empty()).then(|| weighted(rng, &models[d])) else { continue };
        let draft = Draft {
            name_prefix: DEPARTMENTS[d].name,
            index: s.workloads.len(),
            tenant: tenants::department_id(d),
            shape: *shape,
            primary,
            submitted: Seconds(now.0 - (shapes.len() - i) as i64 * step),
            running: false,
            must_be_preemptible: false,
        };
        s.workloads.push(profile::workload(rng, draft, now));
        out.workloads += 1;
        out.pods += shape.replicas;
        out.gangs += u32::from(shape.devices() > 1);
    }
    out
}
