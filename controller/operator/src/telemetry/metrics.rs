//! The operator's metrics, in one struct so that another export (OpenTelemetry) can later be
//! added in one place: scheduling cycle duration, pending workloads by reason, placements by
//! model, preemptions, connected agents and stale nodes.
//!
//! Recording is cheap (one short lock); [`Metrics::render`] writes the Prometheus text format.
//! This module does not serve HTTP ([`super::http`] does) nor decide what to record.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use super::exposition::{Kind, header, sample};

/// Upper bounds of the cycle-duration buckets, in seconds.
pub const CYCLE_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// Metric family names.
pub mod names {
    /// Histogram of scheduling cycle durations.
    pub const CYCLE_DURATION: &str = "tidepool_scheduling_cycle_duration_seconds";
    /// Gauge of pending workloads, by reason.
    pub const PENDING: &str = "tidepool_pending_workloads";
    /// Counter of placements, by accelerator model.
    pub const PLACEMENTS: &str = "tidepool_placements_total";
    /// Counter of preemptions.
    pub const PREEMPTIONS: &str = "tidepool_preemptions_total";
    /// Gauge of agents with an open stream.
    pub const CONNECTED_AGENTS: &str = "tidepool_connected_agents";
    /// Gauge of nodes whose agent is silent past the timeout.
    pub const STALE_NODES: &str = "tidepool_stale_nodes";
}

#[derive(Default)]
struct Histogram {
    /// Observations at or below each bound of [`CYCLE_BUCKETS`] (not cumulative).
    buckets: [u64; CYCLE_BUCKETS.len()],
    count: u64,
    sum: f64,
}

#[derive(Default)]
struct State {
    cycle: Histogram,
    pending: BTreeMap<String, u64>,
    placements: BTreeMap<String, u64>,
    preemptions: u64,
    connected_agents: u64,
    stale_nodes: u64,
}

/// Every metric the operator exports.
#[derive(Default)]
pub struct Metrics {
    state: Mutex<State>,
}

impl Metrics {
    /// Metrics with nothing recorded.
    pub fn new() -> Self {
        Metrics::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Each update is a few plain writes; a poisoned lock still holds usable numbers.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records one scheduling cycle's duration.
    pub fn observe_cycle(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let mut state = self.lock();
        if let Some(bucket) = CYCLE_BUCKETS.iter().position(|&bound| seconds <= bound) {
            state.cycle.buckets[bucket] += 1;
        }
        state.cycle.count += 1;
        state.cycle.sum += seconds;
    }

    /// Sets the pending workloads by reason; reasons not given are dropped from the export.
    pub fn set_pending<R: Into<String>>(&self, by_reason: impl IntoIterator<Item = (R, u64)>) {
        let pending = by_reason.into_iter().map(|(reason, count)| (reason.into(), count)).collect();
        self.lock().pending = pending;
    }

    /// Counts `count` placements onto devices of `model`.
    pub fn add_placements(&self, model: &str, count: u64) {
        let mut state = self.lock();
        match state.placements.get_mut(model) {
            Some(total) => *total += count,
            None => {
                state.placements.insert(model.to_owned(), count);
            }
        }
    }

    /// Counts `count` preemptions.
    pub fn add_preemptions(&self, count: u64) {
        self.lock().preemptions += count;
    }

    /// Sets the number of connected agents and of stale nodes.
    pub fn set_agents(&self, connected: u64, stale: u64) {
        let mut state = self.lock();
        state.connected_agents = connected;
        state.stale_nodes = stale;
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let state = self.lock();
        let mut out = String::with_capacity(2048);
        header(&mut out, names::CYCLE_DURATION, Kind::Histogram, "Duration of one scheduling cycle.");
        let bucket_name = format!("{}_bucket", names::CYCLE_DURATION);
        let mut cumulative = 0;
        for (bound, count) in CYCLE_BUCKETS.iter().zip(state.cycle.buckets) {
            cumulative += count;
            sample(&mut out, &bucket_name, &[("le", &bound.to_string())], cumulative as f64);
        }
        sample(&mut out, &bucket_name, &[("le", "+Inf")], state.cycle.count as f64);
        sample(&mut out, &format!("{}_sum", names::CYCLE_DURATION), &[], state.cycle.sum);
        sample(&mut out, &format!("{}_count", names::CYCLE_DURATION), &[], state.cycle.count as f64);

        header(&mut out, names::PENDING, Kind::Gauge, "Workloads waiting for placement, by reason.");
        for (reason, count) in &state.pending {
            sample(&mut out, names::PENDING, &[("reason", reason)], *count as f64);
        }
        header(&mut out, names::PLACEMENTS, Kind::Counter, "Workload placements, by accelerator model.");
        for (model, count) in &state.placements {
            sample(&mut out, names::PLACEMENTS, &[("model", model)], *count as f64);
        }
        header(&mut out, names::PREEMPTIONS, Kind::Counter, "Workloads preempted.");
        sample(&mut out, names::PREEMPTIONS, &[], state.preemptions as f64);
        header(&mut out, names::CONNECTED_AGENTS, Kind::Gauge, "Node agents with an open stream.");
        sample(&mut out, names::CONNECTED_AGENTS, &[], state.connected_agents as f64);
        header(&mut out, names::STALE_NODES, Kind::Gauge, "Nodes whose agent is silent past the timeout.");
        sample(&mut out, names::STALE_NODES, &[], state.stale_nodes as f64);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines().find(|line| line.starts_with(prefix)).unwrap_or_else(|| panic!("no line {prefix}"))
    }

    #[test]
    fn cycle_durations_fill_cumulative_buckets() {
        let metrics = Metrics::new();
        for millis in [2, 2, 40, 60_000] {
            metrics.observe_cycle(Duration::from_millis(millis));
        }
        let text = metrics.render();
        let bucket = |le: &str| line(&text, &format!("{}_bucket{{le=\"{le}\"}} ", names::CYCLE_DURATION)).to_owned();
        assert!(bucket("0.001").ends_with(" 0"));
        assert!(bucket("0.0025").ends_with(" 2"));
        assert!(bucket("0.05").ends_with(" 3"));
        assert!(bucket("30").ends_with(" 3"));
        assert!(bucket("+Inf").ends_with(" 4"));
        assert_eq!(
            line(&text, "tidepool_scheduling_cycle_duration_seconds_count"),
            format!("{}_count 4", names::CYCLE_DURATION)
        );
        assert_eq!(
            line(&text, "tidepool_scheduling_cycle_duration_seconds_sum"),
            format!("{}_sum 60.044", names::CYCLE_DURATION)
        );
    }

    #[test]
    fn labelled_families_and_plain_ones() {
        let metrics = Metrics::new();
        metrics.set_pending([("quota", 3), ("no-capacity", 1)]);
        metrics.set_pending([("quota", 2)]);
        metrics.add_placements("nvidia-h100-80g", 2);
        metrics.add_placements("nvidia-h100-80g", 3);
        metrics.add_placements("ascend-910b", 1);
        metrics.add_preemptions(4);
        metrics.set_agents(7, 2);
        let text = metrics.render();
        assert_eq!(line(&text, "tidepool_pending_workloads{"), "tidepool_pending_workloads{reason=\"quota\"} 2");
        assert!(!text.contains("no-capacity"));
        assert_eq!(
            line(&text, "tidepool_placements_total{model=\"nvidia"),
            "tidepool_placements_total{model=\"nvidia-h100-80g\"} 5"
        );
        assert_eq!(
            line(&text, "tidepool_placements_total{model=\"ascend"),
            "tidepool_placements_total{model=\"ascend-910b\"} 1"
        );
        assert_eq!(line(&text, "tidepool_preemptions_total "), "tidepool_preemptions_total 4");
        assert_eq!(line(&text, "tidepool_connected_agents "), "tidepool_connected_agents 7");
        assert_eq!(line(&text, "tidepool_stale_nodes "), "tidepool_stale_nodes 2");
        for family in
            ["tidepool_pending_workloads gauge", "tidepool_placements_total counter", "tidepool_stale_nodes gauge"]
        {
            assert!(text.contains(&format!("# TYPE {family}\n")), "{family}");
        }
    }
}
