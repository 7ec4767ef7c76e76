//! A deterministic, seeded workload generator calibrated on public traces: an endless stream of
//! training jobs and inference services in submission order, for the simulator to run a year of
//! a group cloud without a customer trace.
//!
//! [`Generator`] is an [`Iterator`] of [`Job`]s: it keeps only its random streams and the clock,
//! so a year of a million jobs never sits in memory — take what you need
//! (`.take(n)`, `.take_while(|j| j.arrival < end)`). The same [`GeneratorConfig`] (seed included)
//! always gives the same stream. Arrival times come from their own random stream, so changing
//! the mix of jobs leaves the arrival times as they were.
//!
//! It does not turn jobs into engine `Workload`s (that needs a scenario's tenant and catalogue
//! ids), read any trace at run time, or model failures, cancellations, elastic resizing or
//! deadlines.
//!
//! # Calibration
//!
//! The constants are in [`calibration`]; `tests/generator_calibration.rs` derives each again from
//! the files below (in `shared/traces/`) and fails when they drift apart.
//!
//! | parameter | value | source |
//! |---|---|---|
//! | GPU-time of a training job, GPU-seconds | p1 138, p10 357, p25 860.5, p50 2,227, p75 8,218.5, p90 76,139, p95 326,716, p99 2.27 M, max 53.3 M; mean 116,540 | `tiresias_yarn_gputime/yarn-gput10000.csv` (9,999 production YARN jobs) |
//! | mean / median GPUs per GPU job | 3.716 / 1 | `helios_earth_vc_minutely/helios_cluster_summary.csv`, row `total` (4 clusters, 1.58 M GPU jobs) |
//! | mean GPUs of jobs of ≥ 8 / < 8 GPUs | 13.78 / 1.64 | `helios_earth_vc_minutely/vcs/*.csv.gz`, `running_*_noless_8` / `_less_8`, all minutes of May 2020 |
//! | share of jobs with ≥ 8 GPUs | 17.1 % = (3.716 − 1.64) / (13.78 − 1.64) | the two rows above |
//! | GPUs per training job | 1: 56.37 %, 2: 13.27 %, 4: 13.27 %, 8: 11.01 %, 16: 4.05 %, 32: 1.49 %, 64: 0.55 % | the rows above; 2 and 4 equally common as in `tiresias_yarn_gputime/60_job.csv`; ≥ 8 geometric in powers of two, ratio 0.368 |
//! | training submissions by hour of day (mean 1) | trough 0.49 at 07:00, 0.56–0.65 at 05–06, ≈ 1.1 through the working day, peak 1.38 at 21:00 | `helios_earth_vc_minutely/vcs/*.csv.gz`: rises of `total_gpujob_num` per VC and minute, by hour |
//! | inference demand by hour of day (share of peak) | `m-small` 775 rps at 05:00 .. 1,709 at 20:00 (2.21×); `m-large` 154 at 08:00 .. 224 at 19:00 (1.45×); `m-mid` 1,505 at 16:00 .. 2,094 at 03:00 (1.39×); `mm-image` 2.28×; `deepseek-r1` 4.91× | `alibaba_servegen_rates/servegen_aggregate_rate_10min.csv.gz`, via [`crate::traces::servegen`] |
//!
//! How the figures become draws:
//! - **Work.** A training job's GPU-time is drawn from the Tiresias quantile function (18 knots,
//!   log-linear between them; its mean is 124,899 GPU-s, 7 % above the sample's, from the top
//!   0.1 %). The trace does not say which GPUs it ran on; its GPU-hours are taken as
//!   reference-device-hours (`expected_work`).
//! - **Size.** The GPU count is drawn from the table above. The Tiresias file holds GPU-time only
//!   and Helios only aggregates, so no public file here pairs a job's size with its work: half
//!   the time ([`assumptions::SIZE_WORK_COUPLING`]) the size takes the same quantile as the work
//!   (big gangs do more work), otherwise an independent one — both distributions stay exact.
//!   Up to 8 GPUs a job is one replica; beyond, replicas of 8 devices (16 = 2 × 8).
//! - **Arrivals.** A Poisson process of `jobs_per_day` a day whose rate follows the Helios hourly
//!   shape (t = 0 is local midnight; Helios and ServeGen are both Chinese local time). A rise of
//!   the job count in a minute counts arrivals net of departures in that minute, so it is a lower
//!   bound (38,151 in the month) used for its shape only. Services are submitted by the same
//!   process. Philly (`philly_nodes_minutely`) was not used: its active-node share is flat
//!   (0.73–0.75 in every hour).
//! - **Demand.** Each service carries one of the five ServeGen profiles: LLM services `m-large`,
//!   `m-mid`, `m-small` (30 % each) or `deepseek-r1` (10 %), computer vision `mm-image`,
//!   recommendation `m-small`. `mm-image` and `deepseek-r1` come from one day of trace only.
//!
//! # Assumptions (no trace here records them)
//!
//! In [`assumptions`], each a constant: services are 3 % of submissions
//! ([`GeneratorConfig::inference_share`]); tenants bank / insurer / securities 50 / 30 / 20 %;
//! training classes llm / cv / recsys 70 / 18 / 12 % for jobs of ≥ 8 GPUs and 40 / 35 / 25 %
//! below, services 50 / 25 / 25 %; training priority 0 / 100 / 500 at 60 / 30 / 10 %, services
//! 100 / 500 at 50 / 50 %; 60 % of training preemptible, no service; training that runs at least
//! 30 minutes on reference chips checkpoints every 1,800–7,200 s with 60–300 s grace; services
//! have 1 / 2 / 4 / 8 replicas at peak (30 / 30 / 25 / 15 %), LLM services 1 / 2 / 4 / 8 devices
//! per replica (40 / 20 / 25 / 15 %), others 1, and live 1 to 30 days (log-uniform); each job is
//! built for one chip drawn by [`Chip::weight`] and accepts 0 / 1 / 2 others (40 / 40 / 20 %),
//! each named by family 30 % of the time.

pub mod assumptions;
pub mod calibration;
pub mod chips;
pub mod draw;
pub mod job;

mod arrivals;
mod service;
mod training;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use thiserror::Error;
use tidepool_engine::Seconds;

pub use chips::{Chip, default_chips};
pub use job::{AcceptedChip, Job, Service};

use self::arrivals::Arrivals;
use self::calibration::TRAINING_ARRIVAL_SHAPE;
use self::draw::weighted_index;

/// The institutions of the default group, in `tenant` index order.
pub const INSTITUTIONS: [&str; 3] = ["bank", "insurer", "securities"];

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct GeneratorConfig {
    /// Seed of every random draw.
    pub seed: u64,
    /// The run's day 0, local midnight; arrivals are this plus the generated offset.
    pub start: Seconds,
    /// Mean submissions a day (training and services together).
    pub jobs_per_day: f64,
    /// Each institution's share of submissions (any scale; normalised).
    pub tenant_shares: [f64; 3],
    /// Share of submissions that are inference services, 0 to 1.
    pub inference_share: f64,
    /// The chips jobs may be built for.
    pub chips: Vec<Chip>,
}

impl Default for GeneratorConfig {
    /// Seed 1, a million submissions a year, tenants 50 / 30 / 20 %, 3 % services, the engine
    /// benchmark's five chips.
    fn default() -> Self {
        GeneratorConfig {
            seed: 1,
            start: Seconds(0),
            jobs_per_day: 1_000_000.0 / 365.0,
            tenant_shares: [0.5, 0.3, 0.2],
            inference_share: 0.03,
            chips: default_chips(),
        }
    }
}

/// Why a configuration cannot generate.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ConfigError {
    /// `jobs_per_day` is not a positive finite number.
    #[error("jobs_per_day must be a positive finite number, not {0}")]
    JobsPerDay(f64),
    /// A tenant share is negative or not finite, or all are zero.
    #[error("tenant_shares must be finite, not negative and not all zero, not {0:?}")]
    TenantShares([f64; 3]),
    /// `inference_share` is outside 0 to 1.
    #[error("inference_share must be between 0 and 1, not {0}")]
    InferenceShare(f64),
    /// No chip, or every chip has weight 0.
    #[error("give at least one chip with a weight above 0")]
    NoChips,
    /// The chip weights add up to more than `u32::MAX`.
    #[error("chip weights add up to {0}, more than {max}", max = u32::MAX)]
    ChipWeights(u64),
}

impl GeneratorConfig {
    /// Checks the figures are ones the generator can use.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.jobs_per_day.is_finite() && self.jobs_per_day > 0.0) {
            return Err(ConfigError::JobsPerDay(self.jobs_per_day));
        }
        let shares = self.tenant_shares;
        if shares.iter().any(|s| !s.is_finite() || *s < 0.0) || shares.iter().sum::<f64>() <= 0.0 {
            return Err(ConfigError::TenantShares(shares));
        }
        if !(0.0..=1.0).contains(&self.inference_share) {
            return Err(ConfigError::InferenceShare(self.inference_share));
        }
        if self.chips.iter().all(|c| c.weight == 0) {
            return Err(ConfigError::NoChips);
        }
        let total: u64 = self.chips.iter().map(|c| u64::from(c.weight)).sum();
        if total > u64::from(u32::MAX) {
            return Err(ConfigError::ChipWeights(total));
        }
        Ok(())
    }
}

/// What the caller of a job's draw has decided: position, time, tenant, chips.
struct Head {
    seq: u64,
    arrival: Seconds,
    tenant: usize,
    accepts: Vec<AcceptedChip>,
}

/// The stream of jobs; endless, in non-decreasing arrival order.
#[derive(Clone, Debug)]
pub struct Generator {
    config: GeneratorConfig,
    chip_weights: Vec<(usize, u32)>,
    arrivals: Arrivals,
    arrival_rng: Xoshiro256PlusPlus,
    job_rng: Xoshiro256PlusPlus,
    seq: u64,
}

/// An independent random stream per part, as in the engine benchmark's generator.
fn stream(seed: u64, part: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed ^ part.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

impl Generator {
    /// A generator for a valid configuration.
    pub fn new(config: GeneratorConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Generator {
            chip_weights: chips::weights(&config.chips),
            arrivals: Arrivals::new(config.jobs_per_day, &TRAINING_ARRIVAL_SHAPE),
            arrival_rng: stream(config.seed, 1),
            job_rng: stream(config.seed, 2),
            seq: 0,
            config,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &GeneratorConfig {
        &self.config
    }
}

impl Iterator for Generator {
    type Item = Job;

    fn next(&mut self) -> Option<Job> {
        let offset = self.arrivals.next(&mut self.arrival_rng);
        let rng = &mut self.job_rng;
        let head = Head {
            seq: self.seq,
            arrival: Seconds(self.config.start.0.saturating_add(offset.floor() as i64)),
            tenant: weighted_index(rng, &self.config.tenant_shares),
            accepts: chips::accepted(rng, &self.config.chips, &self.chip_weights),
        };
        self.seq += 1;
        let serving = rng.random_bool(self.config.inference_share);
        Some(if serving { service::job(rng, head) } else { training::job(rng, head) })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl std::iter::FusedIterator for Generator {}
