//! Keeps one registered plugin server per resource name, across kubelet restarts.
//!
//! Every snapshot and every watch interval the manager reconciles:
//! - a server for each resource name the node's devices have (servers of names that disappear
//!   stay, with an empty device list, until the agent stops);
//! - a server whose socket file was removed or replaced (kubelet deletes plugin sockets when it
//!   restarts) is started again on a new socket;
//! - each server is registered with the kubelet whose `kubelet.sock` is there now: a new
//!   `kubelet.sock` (kubelet restarted) means registering again; a failed registration is retried
//!   at the next watch interval.
//!
//! On shutdown every server is stopped and its socket removed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use tidepool_proto::deviceplugin::KUBELET_SOCKET;
use tokio::time::MissedTickBehavior;
use tracing::{debug, info, warn};

use super::registration::register;
use super::server::RunningServer;
use super::service::PluginContext;
use super::socket::FileIdentity;
use crate::shutdown::Shutdown;

/// Where and how often the manager works.
#[derive(Clone, Debug)]
pub struct ManagerConfig {
    /// Kubelet's device-plugin directory: `kubelet.sock` and the plugins' sockets.
    pub socket_dir: PathBuf,
    /// How often to look for a restarted kubelet or a removed socket.
    pub watch_interval: Duration,
    /// How long to wait for kubelet to answer a registration.
    pub register_timeout: Duration,
}

struct Plugin {
    server: RunningServer,
    /// The `kubelet.sock` this server is registered with.
    registered_with: Option<FileIdentity>,
    failed_registrations: u32,
}

/// Runs the plugin servers until `shutdown`, then stops them.
pub async fn run(config: ManagerConfig, context: PluginContext, shutdown: Shutdown) {
    let mut snapshots = context.snapshots.clone();
    let mut plugins: BTreeMap<String, Plugin> = BTreeMap::new();
    let mut ticks = tokio::time::interval(config.watch_interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let resources: BTreeSet<String> = {
            let snapshot = snapshots.borrow_and_update();
            snapshot.devices.iter().map(|device| context.naming.resource_name(device)).collect()
        };
        reconcile(&config, &context, &resources, &mut plugins).await;
        tokio::select! {
            changed = snapshots.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            _ = ticks.tick() => {}
            () = shutdown.wait() => break,
        }
    }
    for (_, plugin) in plugins {
        plugin.server.stop().await;
    }
}

async fn reconcile(
    config: &ManagerConfig,
    context: &PluginContext,
    resources: &BTreeSet<String>,
    plugins: &mut BTreeMap<String, Plugin>,
) {
    for resource in resources {
        if !plugins.contains_key(resource) {
            match RunningServer::start(&config.socket_dir, resource, context.clone()) {
                Ok(server) => {
                    plugins.insert(resource.clone(), Plugin { server, registered_with: None, failed_registrations: 0 });
                }
                Err(error) => warn!(%resource, %error, "cannot start the plugin server; retrying"),
            }
        }
    }

    let mut restarted = Vec::new();
    for (resource, plugin) in plugins.iter() {
        if !plugin.server.socket_intact() {
            warn!(%resource, "the plugin socket was removed (kubelet restarted?); serving on a new one");
            restarted.push(resource.clone());
        }
    }
    for resource in restarted {
        if let Some(old) = plugins.remove(&resource) {
            old.server.stop().await;
        }
        match RunningServer::start(&config.socket_dir, &resource, context.clone()) {
            Ok(server) => {
                plugins.insert(resource, Plugin { server, registered_with: None, failed_registrations: 0 });
            }
            Err(error) => warn!(%resource, %error, "cannot restart the plugin server; retrying"),
        }
    }

    let kubelet_socket = config.socket_dir.join(KUBELET_SOCKET);
    let Ok(kubelet) = FileIdentity::of(&kubelet_socket) else {
        debug!(socket = %kubelet_socket.display(), "kubelet is not listening yet");
        return;
    };
    for (resource, plugin) in plugins.iter_mut() {
        if plugin.registered_with == Some(kubelet) {
            continue;
        }
        let endpoint = plugin.server.endpoint();
        match register(&kubelet_socket, &endpoint, resource, config.register_timeout).await {
            Ok(()) => {
                let again = if plugin.registered_with.is_some() { " again (kubelet restarted)" } else { "" };
                info!(%resource, %endpoint, "registered with kubelet{again}");
                plugin.registered_with = Some(kubelet);
                plugin.failed_registrations = 0;
            }
            Err(error) => {
                plugin.failed_registrations += 1;
                if plugin.failed_registrations == 1 {
                    warn!(%resource, %error, "registration with kubelet failed; retrying");
                } else {
                    debug!(%resource, %error, attempts = plugin.failed_registrations, "registration failed");
                }
            }
        }
    }
}
