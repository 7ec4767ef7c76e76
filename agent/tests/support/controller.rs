//! A test controller: a real `AgentService` server on loopback (plaintext or TLS), in its own
//! thread and runtime so that killing it really drops every connection. It records what agents
//! send, acknowledges each message, and sends what the test asks.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tidepool_proto::agent::agent_service_server::{AgentService, AgentServiceServer};
use tidepool_proto::agent::{Ack, AgentConfig, AgentMessage, ControllerMessage, controller_message};
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::{TcpListenerStream, UnboundedReceiverStream};
use tonic::transport::{Server, ServerTlsConfig};
use tonic::{Request, Response, Status, Streaming};

/// What the controller saw.
#[derive(Debug)]
pub enum Event {
    /// Stream `n` (counting from 1 over the controller's life, restarts included) opened.
    Connected(u64),
    /// A message on stream `n`.
    Message(u64, AgentMessage),
    /// Stream `n` ended from the agent's side.
    Closed(u64),
}

type Outbound = mpsc::UnboundedSender<Result<ControllerMessage, Status>>;

#[derive(Clone)]
struct Service {
    events: mpsc::UnboundedSender<Event>,
    current: Arc<Mutex<Option<(u64, Outbound)>>>,
    streams: Arc<AtomicU64>,
    auto_ack: bool,
}

#[tonic::async_trait]
impl AgentService for Service {
    type ConnectStream = UnboundedReceiverStream<Result<ControllerMessage, Status>>;

    async fn connect(
        &self,
        request: Request<Streaming<AgentMessage>>,
    ) -> Result<Response<Self::ConnectStream>, Status> {
        let stream = self.streams.fetch_add(1, Ordering::SeqCst) + 1;
        let (outbound, receiver) = mpsc::unbounded_channel();
        *self.current.lock().unwrap() = Some((stream, outbound.clone()));
        let mut inbound = request.into_inner();
        let (events, current, auto_ack) = (self.events.clone(), Arc::clone(&self.current), self.auto_ack);
        let _ = events.send(Event::Connected(stream));
        tokio::spawn(async move {
            while let Ok(Some(message)) = inbound.message().await {
                let sequence = message.sequence;
                let _ = events.send(Event::Message(stream, message));
                if auto_ack {
                    let ack = controller_message::Body::Ack(Ack { up_to_sequence: sequence });
                    let _ = outbound.send(Ok(ControllerMessage { body: Some(ack) }));
                }
            }
            let _ = events.send(Event::Closed(stream));
            // End our side too: drop every sender of this stream.
            let mut current = current.lock().unwrap();
            if current.as_ref().is_some_and(|(n, _)| *n == stream) {
                *current = None;
            }
        });
        Ok(Response::new(UnboundedReceiverStream::new(receiver)))
    }
}

/// A running test controller.
pub struct TestController {
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<Event>,
    service: Service,
    kill: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestController {
    /// Listens on `127.0.0.1:0`.
    pub fn start(tls: Option<ServerTlsConfig>) -> Self {
        let (sender, events) = mpsc::unbounded_channel();
        let service = Service { events: sender, current: Arc::default(), streams: Arc::default(), auto_ack: true };
        let mut controller =
            TestController { addr: "127.0.0.1:0".parse().unwrap(), events, service, kill: None, thread: None };
        controller.listen(tls);
        controller
    }

    fn listen(&mut self, tls: Option<ServerTlsConfig>) {
        let listener = std::net::TcpListener::bind(self.addr).unwrap();
        listener.set_nonblocking(true).unwrap();
        self.addr = listener.local_addr().unwrap();
        let (kill, killed) = oneshot::channel::<()>();
        let service = AgentServiceServer::new(self.service.clone());
        self.thread = Some(std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let incoming = TcpListenerStream::new(tokio::net::TcpListener::from_std(listener).unwrap());
                let mut server = Server::builder();
                if let Some(tls) = tls {
                    let _ = rustls::crypto::ring::default_provider().install_default();
                    server = server.tls_config(tls).unwrap();
                }
                tokio::select! {
                    served = server.serve_with_incoming(service, incoming) => served.unwrap(),
                    _ = killed => {}
                }
            });
            // Dropping the runtime drops every connection task: a crash, not a drain.
        }));
        self.kill = Some(kill);
    }

    /// The address agents dial.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops abruptly, dropping every connection; the port stays free for [`Self::restart`].
    pub fn kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        *self.service.current.lock().unwrap() = None;
    }

    /// Listens again on the same port.
    pub fn restart(&mut self, tls: Option<ServerTlsConfig>) {
        self.listen(tls);
    }

    /// The next event within `timeout`.
    pub async fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        tokio::time::timeout(timeout, self.events.recv()).await.ok().flatten()
    }

    /// The next message (skipping other events) within `timeout`, with its stream number.
    pub async fn next_message(&mut self, timeout: Duration) -> Option<(u64, AgentMessage)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next_event(left).await? {
                Event::Message(stream, message) => return Some((stream, message)),
                _ => continue,
            }
        }
    }

    /// Sends `message` on the newest open stream; false if there is none.
    pub fn send(&self, message: ControllerMessage) -> bool {
        let current = self.service.current.lock().unwrap();
        current.as_ref().is_some_and(|(_, outbound)| outbound.send(Ok(message)).is_ok())
    }

    /// Sends a configuration on the newest open stream.
    pub fn send_config(&self, config: AgentConfig) -> bool {
        self.send(ControllerMessage { body: Some(controller_message::Body::Config(config)) })
    }
}

impl Drop for TestController {
    fn drop(&mut self) {
        self.kill();
    }
}
