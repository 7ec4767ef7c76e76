//! `tidepool-sim bench engine`: generates a group cloud (see [`super::snapshot_gen`]), runs
//! one scheduling cycle on it with the default policy, and reports how fast it went.
//!
//! Only the `schedule` call is timed; building and checking the snapshot is reported apart.
//! Peak memory is the process's, read after the cycle, so it includes the snapshot.

use std::time::Instant;

use clap::Args;
use serde::Serialize;
use tidepool_engine::{Policy, SnapshotError, VictimReason, schedule};

use super::rss::peak_rss_mib;
use super::snapshot_gen::{self, GenConfig};

/// Arguments of `bench engine`.
#[derive(Args, Clone, Debug)]
pub struct EngineArgs {
    /// Nodes in the fleet.
    #[arg(long, default_value_t = 5000)]
    pub nodes: u32,
    /// Devices per node (1 to 64).
    #[arg(long, default_value_t = 8)]
    pub devices_per_node: u32,
    /// Pods (replicas) waiting to start — not workloads.
    #[arg(long, default_value_t = 50_000)]
    pub pending: u32,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl EngineArgs {
    /// The generator's configuration.
    pub fn config(&self) -> GenConfig {
        GenConfig {
            nodes: self.nodes,
            devices_per_node: self.devices_per_node,
            pending_pods: self.pending,
            seed: self.seed,
        }
    }
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Arguments out of range.
    #[error("invalid arguments: {0}")]
    Args(String),
    /// The generator built a snapshot the engine must not be given (a generator bug).
    #[error("the generated snapshot does not hold together: {0}")]
    Snapshot(#[from] SnapshotError),
}

/// What one run measured; serialised in this field order.
#[derive(Clone, Debug, Serialize)]
pub struct EngineReport {
    /// Seed of the generator.
    pub seed: u64,
    /// Nodes.
    pub nodes: u32,
    /// Devices per node.
    pub devices_per_node: u32,
    /// Devices in the fleet.
    pub devices: u32,
    /// Accelerator models in the catalogue.
    pub models: usize,
    /// Tenants (group, institutions, departments).
    pub tenants: usize,
    /// Nodes dedicated to a tenant.
    pub dedicated_nodes: u32,
    /// Running workloads before the cycle.
    pub running_workloads: u32,
    /// Devices they hold.
    pub allocated_devices: u32,
    /// Of those, held beyond nominal quota.
    pub borrowed_devices: u32,
    /// Allocated share of the fleet before the cycle.
    pub utilisation: f64,
    /// Pods waiting before the cycle.
    pub pending_pods: u32,
    /// Workloads waiting before the cycle.
    pub pending_workloads: u32,
    /// Waiting workloads of more than one device.
    pub gangs: u32,
    /// Replicas the plan binds (`plan.binds.len()`).
    pub placements: usize,
    /// Devices the plan binds.
    pub placed_devices: u64,
    /// Binds that wait for preempted work to stop.
    pub placements_after_preemption: usize,
    /// Workloads the plan stops.
    pub preemptions: usize,
    /// Of those, lower-priority work of the same tenant.
    pub preempted_lower_priority: usize,
    /// Of those, borrowed devices reclaimed for a tenant within its nominal quota.
    pub preempted_borrowed: usize,
    /// Workloads the plan leaves waiting, with a reason (`plan.pending.len()`).
    pub pending_after: usize,
    /// Seconds to generate and check the snapshot (not timed into the cycle).
    pub build_seconds: f64,
    /// Seconds of the `schedule` call.
    pub seconds: f64,
    /// The same in milliseconds.
    pub cycle_ms: f64,
    /// `placements / seconds`.
    pub placements_per_sec: f64,
    /// Peak resident memory of the process in MiB (`VmHWM`), when the OS reports it.
    pub peak_rss_mb: Option<f64>,
}

/// Generates the snapshot, checks it, and times one cycle.
pub fn run(args: &EngineArgs) -> Result<EngineReport, BenchError> {
    let cfg = args.config();
    cfg.validate().map_err(BenchError::Args)?;
    let started = Instant::now();
    let generated = snapshot_gen::generate(&cfg);
    generated.snapshot.check()?;
    let build_seconds = started.elapsed().as_secs_f64();

    let policy = Policy::default();
    let started = Instant::now();
    let plan = schedule(&generated.snapshot, &policy, generated.now);
    let seconds = started.elapsed().as_secs_f64();

    let stats = generated.stats;
    let s = &generated.snapshot;
    let victims = |why: VictimReason| plan.preemptions.iter().filter(|p| p.why == why).count();
    Ok(EngineReport {
        seed: cfg.seed,
        nodes: cfg.nodes,
        devices_per_node: cfg.devices_per_node,
        devices: stats.devices,
        models: s.catalogue.models.len(),
        tenants: s.tenants.len(),
        dedicated_nodes: stats.dedicated_nodes,
        running_workloads: stats.running_workloads,
        allocated_devices: stats.allocated_devices,
        borrowed_devices: stats.borrowed_devices,
        utilisation: round(f64::from(stats.allocated_devices) / f64::from(stats.devices.max(1)), 4),
        pending_pods: stats.pending_pods,
        pending_workloads: stats.pending_workloads,
        gangs: stats.pending_gangs,
        placements: plan.binds.len(),
        placed_devices: plan.binds.iter().map(|b| b.devices.len() as u64).sum(),
        placements_after_preemption: plan.binds.iter().filter(|b| b.after_preemption).count(),
        preemptions: plan.preemptions.len(),
        preempted_lower_priority: victims(VictimReason::LowerPriority),
        preempted_borrowed: victims(VictimReason::BorrowedReclaim),
        pending_after: plan.pending.len(),
        build_seconds: round(build_seconds, 6),
        seconds: round(seconds, 6),
        cycle_ms: round(seconds * 1000.0, 3),
        placements_per_sec: round(plan.binds.len() as f64 / seconds.max(f64::MIN_POSITIVE), 1),
        peak_rss_mb: peak_rss_mib().map(|m| round(m, 1)),
    })
}

fn round(x: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
}

impl EngineReport {
    /// One JSON object on one line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report of numbers serialises")
    }

    /// A short table for people.
    pub fn to_table(&self) -> String {
        let rss = self.peak_rss_mb.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1} MiB"));
        let rows = [
            (
                "fleet",
                format!(
                    "{} nodes × {} = {} devices, {} models",
                    self.nodes, self.devices_per_node, self.devices, self.models
                ),
            ),
            ("tenants", format!("{} ({} dedicated nodes)", self.tenants, self.dedicated_nodes)),
            (
                "running",
                format!(
                    "{} workloads on {} devices ({:.1} %, {} borrowed)",
                    self.running_workloads,
                    self.allocated_devices,
                    self.utilisation * 100.0,
                    self.borrowed_devices
                ),
            ),
            (
                "pending",
                format!("{} pods in {} workloads ({} gangs)", self.pending_pods, self.pending_workloads, self.gangs),
            ),
            (
                "plan",
                format!(
                    "{} placements ({} devices, {} after preemption), {} preemptions ({} lower priority, {} borrowed), {} still pending",
                    self.placements,
                    self.placed_devices,
                    self.placements_after_preemption,
                    self.preemptions,
                    self.preempted_lower_priority,
                    self.preempted_borrowed,
                    self.pending_after
                ),
            ),
            ("build", format!("{:.3} s (not timed)", self.build_seconds)),
            ("cycle", format!("{:.1} ms", self.cycle_ms)),
            ("placements/s", format!("{:.0}", self.placements_per_sec)),
            ("peak RSS", rss),
            ("seed", self.seed.to_string()),
        ];
        rows.iter().map(|(k, v)| format!("{k:<14}{v}\n")).collect()
    }
}
