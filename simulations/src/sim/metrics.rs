//! What a run measured, per policy: cost, work, cost per unit of work, utilisation per model,
//! queueing delay and job completion time per tenant, preemptions and lost work, and what became
//! of every job.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;

/// Running totals during a run.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    /// Device-seconds allocated per model: what cost and utilisation are counted from, exactly.
    pub device_seconds: Vec<i64>,
    pub work: f64,
    pub lost_work: f64,
    pub preemptions: u64,
    pub delays: BTreeMap<usize, Vec<f64>>,
    pub jcts: BTreeMap<usize, Vec<f64>>,
    /// Allocated devices per model, sampled every hour.
    pub hourly: Vec<Vec<u32>>,
}

/// Median and 95th percentile, in hours.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Number of samples.
    pub count: usize,
    /// Median, hours.
    pub p50_hours: f64,
    /// 95th percentile, hours.
    pub p95_hours: f64,
}

impl Percentiles {
    pub(crate) fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Percentiles::default();
        }
        let mut v = values.to_vec();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let pos = q * (v.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            (v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)) / 3600.0
        };
        Percentiles { count: v.len(), p50_hours: round3(at(0.5)), p95_hours: round3(at(0.95)) }
    }
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// What became of the jobs (every job is in exactly one of these).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Outcomes {
    /// Jobs that arrived.
    pub arrived: u64,
    /// Training jobs finished, services that served until deleted.
    pub completed: u64,
    /// Running when the run ended.
    pub running_at_end: u64,
    /// Waiting when the run ended.
    pub queued_at_end: u64,
    /// Never runnable, with the reason counted in `failed_reasons`.
    pub failed: u64,
    /// Services deleted before they ever started.
    pub expired_unserved: u64,
    /// Failure reasons and their counts.
    pub failed_reasons: BTreeMap<String, u64>,
}

/// The report of one policy.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyReport {
    /// Policy name.
    pub policy: String,
    /// Price × allocated device-hours, in the scenario's currency (two decimals).
    pub cost: Decimal,
    /// Work done and kept, in reference-device-hours.
    pub work: f64,
    /// `cost / work`: price of one reference-device-hour of work.
    pub cost_per_work: f64,
    /// Allocated device-hours ÷ available device-hours, per model.
    pub utilisation: BTreeMap<String, f64>,
    /// Allocated device-hours ÷ available, over the fleet.
    pub utilisation_total: f64,
    /// Queueing delay (arrival to first start) per tenant; jobs still waiting at the end count
    /// with their delay so far.
    pub queueing_delay: BTreeMap<String, Percentiles>,
    /// Job completion time (arrival to finish, training) per tenant.
    pub jct: BTreeMap<String, Percentiles>,
    /// Preemptions.
    pub preemptions: u64,
    /// Work lost to preemption (since the last checkpoint), reference-device-hours.
    pub lost_work: f64,
    /// What became of the jobs.
    pub jobs: Outcomes,
    /// Hours simulated.
    pub hours: f64,
    /// Allocated devices per model, hourly (for plots).
    #[serde(skip)]
    pub hourly: Vec<Vec<u32>>,
    /// Model names, in the order of `hourly`'s inner vectors.
    #[serde(skip)]
    pub models: Vec<String>,
}
