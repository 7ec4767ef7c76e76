//! The `tidepool.agent.v1.AgentService` implementation: one task per agent stream that checks each
//! message against the protocol, records it in the [`Registry`] and acknowledges it.
//!
//! Acknowledgements are sent after the message is recorded, one per message. A stream that breaks
//! the protocol, or that a newer stream from the same node replaced, ends with an error status;
//! the agent dials again and starts over. This module does not listen on sockets (see
//! [`super::server`]).

use std::sync::Arc;

use tidepool_proto::agent::agent_service_server::AgentService;
use tidepool_proto::agent::{Ack, AgentMessage, ControllerMessage, controller_message};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use tracing::{debug, info, warn};

use super::protocol::{Checked, StreamRules};
use super::registry::{Outbound, Registry, StreamId};
use crate::clock::Clock;

/// Controller messages that may wait for an agent to read them (acknowledgements and
/// configuration); a configuration pushed to a fuller stream is refused.
const OUTBOX: usize = 64;

/// The gRPC service agents stream to.
#[derive(Clone)]
pub struct AgentStreams {
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    closing: watch::Receiver<bool>,
}

impl AgentStreams {
    /// A service recording into `registry`, stamping what it hears with `clock`.
    pub fn new(registry: Arc<Registry>, clock: Arc<dyn Clock>) -> Self {
        let (_, closing) = watch::channel(false);
        AgentStreams { registry, clock, closing }
    }

    /// Ends every open stream with `UNAVAILABLE` once `closing` turns true, so a stopping
    /// controller does not wait on agents (they reconnect, to another replica if there is one).
    pub fn closing_on(self, closing: watch::Receiver<bool>) -> Self {
        AgentStreams { closing, ..self }
    }
}

#[tonic::async_trait]
impl AgentService for AgentStreams {
    type ConnectStream = ReceiverStream<Result<ControllerMessage, Status>>;

    async fn connect(
        &self,
        request: Request<Streaming<AgentMessage>>,
    ) -> Result<Response<Self::ConnectStream>, Status> {
        let peer = request.remote_addr();
        let inbound = request.into_inner();
        let (outbound, receiver) = mpsc::channel(OUTBOX);
        let (registry, clock, closing) = (Arc::clone(&self.registry), Arc::clone(&self.clock), self.closing.clone());
        tokio::spawn(serve_stream(inbound, outbound, registry, clock, closing, peer));
        Ok(Response::new(ReceiverStream::new(receiver)))
    }
}

/// Reads one agent stream to its end.
async fn serve_stream(
    mut inbound: Streaming<AgentMessage>,
    outbound: Outbound,
    registry: Arc<Registry>,
    clock: Arc<dyn Clock>,
    mut closing: watch::Receiver<bool>,
    peer: Option<std::net::SocketAddr>,
) {
    let mut rules = StreamRules::default();
    let mut attached: Option<(String, StreamId)> = None;
    let ending = loop {
        let received = tokio::select! {
            received = inbound.message() => received,
            _ = closing.wait_for(|closing| *closing) => break Some(Status::unavailable("the controller is stopping")),
        };
        let message = match received {
            Ok(Some(message)) => message,
            Ok(None) => break None,
            Err(status) => {
                debug!(?peer, %status, "agent stream broke");
                break None;
            }
        };
        let checked = match rules.check(message) {
            Ok(checked) => checked,
            Err(error) => break Some(Status::invalid_argument(error.to_string())),
        };
        let now = clock.now();
        match (checked, &attached) {
            (Checked::Hello(hello), _) => {
                let node = hello.node_name.clone();
                info!(node, ?peer, version = hello.agent_version, backends = ?hello.backends, "agent connected");
                attached = Some((node, registry.attach(hello, outbound.clone(), now)));
            }
            (Checked::Report(Some(body)), Some((node, id))) => {
                if let Err(superseded) = registry.record(node, *id, body, now) {
                    break Some(Status::aborted(superseded.to_string()));
                }
            }
            // A kind of report newer than this controller: acknowledged, nothing to record.
            (Checked::Report(None), _) => debug!(?peer, "ignoring an agent message of an unknown kind"),
            // The protocol rules admit reports only after the hello.
            (Checked::Report(Some(_)), None) => break Some(Status::internal("report before hello")),
        }
        let ack = controller_message::Body::Ack(Ack { up_to_sequence: rules.last_sequence() });
        if outbound.send(Ok(ControllerMessage { body: Some(ack) })).await.is_err() {
            // The agent's side of the response is gone: nobody to talk to.
            break None;
        }
    };
    if let Some(status) = ending {
        warn!(?peer, node = attached.as_ref().map(|(node, _)| node.as_str()), %status, "ending an agent stream");
        // Best effort: the agent may already be gone.
        let _ = outbound.send(Err(status)).await;
    }
    if let Some((node, id)) = attached {
        registry.detach(&node, id, clock.now());
        info!(node, "agent stream ended");
    }
}
