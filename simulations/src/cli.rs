//! The `run` command: load a scenario, replay its workload under each policy, print the
//! comparison and write the requested files.

use std::path::PathBuf;

use clap::Args;

use crate::compare::compare;
use crate::progress::Progress;
use crate::scenario::Scenario;
use crate::sim::fleet::Fleet;
use crate::sim::policies::PolicyKind;
use crate::sources;

/// Arguments of `tidepool-sim run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// `builtin:group-cloud` or a scenario file.
    #[arg(long, default_value = "builtin:group-cloud", conflicts_with = "trace")]
    pub scenario: String,
    /// Replay a real trace instead: `alibaba-openb:DIR` (the folder of the openb CSV files).
    #[arg(long)]
    pub trace: Option<String>,
    /// Write the comparison as JSON (one entry per policy).
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Write one CSV row per policy.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// Write SVG plots (utilisation over time, cost per policy) into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Also find, for each policy, the smallest scale of the fleet at which every tenant's p95
    /// queueing delay is at most this many hours (generator scenarios only).
    #[arg(long, value_name = "P95_HOURS")]
    pub size_fleet: Option<f64>,
    /// Replay only the first this many days of the scenario's generated workload (generator
    /// scenarios only; the same jobs as the full run up to then).
    #[arg(long, conflicts_with = "trace")]
    pub days: Option<u32>,
}

/// Runs the command.
pub fn run(args: &RunArgs) -> Result<(), String> {
    if let Some(trace) = &args.trace {
        let dir = trace
            .strip_prefix("alibaba-openb:")
            .ok_or_else(|| format!("--trace {trace}: expected alibaba-openb:DIR"))?;
        let (scenario, fleet, jobs, tally) = crate::openb_source::load(std::path::Path::new(dir))?;
        eprintln!(
            "{dir}: {} pods replayed ({} CPU-only and {} never-scheduled skipped)",
            jobs.len(),
            tally.cpu_only,
            tally.never_scheduled
        );
        let horizon = jobs.iter().map(|j| j.arrival).max().unwrap_or(0);
        let progress = Progress::new("openb", horizon, true);
        let comparison = compare(&scenario, &fleet, &PolicyKind::ALL, None, Some(&progress), || jobs.clone());
        progress.finish();
        return write(&comparison, &fleet, args);
    }
    let scenario = Scenario::load(&args.scenario).map_err(|e| e.to_string())?;
    let fleet = Fleet::build(&scenario).map_err(|e| format!("{}: {e}", args.scenario))?;
    let Some(mut generator) = scenario.workload.generator.clone() else {
        return Err(format!("{}: workload: name a source (generator)", args.scenario));
    };
    if let Some(days) = args.days {
        generator.days = days;
    }
    let generator = &generator;
    // Checked once here, so the per-policy streams below cannot fail.
    drop(sources::generated(generator, &fleet)?);
    let end = i64::from(generator.days) * 86_400;
    let horizon = Some(end);
    let progress = Progress::new(&scenario.name, end, true);
    let comparison = compare(&scenario, &fleet, &PolicyKind::ALL, horizon, Some(&progress), || {
        sources::generated(generator, &fleet).into_iter().flatten()
    });
    progress.finish();
    write(&comparison, &fleet, args)?;
    if let Some(target) = args.size_fleet {
        let sizings = crate::sizing::size_fleet(&scenario, target, horizon, |fleet| {
            sources::generated(generator, fleet).into_iter().flatten()
        })?;
        print!("{}", crate::sizing::table(&sizings, target));
    }
    Ok(())
}

fn write(comparison: &crate::compare::Comparison, fleet: &Fleet, args: &RunArgs) -> Result<(), String> {
    print!("{}", comparison.table());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(comparison).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(dir) = &args.plots {
        let files =
            crate::plots::write_plots(comparison, &fleet.devices_per_model(), dir).map_err(|e| e.to_string())?;
        for f in files {
            eprintln!("wrote {}", f.display());
        }
    }
    if let Some(path) = &args.csv {
        std::fs::write(path, comparison.csv()).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}
