//! A year of a million jobs streams through the generator in bounded memory. The only test in
//! its file, so that this process's peak memory is its own.
#![allow(clippy::unwrap_used)]

use tidepool_engine::Seconds;
use tidepool_sim::generator::{Generator, GeneratorConfig};

/// Peak resident memory of this process in MiB (`VmHWM`), where `/proc` says.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kib / 1024.0)
}

#[test]
fn a_year_of_a_million_jobs_streams_in_bounded_memory() {
    let before = peak_rss_mib();
    let year = Seconds(365 * 86_400);
    let mut count = 0u64;
    let mut devices = 0u64;
    for job in Generator::new(GeneratorConfig::default()).unwrap().take_while(|j| j.arrival < year) {
        count += 1;
        devices += u64::from(job.devices());
    }
    // A Poisson count of mean 1,000,000 (standard deviation 1,000).
    assert!((995_000..=1_005_000).contains(&count), "{count} jobs in a year");
    assert!(devices > count);
    if let (Some(before), Some(after)) = (before, peak_rss_mib()) {
        // Holding the jobs would take hundreds of MiB; the stream needs next to nothing.
        assert!(after - before < 16.0, "peak memory grew from {before:.1} to {after:.1} MiB");
    }
}
