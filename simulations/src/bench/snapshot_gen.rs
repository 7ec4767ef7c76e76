//! A deterministic group cloud for benchmarking the engine: the same [`GenConfig`] (seed
//! included) always gives the same snapshot. Three institutions of a financial group share a
//! heterogeneous fleet; about 60 % of it is busy and a large queue waits.
//!
//! The contract (what the benchmark promises to measure against): a queue that mixes 1-device
//! pods with 8/16/32-device gangs over at least 4 accelerator models and 3 tenants, with
//! realistic quotas. In detail:
//!
//! **Catalogue** (transfer prices and relative throughputs of the built-in catalogue):
//! `nvidia-a100-80g` (14.00 CNY/h, 1.0 everywhere — the reference), `nvidia-h20` (12.40; 1.66 on
//! LLM serving, 0.47 on training), `ascend-910b` (9.02; ≈0.55), `cambricon-mlu590` (5.64; ≈0.27),
//! `hygon-k100-ai` (5.24; 0.13–0.37); four families.
//!
//! **Fleet.** `nodes` split 50/30/20 % over three clusters (largest remainder). In each cluster
//! the nodes split 35/15/30/10/10 % over the five models in that order, each model's nodes in
//! interconnect groups of 32 (the last one smaller), 4 groups to a rack. Every node has
//! `devices_per_node` healthy devices of its model; devices `d` of fast-link models sit in link
//! domain `d * 2 / devices_per_node` (two domains), PCIe-only Hygon cards in a domain each. All
//! nodes are schedulable; the last 2 % (rounded) of the first cluster's nodes, all A100, are
//! dedicated to `bank-markets`.
//!
//! **Tenants.** `group` (root; a quota per family equal to the fleet's devices of it, no limits)
//! → `bank`, `insurer`, `securities` (weights 5/3/2; nominal 50/30/20 % of each family) → two
//! departments each (weights 3/2; nominal 60 % and the rest of their institution's, so children
//! sum to their parent). Below the root every quota may borrow 25 % of its nominal and lend 50 %.
//! Bank departments may use only the first two clusters (data residency); the others any.
//!
//! **Running load** (about 60 % of devices). Each department runs a fixed percent of its
//! nominal quota of every family: bank-retail 80, bank-markets 110 (the 10 beyond nominal as
//! `Borrowed`, by preemptible workloads), insurer 35/30, securities 25/20. Workloads are 90 %
//! single devices, otherwise gangs drawn as in the queue; each runs on one model of the family
//! (by fleet share), in a cluster it may use (bank by cluster size; others 20/30/50 %, leaning on
//! the smaller clusters), placed by a simple packer that leaves some fragmentation (see
//! `placer`). Started 10 minutes to 3 days before `now`; 80 % of checkpointing jobs have a last
//! checkpoint at their latest interval boundary.
//!
//! **Queue.** Exactly `pending_pods` replicas wait. 60 % (rounded) are single-device,
//! single-replica workloads; the rest come from gangs of 8, 16 or 32 devices drawn with weights
//! 1×8 30, 2×8 20, 4×8 15 (node-sized replicas; with fewer than 8 devices per node, replicas of
//! a whole node) and 8×1 20, 16×1 10, 32×1 5; a draw larger than the pods left becomes the
//! largest shape that fits. The order is shuffled; submission times increase, spread over the
//! 6 hours before `now`. Departments by 30/20/18/12/12/8 %; each workload is built for one model
//! drawn by the department's usable nodes, and accepts it plus 0/1/2 other models (40/40/20 %),
//! each named by model or, 30 % of the time, by family.
//!
//! **Each workload** (running or pending). Single devices: llm-training 20, llm-inference 35,
//! cv-training 8, cv-inference 17, recsys-training 5, recsys-inference 15 (serving classes are
//! inference services); gangs: llm-training 70, cv-training 18, recsys-training 12. A quarter
//! of LLM work needs the memory of the chip it was built for; 5 % states its own throughput
//! (0.8–1.2 × the catalogue's). Priority uniform over {0, 0, 0, 100, 500}; 40 % preemptible.
//! Expected work log-uniform over 1–2000 reference-device-hours (unknown for half the services).
//! Training checkpoints every 1800–7200 s with 60–300 s grace. 20 % of queued training jobs
//! have a deadline 1.2–4 × their runtime on reference chips after `now`.

mod catalogue;
mod fleet;
mod pending;
mod placer;
mod profile;
mod running;
mod tenants;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use tidepool_engine::{Seconds, Snapshot};

/// The instant the snapshot describes: 2026-01-01T00:00:00Z.
pub const NOW: Seconds = Seconds(1_767_225_600);

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GenConfig {
    /// Nodes in the fleet.
    pub nodes: u32,
    /// Devices per node, 1 to 64.
    pub devices_per_node: u32,
    /// Pods (replicas) waiting to start.
    pub pending_pods: u32,
    /// Seed of every random draw.
    pub seed: u64,
}

impl GenConfig {
    /// Checks the numbers are ones the engine and the generator support.
    pub fn validate(&self) -> Result<(), String> {
        if self.nodes == 0 {
            return Err("--nodes must be at least 1".into());
        }
        if !(1..=64).contains(&self.devices_per_node) {
            return Err(format!("--devices-per-node must be 1 to 64, not {}", self.devices_per_node));
        }
        if u64::from(self.nodes) * u64::from(self.devices_per_node) > u64::from(u32::MAX / 2) {
            return Err("the fleet has too many devices".into());
        }
        Ok(())
    }
}

/// A generated snapshot and what went into it.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// The instant to schedule at ([`NOW`]).
    pub now: Seconds,
    /// Counts.
    pub stats: GenStats,
}

/// Counts of what was generated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Devices in the fleet.
    pub devices: u32,
    /// Nodes dedicated to a tenant.
    pub dedicated_nodes: u32,
    /// Running workloads.
    pub running_workloads: u32,
    /// Devices held by running workloads.
    pub allocated_devices: u32,
    /// Of those, devices held beyond nominal quota (`Borrowed`).
    pub borrowed_devices: u32,
    /// Workloads waiting to start.
    pub pending_workloads: u32,
    /// Replicas waiting to start.
    pub pending_pods: u32,
    /// Waiting workloads of more than one device.
    pub pending_gangs: u32,
}

/// An independent random stream per part, so that (say) a longer queue leaves the running
/// load unchanged.
fn stream(seed: u64, part: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Generates the snapshot. `cfg` must pass [`GenConfig::validate`].
pub fn generate(cfg: &GenConfig) -> Generated {
    let dedicated = tenants::department_id(tenants::DEDICATED_DEPARTMENT);
    let fleet = fleet::build(cfg, dedicated);
    let mut snapshot = Snapshot {
        catalogue: catalogue::catalogue(),
        tenants: tenants::build(&fleet.nodes),
        clusters: fleet.clusters,
        groups: fleet.groups,
        nodes: fleet.nodes,
        ..Snapshot::default()
    };
    let pool_sizes: Vec<usize> = fleet.pools.iter().map(Vec::len).collect();
    let mut placer = placer::Placer::new(&snapshot.nodes, fleet.pools);
    let running = running::generate(&mut stream(cfg.seed, 1), &mut snapshot, &mut placer, cfg.devices_per_node, NOW);
    let pending = pending::generate(
        &mut stream(cfg.seed, 2),
        &mut snapshot,
        &pool_sizes,
        cfg.pending_pods,
        cfg.devices_per_node,
        NOW,
    );
    let stats = GenStats {
        devices: cfg.nodes * cfg.devices_per_node,
        dedicated_nodes: fleet.dedicated_nodes,
        running_workloads: running.workloads,
        allocated_devices: running.devices,
        borrowed_devices: running.borrowed_devices,
        pending_workloads: pending.workloads,
        pending_pods: pending.pods,
        pending_gangs: pending.gangs,
    };
    Generated { snapshot, now: NOW, stats }
}
