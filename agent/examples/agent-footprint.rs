//! The agent's footprint: runs `tidepool-agent run` with the `fake` backend against a fake kubelet
//! (which watches every plugin's `ListAndWatch`) and a plaintext test controller on loopback, flips
//! a device's health every ten seconds, and measures the agent process from `/proc`: resident
//! memory (peak and end) and CPU time as a percentage of one core.
//!
//! ```sh
//! cargo run --release -p tidepool-agent --example agent-footprint -- --seconds 60 --json
//! ```
//!
//! By default the agent is this executable run again in agent mode, which calls the same
//! `Cli::run` as `tidepool-agent`'s `main`; `--agent-binary target/release/tidepool-agent` measures
//! the real binary instead. Targets: RSS under 30 MB, CPU under 1% of a core.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;
use support::controller::{Event, TestController};
use support::inventory;
use support::kubelet::FakeKubelet;
use support::process::wait_for_exit;
use tidepool_proto::deviceplugin::Empty;

/// The first argument that makes this executable the agent itself.
const AGENT_MODE: &str = "__agent";
/// The RSS target, in bytes (30 MB).
const RSS_TARGET_BYTES: u64 = 30_000_000;
/// The CPU target, in percent of one core.
const CPU_TARGET_PERCENT: f64 = 1.0;

/// Measure the agent's memory and CPU.
#[derive(Debug, Parser)]
struct Args {
    /// How long to measure, in seconds (after the agent has registered and connected).
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// How many fake devices (NVIDIA, NVLink islands of eight).
    #[arg(long, default_value_t = 16)]
    devices: u32,
    /// The agent's sampling interval, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    sampling_interval_ms: u64,
    /// Measure this `tidepool-agent` binary instead of this executable in agent mode.
    #[arg(long, value_name = "PATH")]
    agent_binary: Option<PathBuf>,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut argv = std::env::args();
    if argv.nth(1).as_deref() == Some(AGENT_MODE) {
        // Agent mode: exactly what `tidepool-agent`'s main does.
        let cli = tidepool_agent::cli::Cli::parse_from(std::iter::once("tidepool-agent".to_owned()).chain(argv));
        return cli.run();
    }
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let report = runtime.block_on(measure(&args))?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for (key, value) in report.as_object().into_iter().flatten() {
            println!("{key:<28} {value}");
        }
    }
    Ok(())
}

async fn measure(args: &Args) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let inventory_file = dir.path().join("inventory.json");
    let mut devices = inventory::nvidia(args.devices, 8);
    inventory::write(&inventory_file, &devices);
    let mut kubelet = FakeKubelet::start(dir.path());
    let mut controller = TestController::start(None);
    let log = std::fs::File::create(dir.path().join("agent.log"))?;

    let mut command = match &args.agent_binary {
        Some(binary) => Command::new(binary),
        None => {
            let mut command = Command::new(std::env::current_exe()?);
            command.arg(AGENT_MODE);
            command
        }
    };
    let mut child = command
        .args(["run", "--backend", "fake", "--insecure-plaintext", "--node-name", "footprint"])
        .arg("--inventory-file")
        .arg(&inventory_file)
        .arg("--socket-dir")
        .arg(dir.path())
        .arg("--controller")
        .arg(format!("http://{}", controller.addr()))
        .arg("--sampling-interval")
        .arg(format!("{}ms", args.sampling_interval_ms))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()?;
    let pid = child.id();

    // Kubelet's side: wait for the registration, then watch the plugin's device list.
    let registration =
        kubelet.next_registration(Duration::from_secs(20)).await.ok_or("the agent did not register with kubelet")?;
    let mut plugin = kubelet.dial(&registration.endpoint).await;
    let mut watch = plugin.list_and_watch(Empty {}).await?.into_inner();
    let watcher = tokio::spawn(async move {
        let mut updates = 0u64;
        while let Ok(Some(_)) = watch.message().await {
            updates += 1;
        }
        updates
    });
    controller.next_message(Duration::from_secs(20)).await.ok_or("the agent did not connect to the controller")?;

    let ticks_per_second = clock_ticks_per_second();
    let cpu_start = cpu_ticks(pid)?;
    let started = Instant::now();
    let mut rss_peak = 0u64;
    let mut messages = 1u64;
    let mut flips = 0u64;
    let mut second = 0u64;
    while second < args.seconds {
        let until = started + Duration::from_secs(second + 1);
        // Drain the controller's events for one second.
        while let Some(event) = controller.next_event(until.saturating_duration_since(Instant::now())).await {
            if let Event::Message(..) = event {
                messages += 1;
            }
        }
        second += 1;
        rss_peak = rss_peak.max(status_kib(pid, "VmRSS:")? * 1024);
        if second % 10 == 5 {
            let position = (flips / 2 % u64::from(args.devices)) as usize;
            let health = if flips.is_multiple_of(2) { "Unhealthy" } else { "Healthy" };
            inventory::set_health(&inventory_file, &mut devices, position, health);
            flips += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_ticks_used = cpu_ticks(pid)?.saturating_sub(cpu_start);
    let rss_end = status_kib(pid, "VmRSS:")? * 1024;
    let hwm = status_kib(pid, "VmHWM:")? * 1024;
    let threads = status_kib(pid, "Threads:")?;

    Command::new("sh").arg("-c").arg(format!("kill -TERM {pid}")).status()?;
    let exit = tokio::task::spawn_blocking(move || wait_for_exit(&mut child)).await?;
    let list_and_watch_updates = watcher.await?;
    let cpu_seconds = cpu_ticks_used as f64 / ticks_per_second;
    let cpu_percent = 100.0 * cpu_seconds / elapsed;
    let mib = |bytes: u64| (bytes as f64 / 1_048_576.0 * 100.0).round() / 100.0;
    Ok(serde_json::json!({
        "seconds": (elapsed * 100.0).round() / 100.0,
        "devices": args.devices,
        "sampling_interval_ms": args.sampling_interval_ms,
        "agent": args.agent_binary.as_deref().map_or("example executable in agent mode".to_owned(), |path| path.display().to_string()),
        "rss_mib_peak": mib(rss_peak.max(rss_end)),
        "rss_mib_end": mib(rss_end),
        "vm_hwm_mib": mib(hwm),
        "threads": threads,
        "cpu_seconds": (cpu_seconds * 1000.0).round() / 1000.0,
        "cpu_percent_of_core": (cpu_percent * 1000.0).round() / 1000.0,
        "controller_messages": messages,
        "list_and_watch_updates": list_and_watch_updates,
        "health_flips": flips,
        "clean_exit": exit.is_some_and(|status| status.success()),
        "target_rss_mb": RSS_TARGET_BYTES / 1_000_000,
        "target_cpu_percent": CPU_TARGET_PERCENT,
        "within_targets": hwm < RSS_TARGET_BYTES && cpu_percent < CPU_TARGET_PERCENT,
    }))
}

/// User plus system CPU time of `pid`, in clock ticks (`/proc/<pid>/stat` fields 14 and 15).
fn cpu_ticks(pid: u32) -> Result<u64, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name (field 2) may hold spaces; fields after it start at 3 (state).
    let rest = stat.rsplit_once(')').ok_or("malformed /proc stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| -> Result<u64, Box<dyn std::error::Error>> {
        Ok(fields.get(n - 3).ok_or("short /proc stat")?.parse()?)
    };
    Ok(field(14)? + field(15)?)
}

/// A `kB` (or plain number) line of `/proc/<pid>/status`.
fn status_kib(pid: u32, key: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status.lines().find(|line| line.starts_with(key)).ok_or_else(|| format!("no {key} in /proc status"))?;
    Ok(line[key.len()..].split_whitespace().next().ok_or("empty /proc status line")?.parse()?)
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, Linux's USER_HZ, if that fails).
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok()?.trim().parse().ok())
        .unwrap_or(100.0)
}
