//! An agent wired for tests: the `fake` backend on an inventory file, a fast kubelet watch, fast
//! reconnects.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tidepool_agent::backend::Source;
use tidepool_agent::backend::fake::FakeBackend;
use tidepool_agent::clock::SystemClock;
use tidepool_agent::daemon::Agent;
use tidepool_agent::plugin::allocate::AllocateConfig;
use tidepool_agent::plugin::manager::ManagerConfig;
use tidepool_agent::plugin::naming::{Naming, NamingMode};
use tidepool_agent::report::session::Identity;
use tidepool_agent::report::tls::TlsFiles;
use tidepool_agent::report::{Reporter, ReporterConfig};
use tidepool_agent::sampler::Sampler;
use tidepool_agent::settings::Settings;
use tidepool_crds::Catalogue;

/// The node name test agents report.
pub const NODE: &str = "node-test-1";

/// What to wire the agent to.
pub struct Wiring<'a> {
    /// The fake backend's inventory file.
    pub inventory: &'a Path,
    /// Kubelet's device-plugin directory, to serve kubelet.
    pub socket_dir: Option<&'a Path>,
    /// The controller's address and TLS files, to report.
    pub controller: Option<(String, Option<TlsFiles>)>,
    /// The sampling interval.
    pub sampling: Duration,
}

/// The reporter config for `address`.
pub fn reporter_config(address: String, tls: Option<TlsFiles>, naming: Option<Arc<Naming>>) -> ReporterConfig {
    ReporterConfig {
        address,
        tls,
        identity: Identity {
            node_name: NODE.into(),
            agent_version: "0.1.0-test".into(),
            backends: vec!["fake".into()],
        },
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(800),
        connect_timeout: Duration::from_secs(2),
        jitter_seed: 1,
        naming,
    }
}

/// The agent, ready to run.
pub fn agent(wiring: Wiring<'_>) -> Agent {
    let catalogue = Catalogue::builtin();
    let backend = FakeBackend::new(Source::File(wiring.inventory.to_owned()), catalogue.clone());
    let naming = Arc::new(Naming::new(NamingMode::Vendor, catalogue));
    let plugins = wiring.socket_dir.map(|dir| {
        let manager = ManagerConfig {
            socket_dir: dir.to_owned(),
            watch_interval: Duration::from_millis(100),
            register_timeout: Duration::from_secs(2),
        };
        (manager, AllocateConfig::default())
    });
    let reporter = wiring.controller.map(|(address, tls)| {
        let naming = plugins.as_ref().map(|_| Arc::clone(&naming));
        Reporter::new(reporter_config(address, tls, naming)).unwrap()
    });
    Agent {
        sampler: Sampler::new(vec![Box::new(backend)], Arc::new(SystemClock)),
        settings: Settings::new(wiring.sampling).unwrap(),
        naming,
        plugins,
        reporter,
    }
}
