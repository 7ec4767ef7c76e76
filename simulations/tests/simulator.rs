//! The simulator end to end: a hand-computed scenario checked exactly, determinism, conservation
//! of jobs, and scenario errors that name the field.

#![allow(clippy::unwrap_used)]

mod common;

use common::{ONE_NODE, job};
use rust_decimal::Decimal;
use tidepool_engine::Checkpoint;
use tidepool_sim::compare::compare;
use tidepool_sim::scenario::Scenario;
use tidepool_sim::sim::fleet::Fleet;
use tidepool_sim::sim::job::Accepted;
use tidepool_sim::sim::policies::PolicyKind;

/// Two 8-device jobs on one 8-device A100 node (14.00 CNY per device-hour, throughput 1.0):
/// A (16 reference-device-hours) runs 0–2 h; B (8) waits 2 h, runs 2–3 h.
#[test]
fn a_hand_computed_scenario_matches_to_the_cent() {
    let scenario = Scenario::parse(ONE_NODE, "one-node.yaml").unwrap();
    let fleet = Fleet::build(&scenario).unwrap();
    let jobs = || vec![job("a", 0, 8, 16.0), job("b", 0, 8, 8.0)];
    let result = compare(&scenario, &fleet, &PolicyKind::ALL, None, None, jobs);
    for report in result.policies.values() {
        assert_eq!(report.cost, Decimal::new(33600, 2), "{}: 24 device-hours × 14.00", report.policy);
        assert_eq!(report.work, 24.0);
        assert_eq!(report.cost_per_work, 14.0);
        assert_eq!(report.jobs.completed, 2);
        let delay = &report.queueing_delay["bank"];
        assert_eq!((delay.count, delay.p50_hours), (2, 1.0), "{}: delays 0 h and 2 h", report.policy);
        let jct = &report.jct["bank"];
        assert_eq!(jct.p50_hours, 2.5, "{}: 2 h and 3 h", report.policy);
        assert_eq!(report.hours, 3.0);
        assert_eq!(report.utilisation["nvidia-a100-80g"], 1.0);
    }
}

/// An A100 node and an H20 node priced and rated alike (14.00, throughput 1.0), one tenant.
const TWO_NODES: &str = r#"
name: two-nodes
clusters: [c0]
nodePools:
  - {cluster: c0, model: nvidia-a100-80g, nodes: 1, devicesPerNode: 8}
  - {cluster: c0, model: nvidia-h20, nodes: 1, devicesPerNode: 8}
tenants:
  - {name: bank, quotas: [{family: nvidia, nominal: 16}]}
catalogue:
  - {model: nvidia-h20, transfer: "14.00", throughput: {llm-training: "1.0"}}
workload: {}
cycleSeconds: 60
"#;

/// Preemption, hand-computed under `pooled` (first acceptable chip). At 0, M (priority 10, 4 H20
/// devices, 40 reference-device-hours) and L (priority 0, 4 devices, A100 or H20, 8; checkpoints
/// every 30 min, 5 min grace) start: M on the H20, L on the A100. At 45 min H (priority 10, the
/// whole A100, 8) preempts L, which runs on through its grace and stops at 50 min: of the 3.333
/// it did it keeps the 2 of its checkpoint at 30 min and loses 1.333. H starts when L has
/// stopped, at 50 min, and runs 1 h. L waits again only once it has stopped (not at 46 min, the
/// next cycle, while its replicas still run): it starts on the H20's free half at 50 min and does
/// its remaining 6 in 1.5 h, ending at 2 h 20 min.
#[test]
fn a_preempted_job_keeps_its_checkpointed_work_and_waits_again_once_stopped() {
    let scenario = Scenario::parse(TWO_NODES, "two-nodes.yaml").unwrap();
    let fleet = Fleet::build(&scenario).unwrap();
    let jobs = || {
        let mut low = job("l", 0, 4, 8.0);
        low.accepts = vec![Accepted::Model("nvidia-a100-80g".into()), Accepted::Model("nvidia-h20".into())];
        low.checkpoint = Some(Checkpoint { interval: 1800, grace: 300 });
        let mut mid = job("m", 0, 4, 40.0);
        mid.priority = 10;
        mid.accepts = vec![Accepted::Model("nvidia-h20".into())];
        let mut high = job("h", 2700, 8, 8.0);
        high.priority = 10;
        vec![low, mid, high]
    };
    let result = compare(&scenario, &fleet, &[PolicyKind::Pooled], None, None, jobs);
    let report = &result.policies["pooled"];
    assert_eq!(report.preemptions, 1);
    assert_eq!(report.lost_work, 1.333, "L's 50 min on 4 devices, less its 30 min checkpoint");
    assert_eq!(report.work, 56.0, "8 + 40 + 8, L's lost work redone");
    // Device-hours: L 4 × 50 min on the A100 and 4 × 1.5 h on the H20, H 8 × 1 h, M 4 × 10 h.
    assert_eq!(report.cost, Decimal::new(80267, 2), "57.333 device-hours × 14.00");
    assert_eq!(report.jobs.completed, 3);
    let jct = &report.jct["bank"];
    assert_eq!((jct.count, jct.p50_hours), (3, 2.333), "L arrives at 0 and ends at 2 h 20 min");
    let delay = &report.queueing_delay["bank"];
    assert_eq!(delay.p95_hours, 0.075, "H waits 5 min for L's grace: delays 0, 0 and 300 s");
    assert_eq!(report.hours, 10.0);
}

#[test]
fn a_job_no_chip_in_the_fleet_accepts_fails_with_a_reason() {
    let scenario = Scenario::parse(ONE_NODE, "one-node.yaml").unwrap();
    let fleet = Fleet::build(&scenario).unwrap();
    let mut odd = job("odd", 0, 8, 1.0);
    odd.accepts = vec![Accepted::Family("ascend".into())];
    let result = compare(&scenario, &fleet, &[PolicyKind::ChipAware], None, None, || vec![odd.clone()]);
    let jobs = &result.policies["chip-aware"].jobs;
    assert_eq!(jobs.failed, 1);
    assert_eq!(jobs.failed_reasons["no accepted accelerator is in the fleet"], 1);
}

#[test]
fn the_builtin_scenario_is_deterministic_and_conserves_jobs() {
    let scenario = Scenario::load("builtin:group-cloud").unwrap();
    let fleet = Fleet::build(&scenario).unwrap();
    let generator = scenario.workload.generator.clone().unwrap();
    let source = || tidepool_sim::sources::generated(&generator, &fleet).unwrap();
    let horizon = Some(2 * 86_400);
    let first = serde_json::to_string(&compare(&scenario, &fleet, &PolicyKind::ALL, horizon, None, source)).unwrap();
    let second = serde_json::to_string(&compare(&scenario, &fleet, &PolicyKind::ALL, horizon, None, source)).unwrap();
    assert_eq!(first, second, "same seed, same bytes");
    let value: serde_json::Value = serde_json::from_str(&first).unwrap();
    for policy in ["static", "pooled", "chip-aware"] {
        let p = &value[policy];
        assert!(p["cost_per_work"].as_f64().unwrap() > 0.0, "{policy}");
        let j = &p["jobs"];
        let n = |k: &str| j[k].as_u64().unwrap();
        assert!(n("arrived") > 100, "{policy}: {j}");
        assert_eq!(
            n("arrived"),
            n("completed") + n("running_at_end") + n("queued_at_end") + n("failed") + n("expired_unserved"),
            "{policy}: every job is accounted for: {j}"
        );
    }
}

#[test]
fn scenario_errors_name_the_field() {
    let bad = ONE_NODE.replace("devicesPerNode: 8", "devicesPerNode: eight");
    let err = Scenario::parse(&bad, "bad.yaml").unwrap_err().to_string();
    assert!(err.starts_with("bad.yaml: nodePools[0].devicesPerNode: "), "{err}");
    let bad = ONE_NODE.replace("cluster: c0,", "cluster: c9,");
    let err = Scenario::parse(&bad, "bad.yaml").unwrap_err().to_string();
    assert!(err.contains("nodePools[0].cluster: \"c9\" is not in clusters"), "{err}");
    let bad = ONE_NODE.replace("cycleSeconds: 60", "cycleSecs: 60");
    let err = Scenario::parse(&bad, "bad.yaml").unwrap_err().to_string();
    assert!(err.contains("unknown field `cycleSecs`"), "{err}");
    let bad = ONE_NODE.replace("model: nvidia-a100-80g", "model: nvidia-b300");
    let fleet_err = Fleet::build(&Scenario::parse(&bad, "bad.yaml").unwrap()).unwrap_err();
    assert!(fleet_err.contains("nodePools[0].model: \"nvidia-b300\" is not in the catalogue"), "{fleet_err}");
}

/// The two jobs of the hand-computed scenario wait 2 h on one node; with a second node neither
/// waits, so the smallest fleet meeting a 30-minute p95 is just over 1× (ceil → 2 nodes).
#[test]
fn fleet_sizing_finds_the_smallest_fleet_meeting_the_delay_target() {
    let scenario = Scenario::parse(ONE_NODE, "one-node.yaml").unwrap();
    let jobs = |_: &Fleet| vec![job("a", 0, 8, 16.0), job("b", 0, 8, 8.0)];
    let sizings = tidepool_sim::sizing::size_fleet(&scenario, 0.5, None, jobs).unwrap();
    assert_eq!(sizings.len(), 3);
    for s in &sizings {
        let scale = s.scale.unwrap();
        assert!(scale > 1.0 && scale <= 1.05, "{}: {scale}", s.policy);
        assert_eq!(s.devices, 16, "{}", s.policy);
        assert_eq!(s.monthly_cost, Decimal::new(16 * 1400 * 730, 2), "{}: 16 devices × 14.00 × 730 h", s.policy);
        assert!(s.worst_p95_hours <= 0.5);
    }
}
