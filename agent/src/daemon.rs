//! The running agent: one sampler feeding the plugin servers and the reporter, until shutdown.
//!
//! ```text
//!  backends ──discover()──▶ sampler ──Snapshot (watch)──┬──▶ plugin manager ──▶ kubelet
//!                              ▲                        └──▶ reporter ───────▶ controller
//!                              └──────── Settings (watch) ◀──────┘ (controller's configuration)
//! ```
//!
//! The first read of the backends happens before anything is served, so kubelet and the
//! controller never see an empty node by accident. On shutdown every task stops: the plugin
//! servers drain and remove their sockets, the reporter closes its stream.

use std::sync::Arc;

use tokio::sync::watch;
use tracing::{error, info};

use crate::plugin::allocate::AllocateConfig;
use crate::plugin::manager::{self, ManagerConfig};
use crate::plugin::naming::Naming;
use crate::plugin::service::PluginContext;
use crate::report::Reporter;
use crate::sampler::Sampler;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Everything the running agent needs.
pub struct Agent {
    /// Reads the backends.
    pub sampler: Sampler,
    /// The settings to start with.
    pub settings: Settings,
    /// How devices are named to kubelet.
    pub naming: Arc<Naming>,
    /// Serving kubelet: `None` to report only.
    pub plugins: Option<(ManagerConfig, AllocateConfig)>,
    /// Reporting to the controller: `None` to serve kubelet only.
    pub reporter: Option<Reporter>,
}

impl Agent {
    /// Runs until `shutdown` fires and everything has stopped.
    pub async fn run(mut self, shutdown: Shutdown) {
        let first = self.sampler.sample().await;
        info!(
            devices = first.devices.len(),
            backends = ?self.sampler.backend_names(),
            sampling_interval = ?self.settings.sampling_interval,
            "agent started"
        );
        let (snapshot_sender, snapshots) = watch::channel(first);
        let (settings_sender, settings) = watch::channel(self.settings);

        let mut tasks = Vec::new();
        tasks.push(("sampler", tokio::spawn(self.sampler.run(settings, snapshot_sender, shutdown.clone()))));
        if let Some((config, allocate)) = self.plugins {
            let context = PluginContext {
                naming: Arc::clone(&self.naming),
                allocate: Arc::new(allocate),
                snapshots: snapshots.clone(),
            };
            tasks.push(("device plugins", tokio::spawn(manager::run(config, context, shutdown.clone()))));
        }
        if let Some(reporter) = self.reporter {
            tasks.push(("reporter", tokio::spawn(reporter.run(snapshots, settings_sender, shutdown.clone()))));
        }
        for (name, task) in tasks {
            if let Err(failure) = task.await {
                error!(task = name, %failure, "task failed");
            }
        }
        info!("agent stopped");
    }
}
