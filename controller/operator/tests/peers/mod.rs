//! Real peers for the controller's tests: the `tidepool-agent` daemon with the `fake` backend
//! (inventory files written here), the controller's agent server on `127.0.0.1:0`, and polling.

// Test code: each test binary uses a different part of it, and a failed setup should panic.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tidepool_agent::backend::Source;
use tidepool_agent::backend::fake::FakeBackend;
use tidepool_agent::clock::SystemClock as AgentClock;
use tidepool_agent::daemon::Agent;
use tidepool_agent::plugin::naming::{Naming, NamingMode};
use tidepool_agent::report::session::Identity;
use tidepool_agent::report::tls::TlsFiles as AgentTls;
use tidepool_agent::report::{Reporter, ReporterConfig};
use tidepool_agent::sampler::Sampler;
use tidepool_agent::settings::Settings;
use tidepool_agent::shutdown::{self, ShutdownTrigger};
use tidepool_controller::Clock;
use tidepool_controller::agents::{AgentStreams, Registry, ServerConfig, Transport, serve};
use tidepool_crds::Catalogue;
use tokio::task::JoinHandle;

/// The node name test agents report.
pub const NODE: &str = "node-test-1";

/// A file in the agent crate's test PKI (`agent/tests/certs`).
pub fn cert(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../agent/tests/certs").join(name)
}

/// `count` NVIDIA H100s with uuids `GPU-<i>`, all peers of each other.
pub fn nvidia(count: u32) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let peers: Vec<u32> = (0..count).filter(|&p| p != i).collect();
            json!({
                "family": "nvidia", "index": i, "uuid": format!("GPU-{i}"), "product_name": "NVIDIA H100",
                "memory_mib": 81920, "memory_used_mib": 1024, "utilisation_percent": 10 + i, "peers": peers,
            })
        })
        .collect()
}

/// Writes `devices` as a fake-backend inventory file, atomically.
pub fn write_inventory(path: &Path, devices: &[Value]) {
    let staging = path.with_extension("tmp");
    std::fs::write(&staging, serde_json::to_vec_pretty(&json!({ "devices": devices })).unwrap()).unwrap();
    std::fs::rename(&staging, path).unwrap();
}

/// A running controller agent server.
pub struct Controller {
    /// Its address.
    pub addr: SocketAddr,
    /// Its registry.
    pub registry: Arc<Registry>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl Controller {
    /// Serves on `127.0.0.1:0` with `transport`, nodes going stale after `timeout`, times from `clock`.
    pub async fn start(transport: Transport, timeout: Duration, clock: Arc<dyn Clock>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let registry = Arc::new(Registry::new(timeout));
        let streams = AgentStreams::new(Arc::clone(&registry), clock);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let config = ServerConfig::new(transport);
        let task = tokio::spawn(async move {
            serve(listener, streams, &config, async {
                let _ = stopped.await;
            })
            .await
            .expect("the agent server runs");
        });
        Controller { addr, registry, stop: Some(stop), task: Some(task) }
    }

    /// Stops serving and waits for the server to end.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }
}

/// A running agent.
pub struct RunningAgent {
    trigger: ShutdownTrigger,
    task: JoinHandle<()>,
}

impl RunningAgent {
    /// Starts an agent reading `inventory` every `sampling`, reporting to `address`.
    pub fn start(inventory: &Path, address: String, tls: Option<AgentTls>, sampling: Duration) -> Self {
        let catalogue = Catalogue::builtin();
        let backend = FakeBackend::new(Source::File(inventory.to_owned()), catalogue.clone());
        let reporter = Reporter::new(ReporterConfig {
            address,
            tls,
            identity: Identity {
                node_name: NODE.into(),
                agent_version: "0.1.0-test".into(),
                backends: vec!["fake".into()],
            },
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(400),
            connect_timeout: Duration::from_secs(2),
            jitter_seed: 1,
            naming: None,
        })
        .unwrap();
        let agent = Agent {
            sampler: Sampler::new(vec![Box::new(backend)], Arc::new(AgentClock)),
            settings: Settings::new(sampling).unwrap(),
            naming: Arc::new(Naming::new(NamingMode::Vendor, catalogue)),
            plugins: None,
            reporter: Some(reporter),
        };
        let (trigger, stop) = shutdown::channel();
        RunningAgent { trigger, task: tokio::spawn(agent.run(stop)) }
    }

    /// Shuts the agent down (it closes its stream) and waits for it.
    pub async fn stop(self) {
        self.trigger.trigger();
        self.task.await.unwrap();
    }
}

/// Polls `check` every 20 ms until it is true or `timeout` passes; whether it became true.
pub async fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
