//! One running plugin server: a `DevicePlugin` service on its own unix socket.
//!
//! Starting binds the socket and serves it on a task; stopping ends the service's `ListAndWatch`
//! streams, drains the server and removes the socket file if it is still ours. Registering with
//! kubelet is the manager's job.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tidepool_proto::deviceplugin::device_plugin_server::DevicePluginServer;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::Server;
use tracing::{info, warn};

use super::naming::socket_file_name;
use super::service::{PluginContext, PluginService};
use super::socket::{self, FileIdentity};
use crate::shutdown::{self, ShutdownTrigger};

/// How long a stopping server may take to drain before its task is aborted.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// A plugin server serving one resource name.
pub struct RunningServer {
    resource: String,
    socket: PathBuf,
    identity: FileIdentity,
    stop: ShutdownTrigger,
    task: JoinHandle<()>,
}

impl RunningServer {
    /// Binds `<dir>/tidepool-<resource>.sock` and serves `resource` on it.
    pub fn start(dir: &Path, resource: &str, context: PluginContext) -> io::Result<Self> {
        let path = dir.join(socket_file_name(resource));
        let listener = socket::bind(&path)?;
        let identity = FileIdentity::of(&path)?;
        let (stop, stopped) = shutdown::channel();
        let service = DevicePluginServer::new(PluginService::new(resource, context, stopped.clone()));
        let name = resource.to_owned();
        let task = tokio::spawn(async move {
            let incoming = UnixListenerStream::new(listener);
            let served = Server::builder().serve_with_incoming_shutdown(service, incoming, stopped.wait()).await;
            if let Err(error) = served {
                warn!(resource = %name, %error, "plugin server failed");
            }
        });
        info!(%resource, socket = %path.display(), "serving");
        Ok(RunningServer { resource: resource.to_owned(), socket: path, identity, stop, task })
    }

    /// The socket file's name in the device-plugin directory (the registration's endpoint).
    pub fn endpoint(&self) -> String {
        socket_file_name(&self.resource)
    }

    /// Whether the socket file is still the one this server bound (kubelet removes plugin
    /// sockets when it restarts).
    pub fn socket_intact(&self) -> bool {
        FileIdentity::of(&self.socket).is_ok_and(|identity| identity == self.identity)
    }

    /// Stops serving and removes the socket file if it is still ours.
    pub async fn stop(self) {
        self.stop.trigger();
        let mut task = self.task;
        if tokio::time::timeout(DRAIN_TIMEOUT, &mut task).await.is_err() {
            warn!(resource = %self.resource, "plugin server did not drain in time; closing it");
            task.abort();
        }
        if FileIdentity::of(&self.socket).is_ok_and(|identity| identity == self.identity)
            && let Err(error) = std::fs::remove_file(&self.socket)
        {
            warn!(socket = %self.socket.display(), %error, "cannot remove the plugin socket");
        }
        info!(resource = %self.resource, "stopped serving");
    }
}
