//! `bench engine` end to end on a tiny fleet: the generator keeps its contract and is
//! deterministic, and the benchmark reports what it promises, as a library call and as a command.

use std::collections::BTreeSet;
use std::process::Command;

use tidepool_engine::{QuotaKey, Snapshot, UsageClass};
use tidepool_sim::bench::engine::{self, EngineArgs};
use tidepool_sim::bench::snapshot_gen::{GenConfig, generate};

const TINY: GenConfig = GenConfig { nodes: 50, devices_per_node: 8, pending_pods: 500, seed: 1 };

const REQUIRED_KEYS: [&str; 16] = [
    "placements",
    "seconds",
    "placements_per_sec",
    "cycle_ms",
    "peak_rss_mb",
    "nodes",
    "devices",
    "pending_pods",
    "pending_workloads",
    "gangs",
    "preemptions",
    "pending_after",
    "build_seconds",
    "seed",
    "models",
    "tenants",
];

fn pending(s: &Snapshot) -> Vec<usize> {
    let running: BTreeSet<usize> = s.allocations.iter().map(|a| a.workload.ix()).collect();
    (0..s.workloads.len()).filter(|w| !running.contains(w)).collect()
}

#[test]
fn tiny_snapshot_keeps_the_contract() {
    let g = generate(&TINY);
    let s = &g.snapshot;
    s.check().expect("generated snapshot holds together");

    let models_on_nodes: BTreeSet<_> = s.nodes.iter().map(|n| n.devices[0].model).collect();
    let families: BTreeSet<_> = models_on_nodes.iter().map(|m| s.catalogue.model(*m).family).collect();
    assert!(models_on_nodes.len() >= 4 && families.len() >= 3, "{models_on_nodes:?}");
    assert_eq!(s.clusters.len(), 3);
    assert_eq!(s.nodes.len(), 50);

    // Queue: exactly the pods asked for, single devices and 8/16/32-device gangs, ≥ 3 tenants.
    let queue = pending(s);
    let pods: u32 = queue.iter().map(|&w| s.workloads[w].replicas_wanted).sum();
    assert_eq!(pods, 500);
    assert_eq!(g.stats.pending_pods, 500);
    let sizes: BTreeSet<u32> = queue.iter().map(|&w| s.workloads[w].gang_devices()).collect();
    assert!(sizes.contains(&1) && sizes.iter().all(|d| [1, 8, 16, 32].contains(d)), "{sizes:?}");
    assert!(sizes.len() >= 3, "{sizes:?}");
    let tenants: BTreeSet<_> = queue.iter().map(|&w| s.workloads[w].tenant).collect();
    assert!(tenants.len() >= 3);

    // Quotas: children's nominals fit in their parent's, family by family.
    for (i, parent) in s.tenants.iter().enumerate() {
        for q in &parent.quotas {
            let children: u32 = s
                .tenants
                .iter()
                .filter(|t| t.parent.is_some_and(|p| p.ix() == i))
                .filter_map(|t| t.quotas.iter().find(|c| c.key == q.key).map(|c| c.nominal))
                .sum();
            assert!(children <= q.nominal, "{} {:?}", parent.name, q.key);
            assert!(matches!(q.key, QuotaKey::Family(_)));
        }
    }

    // Running load near 60 %, some of it borrowed.
    let held: u32 = s.allocations.iter().map(|a| a.devices.count_ones()).sum();
    let share = held as f64 / f64::from(g.stats.devices);
    assert!((0.45..0.7).contains(&share), "{share}");
    assert!(s.allocations.iter().any(|a| a.usage == UsageClass::Borrowed));
    assert!(s.allocations.iter().all(|a| a.started < g.now));
}

#[test]
fn the_same_seed_gives_the_same_snapshot() {
    let names = |g: &tidepool_sim::bench::snapshot_gen::Generated| -> Vec<String> {
        g.snapshot.workloads.iter().map(|w| w.name.clone()).collect()
    };
    let (a, b) = (generate(&TINY), generate(&TINY));
    assert_eq!(names(&a), names(&b));
    assert_eq!(a.stats, b.stats);
    assert_eq!(format!("{:?}", a.snapshot), format!("{:?}", b.snapshot));
    let other = generate(&GenConfig { seed: 2, ..TINY });
    assert_ne!(format!("{:?}", a.snapshot.allocations), format!("{:?}", other.snapshot.allocations));
}

#[test]
fn a_longer_queue_leaves_the_running_load_alone() {
    let a = generate(&TINY);
    let b = generate(&GenConfig { pending_pods: 800, ..TINY });
    assert_eq!(format!("{:?}", a.snapshot.allocations), format!("{:?}", b.snapshot.allocations));
}

fn args(json: bool) -> EngineArgs {
    EngineArgs { nodes: TINY.nodes, devices_per_node: 8, pending: TINY.pending_pods, seed: TINY.seed, json }
}

#[test]
fn the_report_has_every_key_and_places_work() {
    let report = engine::run(&args(true)).expect("bench runs");
    assert!(report.placements > 0);
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).expect("report is JSON");
    for key in REQUIRED_KEYS {
        assert!(json.get(key).is_some_and(|v| v.is_number()), "{key} missing or not a number in {json}");
    }
    assert!(report.to_table().contains("placements/s"));
}

#[test]
fn bad_arguments_are_refused() {
    let err = engine::run(&EngineArgs { devices_per_node: 65, ..args(false) }).expect_err("65 devices");
    assert!(err.to_string().contains("devices-per-node"));
}

#[test]
fn the_command_prints_one_json_object() {
    let out = Command::new(env!("CARGO_BIN_EXE_tidepool-sim"))
        .args(["bench", "engine", "--nodes", "50", "--pending", "500", "--seed", "1", "--json"])
        .output()
        .expect("tidepool-sim runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON object");
    assert!(json["placements"].as_u64().is_some_and(|p| p > 0), "{json}");
    assert_eq!(json["pending_pods"], 500);
}
