//! Helpers shared by the simulator's integration tests: paths to the public traces, and the
//! hand-computed one-node scenario.

#![allow(dead_code, missing_docs, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use tidepool_engine::{Checkpoint, WorkloadClass, WorkloadKind};
use tidepool_sim::sim::job::{Accepted, SimJob};

/// A trace under `shared/traces/`; fails the test when the folder is missing.
pub fn trace(rel: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces").join(rel);
    assert!(
        p.exists(),
        "trace file {} is missing: these tests read the public traces from ../shared/traces next to the \
         repository (see shared/traces/README.md); they are never copied into the repository",
        p.display()
    );
    p
}

/// One 8-device A100 node (14.00 CNY per device-hour, throughput 1.0), one tenant.
pub const ONE_NODE: &str = r#"
name: one-node
clusters: [c0]
nodePools:
  - {cluster: c0, model: nvidia-a100-80g, nodes: 1, devicesPerNode: 8}
tenants:
  - {name: bank, quotas: [{family: nvidia, nominal: 8}]}
workload: {}
cycleSeconds: 60
"#;

/// A non-preemptible one-replica A100 training job that checkpoints every 30 minutes.
pub fn job(name: &str, arrival: i64, devices: u32, work: f64) -> SimJob {
    SimJob {
        name: name.into(),
        arrival,
        tenant: 0,
        kind: WorkloadKind::Training,
        class: WorkloadClass::LlmTraining,
        replicas: 1,
        devices_per_replica: devices,
        work: Some(work),
        lifetime: None,
        hourly_shares: None,
        service_rate: 0.0,
        priority: 0,
        preemptible: false,
        checkpoint: Some(Checkpoint { interval: 1800, grace: 60 }),
        accepts: vec![Accepted::Model("nvidia-a100-80g".into())],
    }
}
