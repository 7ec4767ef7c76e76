//! The generator's embedded constants derived again from the public traces, the way the module
//! documentation of `tidepool_sim::generator` says: a change of trace or of derivation that moves
//! a figure fails here.
#![allow(clippy::unwrap_used)]

mod common;

use common::trace;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tidepool_sim::generator::calibration::{
    DEMAND_PROFILES, GANG_SIZES, GPU_TIME_MEAN_TRACE, GPU_TIME_QUANTILES, HELIOS_LARGE_MEAN_GPUS, HELIOS_MEAN_GPUS,
    HELIOS_SMALL_MEAN_GPUS, LARGE_JOB_RATIO, LARGE_JOB_SHARE, TRAINING_ARRIVAL_SHAPE,
};
use tidepool_sim::traces::servegen::{ServegenReader, demand_curves};

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got - want).abs() <= rel * want.abs().max(1e-12)
}

/// A CSV file (gzip when its name ends in `.gz`) with a header.
fn csv_reader(path: &Path) -> csv::Reader<Box<dyn std::io::Read>> {
    let file = std::fs::File::open(path).unwrap();
    let inner: Box<dyn std::io::Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(file)
    };
    csv::Reader::from_reader(inner)
}

fn column(headers: &csv::ByteRecord, name: &str) -> usize {
    headers.iter().position(|h| h == name.as_bytes()).unwrap_or_else(|| panic!("no column {name}"))
}

fn field<T: std::str::FromStr>(r: &csv::ByteRecord, i: usize) -> T {
    std::str::from_utf8(&r[i]).ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("bad field {i} in {r:?}"))
}

#[test]
fn gpu_time_quantiles_are_tiresias() {
    let text = std::fs::read_to_string(trace("tiresias_yarn_gputime/yarn-gput10000.csv")).unwrap();
    let mut v: Vec<f64> = text.lines().skip(1).map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(v.len(), 9_999);
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    assert!(close(mean, GPU_TIME_MEAN_TRACE, 1e-4), "mean {mean}");
    v.sort_by(f64::total_cmp);
    for (p, want) in GPU_TIME_QUANTILES {
        let x = p * (v.len() - 1) as f64;
        let i = x.floor() as usize;
        let got = if i + 1 >= v.len() { v[i] } else { v[i] + (v[i + 1] - v[i]) * (x - i as f64) };
        assert!(close(got, want, 1e-4), "p{p}: trace {got}, embedded {want}");
    }
}

/// Helios Earth, every minute of every VC: the bucket means of running jobs and the rises of the
/// GPU-job count by hour of day.
struct HeliosVcs {
    large_jobs: u64,
    large_gpus: u64,
    small_jobs: u64,
    small_gpus: u64,
    rises: [u64; 24],
}

fn helios_vcs() -> HeliosVcs {
    let dir = trace("helios_earth_vc_minutely/vcs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert_eq!(files.len(), 16, "16 VCs in {}", dir.display());
    let mut h = HeliosVcs { large_jobs: 0, large_gpus: 0, small_jobs: 0, small_gpus: 0, rises: [0; 24] };
    for path in files {
        let mut reader = csv_reader(&path);
        let headers = reader.byte_headers().unwrap().clone();
        let [time, total, lj, sj, lg, sg] = [
            "time",
            "total_gpujob_num",
            "running_job_num_noless_8",
            "running_job_num_less_8",
            "running_gpu_num_noless_8",
            "running_gpu_num_less_8",
        ]
        .map(|c| column(&headers, c));
        let mut record = csv::ByteRecord::new();
        let mut previous: Option<u64> = None;
        while reader.read_byte_record(&mut record).unwrap() {
            h.large_jobs += field::<u64>(&record, lj);
            h.small_jobs += field::<u64>(&record, sj);
            h.large_gpus += field::<u64>(&record, lg);
            h.small_gpus += field::<u64>(&record, sg);
            let jobs: u64 = field(&record, total);
            // `2020-05-01 00:00:00`: the hour is bytes 11..13.
            let hour: usize = std::str::from_utf8(&record[time][11..13]).unwrap().parse().unwrap();
            if let Some(p) = previous
                && jobs > p
            {
                h.rises[hour] += jobs - p;
            }
            previous = Some(jobs);
        }
    }
    h
}

/// `avg_gpu_num` of the `total` row of the Helios cluster summary.
fn helios_mean_gpus() -> f64 {
    let mut reader = csv_reader(&trace("helios_earth_vc_minutely/helios_cluster_summary.csv"));
    let headers = reader.byte_headers().unwrap().clone();
    let (id, avg, median) = (column(&headers, "id"), column(&headers, "avg_gpu_num"), column(&headers, "med_gpu_num"));
    let total = reader.byte_records().map(Result::unwrap).find(|r| &r[id] == b"total").unwrap();
    assert_eq!(field::<f64>(&total, median), 1.0, "median GPUs per job");
    field(&total, avg)
}

#[test]
fn gang_sizes_and_arrival_shape_are_helios() {
    let mean = helios_mean_gpus();
    assert!(close(mean, HELIOS_MEAN_GPUS, 1e-9), "mean GPUs {mean}");
    let h = helios_vcs();
    let large = h.large_gpus as f64 / h.large_jobs as f64;
    let small = h.small_gpus as f64 / h.small_jobs as f64;
    assert!(close(large, HELIOS_LARGE_MEAN_GPUS, 1e-4), "large {large}");
    assert!(close(small, HELIOS_SMALL_MEAN_GPUS, 1e-4), "small {small}");

    // The share of large jobs that gives the overall mean, and the geometric ratio among them.
    let share = (mean - small) / (large - small);
    assert!(close(share, LARGE_JOB_SHARE, 1e-3), "large share {share}");
    let large_mean = |r: f64| {
        let w: [f64; 4] = std::array::from_fn(|k| r.powi(k as i32));
        (0..4).map(|k| 8.0 * 2f64.powi(k as i32) * w[k]).sum::<f64>() / w.iter().sum::<f64>()
    };
    let (mut lo, mut hi) = (0.0, 1.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if large_mean(mid) < large { lo = mid } else { hi = mid }
    }
    let ratio = (lo + hi) / 2.0;
    assert!(close(ratio, LARGE_JOB_RATIO, 1e-3), "ratio {ratio}");

    // The size table: 1 / 2 / 4 with 2 and 4 equally likely and mean `small`; 8..64 geometric.
    let p24 = (small - 1.0) / 4.0;
    let small_pmf = [1.0 - 2.0 * p24, p24, p24];
    let norm: f64 = (0..4).map(|k| ratio.powi(k)).sum();
    let derived: Vec<f64> =
        small_pmf.iter().map(|p| (1.0 - share) * p).chain((0..4).map(|k| share * ratio.powi(k) / norm)).collect();
    for ((gpus, embedded), d) in GANG_SIZES.iter().zip(&derived) {
        assert!((embedded - d).abs() < 5e-4, "{gpus} GPUs: derived {d}, embedded {embedded}");
    }
    let table_mean: f64 = GANG_SIZES.iter().map(|(g, p)| f64::from(*g) * p).sum();
    assert!(close(table_mean, mean, 2e-3), "table mean {table_mean}");

    // Arrivals: rises of the GPU-job count by hour, as a shape of mean 1.
    let total: u64 = h.rises.iter().sum();
    assert_eq!(total, 38_151);
    for (hour, &r) in h.rises.iter().enumerate() {
        let shape = r as f64 * 24.0 / total as f64;
        assert!((shape - TRAINING_ARRIVAL_SHAPE[hour]).abs() < 5e-4, "hour {hour}: derived {shape}");
    }
}

#[test]
fn demand_profiles_are_servegen() {
    let curves = demand_curves(
        ServegenReader::open(trace("alibaba_servegen_rates/servegen_aggregate_rate_10min.csv.gz")).unwrap(),
    )
    .unwrap();
    let by_model: HashMap<&str, _> = curves.iter().map(|(m, c)| (m.as_str(), c)).collect();
    assert_eq!(by_model.len(), DEMAND_PROFILES.len());
    for p in DEMAND_PROFILES {
        let c = by_model[p.source_model];
        assert_eq!(c.windows, 144 * p.days as usize, "{}", p.source_model);
        assert!(close(c.peak_rps(), p.peak_rps, 1e-3), "{}: peak {}", p.source_model, c.peak_rps());
        assert!(close(c.trough_rps(), p.trough_rps, 1e-3), "{}: trough {}", p.source_model, c.trough_rps());
        for (hour, (derived, embedded)) in c.share_of_peak.iter().zip(p.hourly_share).enumerate() {
            assert!((derived - embedded).abs() < 5e-4, "{} hour {hour}: derived {derived}", p.source_model);
        }
    }
}
