//! A fake kubelet: a real `Registration` gRPC server on `kubelet.sock` in a directory, recording
//! every registration; it dials plugins back on their sockets as kubelet does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tidepool_agent::plugin::socket;
use tidepool_proto::deviceplugin::device_plugin_client::DevicePluginClient;
use tidepool_proto::deviceplugin::registration_server::{Registration, RegistrationServer};
use tidepool_proto::deviceplugin::{Empty, KUBELET_SOCKET, RegisterRequest, VERSION};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

struct Recorder(mpsc::UnboundedSender<RegisterRequest>);

#[tonic::async_trait]
impl Registration for Recorder {
    async fn register(&self, request: Request<RegisterRequest>) -> Result<Response<Empty>, Status> {
        let request = request.into_inner();
        if request.version != VERSION {
            return Err(Status::invalid_argument(format!("unsupported version {}", request.version)));
        }
        let _ = self.0.send(request);
        Ok(Response::new(Empty {}))
    }
}

/// A running fake kubelet.
pub struct FakeKubelet {
    dir: PathBuf,
    registrations: mpsc::UnboundedReceiver<RegisterRequest>,
    sender: mpsc::UnboundedSender<RegisterRequest>,
    stop: Option<oneshot::Sender<()>>,
}

impl FakeKubelet {
    /// Starts listening on `<dir>/kubelet.sock`.
    pub fn start(dir: &Path) -> Self {
        let (sender, registrations) = mpsc::unbounded_channel();
        let mut kubelet = FakeKubelet { dir: dir.to_owned(), registrations, sender, stop: None };
        kubelet.listen();
        kubelet
    }

    fn listen(&mut self) {
        let listener = socket::bind(&self.dir.join(KUBELET_SOCKET)).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let service = RegistrationServer::new(Recorder(self.sender.clone()));
        tokio::spawn(async move {
            let incoming = UnixListenerStream::new(listener);
            tokio::select! {
                _ = Server::builder().serve_with_incoming(service, incoming) => {}
                _ = stopped => {}
            }
        });
        self.stop = Some(stop);
    }

    /// The next registration, if one comes within `timeout`.
    pub async fn next_registration(&mut self, timeout: Duration) -> Option<RegisterRequest> {
        tokio::time::timeout(timeout, self.registrations.recv()).await.ok().flatten()
    }

    /// Simulates a kubelet restart: stops, removes `kubelet.sock` and, when `remove_plugin_sockets`
    /// (as kubelet does on start), every other socket in the directory, and listens on a new
    /// `kubelet.sock`.
    pub fn restart(&mut self, remove_plugin_sockets: bool) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        for entry in std::fs::read_dir(&self.dir).unwrap() {
            let path = entry.unwrap().path();
            let is_kubelet = path.file_name().is_some_and(|name| name == KUBELET_SOCKET);
            if path.extension().is_some_and(|ext| ext == "sock") && (is_kubelet || remove_plugin_sockets) {
                std::fs::remove_file(path).unwrap();
            }
        }
        self.listen();
    }

    /// Dials the plugin registered with `endpoint`, as kubelet does after a registration.
    pub async fn dial(&self, endpoint: &str) -> DevicePluginClient<Channel> {
        let channel = socket::connect(&self.dir.join(endpoint), Duration::from_secs(2)).await.unwrap();
        DevicePluginClient::new(channel)
    }
}

impl Drop for FakeKubelet {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
