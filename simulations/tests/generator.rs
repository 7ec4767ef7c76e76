//! The workload generator: deterministic per seed, arrivals in order, and over 100,000 jobs the
//! sizes, GPU-times, arrival hours and mix it was calibrated to.
#![allow(clippy::unwrap_used)]

mod common;

use common::trace;
use std::collections::BTreeSet;

use tidepool_engine::{WorkloadClass, WorkloadKind};
use tidepool_sim::generator::calibration::{GANG_SIZES, HELIOS_MEAN_GPUS, TRAINING_ARRIVAL_SHAPE};
use tidepool_sim::generator::{AcceptedChip, Chip, ConfigError, Generator, GeneratorConfig, Job};

fn jobs(config: GeneratorConfig, n: usize) -> Vec<Job> {
    Generator::new(config).unwrap().take(n).collect()
}

/// The `p` quantile of sorted values (position `p · (n − 1)`, interpolated).
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let x = p * (sorted.len() - 1) as f64;
    let i = x.floor() as usize;
    let f = x - i as f64;
    if i + 1 >= sorted.len() { sorted[i] } else { sorted[i] + (sorted[i + 1] - sorted[i]) * f }
}

#[test]
fn same_seed_same_stream_other_seed_other_stream() {
    let a = jobs(GeneratorConfig::default(), 10_000);
    let b = jobs(GeneratorConfig::default(), 10_000);
    assert_eq!(a, b);
    let c = jobs(GeneratorConfig { seed: 2, ..GeneratorConfig::default() }, 10_000);
    assert_ne!(a, c);
    // Arrivals have their own stream: another job mix keeps the same arrival times.
    let d = jobs(GeneratorConfig { inference_share: 0.5, ..GeneratorConfig::default() }, 10_000);
    assert!(a.iter().zip(&d).all(|(x, y)| x.arrival == y.arrival));
}

/// The statistics of 100,000 jobs, checked against the calibration.
#[test]
fn a_hundred_thousand_jobs_follow_the_calibration() {
    let config = GeneratorConfig { start: tidepool_engine::Seconds(1_000_000), ..GeneratorConfig::default() };
    let chips: BTreeSet<String> =
        config.chips.iter().flat_map(|c| [c.model.to_string(), c.family.to_string()]).collect();
    let n = 100_000;
    let mut last = config.start;
    let mut per_hour = [0usize; 24];
    let mut tenants = [0usize; 3];
    let mut classes: BTreeSet<String> = BTreeSet::new();
    let mut sizes: Vec<u32> = Vec::new();
    let mut gpu_seconds: Vec<f64> = Vec::new();
    let mut services = 0;
    for (i, job) in Generator::new(config.clone()).unwrap().take(n).enumerate() {
        assert_eq!(job.seq, i as u64);
        assert!(job.arrival >= last, "arrivals never go back");
        last = job.arrival;
        per_hour[(((job.arrival.0 - config.start.0) % 86_400) / 3600) as usize] += 1;
        tenants[job.tenant] += 1;
        classes.insert(format!("{:?}", job.class));
        assert!(!job.accepts.is_empty() && job.accepts.iter().all(|a| chips.contains(a.name())));
        assert!(job.replicas >= 1 && job.devices_per_replica >= 1);
        match job.kind {
            WorkloadKind::Training => {
                assert!(job.service.is_none());
                assert!(matches!(
                    job.class,
                    WorkloadClass::LlmTraining | WorkloadClass::CvTraining | WorkloadClass::RecsysTraining
                ));
                let work = job.expected_work.unwrap();
                sizes.push(job.devices());
                gpu_seconds.push(work * 3600.0);
                if let Some(c) = job.checkpoint {
                    assert!(work * 3600.0 / f64::from(job.devices()) >= 1800.0 && c.grace < c.interval);
                }
            }
            WorkloadKind::Inference => {
                services += 1;
                assert!(matches!(
                    job.class,
                    WorkloadClass::LlmInference | WorkloadClass::CvInference | WorkloadClass::RecsysInference
                ));
                let s = job.service.unwrap();
                assert!(job.expected_work.is_none() && job.checkpoint.is_none() && !job.preemptible);
                assert!((86_400..=30 * 86_400).contains(&s.lifetime_s));
                assert!(s.profile.hourly_share.iter().all(|x| (0.0..=1.0).contains(x)));
            }
        }
    }
    assert_eq!(classes.len(), 6, "all six workload classes: {classes:?}");

    // Mix: 3 % services, tenants 50 / 30 / 20 %.
    let share = |k: usize| k as f64 / n as f64;
    assert!((share(services) - 0.03).abs() < 0.003, "services {}", share(services));
    for (t, want) in tenants.iter().zip([0.5, 0.3, 0.2]) {
        assert!((share(*t) - want).abs() < 0.01, "tenant share {}", share(*t));
    }

    // Sizes: each size's share within 1 point of the table; mean 3.716 within 3 %; median 1.
    let total: f64 = GANG_SIZES.iter().map(|s| s.1).sum();
    for (gpus, p) in GANG_SIZES {
        let got = sizes.iter().filter(|&&s| s == gpus).count() as f64 / sizes.len() as f64;
        assert!((got - p / total).abs() < 0.01, "{gpus} GPUs: {got} vs {p}");
    }
    let mean = sizes.iter().map(|&s| f64::from(s)).sum::<f64>() / sizes.len() as f64;
    assert!((mean - HELIOS_MEAN_GPUS).abs() < 0.03 * HELIOS_MEAN_GPUS, "mean GPUs {mean}");
    let mut sorted = sizes.clone();
    sorted.sort_unstable();
    assert_eq!(sorted[sorted.len() / 2], 1);

    // GPU-time: quantiles within 8 % of the Tiresias trace's own.
    let text = std::fs::read_to_string(trace("tiresias_yarn_gputime/yarn-gput10000.csv")).unwrap();
    let mut tiresias: Vec<f64> = text.lines().skip(1).map(|l| l.trim().parse().unwrap()).collect();
    tiresias.sort_by(f64::total_cmp);
    gpu_seconds.sort_by(f64::total_cmp);
    for p in [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] {
        let (got, want) = (quantile(&gpu_seconds, p), quantile(&tiresias, p));
        assert!((got / want - 1.0).abs() < 0.08, "GPU-time p{p}: {got} vs trace {want}");
    }

    // Arrivals by hour of day: within 0.06 of the Helios shape (mean 1).
    for (h, &count) in per_hour.iter().enumerate() {
        let got = count as f64 * 24.0 / n as f64;
        assert!((got - TRAINING_ARRIVAL_SHAPE[h]).abs() < 0.06, "hour {h}: {got} vs {}", TRAINING_ARRIVAL_SHAPE[h]);
    }
    // 100,000 jobs at a million a year take about 36.5 days.
    let days = (last.0 - config.start.0) as f64 / 86_400.0;
    assert!((days - 36.5).abs() < 1.0, "{days} days");
}

#[test]
fn accepted_chips_come_from_the_config() {
    let config = GeneratorConfig { chips: vec![Chip::new("ascend-910b", "ascend", 1)], ..GeneratorConfig::default() };
    for job in jobs(config, 2_000) {
        assert_eq!(job.accepts.len(), 1);
        assert!(
            matches!(&job.accepts[0], AcceptedChip::Model(m) if &**m == "ascend-910b")
                || matches!(&job.accepts[0], AcceptedChip::Family(f) if &**f == "ascend")
        );
    }
}

#[test]
fn bad_configs_are_refused() {
    let d = GeneratorConfig::default;
    let cases = [
        (GeneratorConfig { jobs_per_day: 0.0, ..d() }, ConfigError::JobsPerDay(0.0)),
        (GeneratorConfig { tenant_shares: [0.0; 3], ..d() }, ConfigError::TenantShares([0.0; 3])),
        (GeneratorConfig { tenant_shares: [1.0, -1.0, 1.0], ..d() }, ConfigError::TenantShares([1.0, -1.0, 1.0])),
        (GeneratorConfig { inference_share: 1.5, ..d() }, ConfigError::InferenceShare(1.5)),
        (GeneratorConfig { chips: vec![], ..d() }, ConfigError::NoChips),
        (GeneratorConfig { chips: vec![Chip::new("a", "b", 0)], ..d() }, ConfigError::NoChips),
        (
            GeneratorConfig { chips: vec![Chip::new("a", "b", u32::MAX), Chip::new("c", "d", 1)], ..d() },
            ConfigError::ChipWeights(u64::from(u32::MAX) + 1),
        ),
    ];
    for (config, want) in cases {
        assert_eq!(Generator::new(config).err(), Some(want));
    }
    assert!(matches!(
        Generator::new(GeneratorConfig { jobs_per_day: f64::NAN, ..d() }),
        Err(ConfigError::JobsPerDay(_))
    ));
}
