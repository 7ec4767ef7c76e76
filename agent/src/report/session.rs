//! One stream to the controller, from dialing to its end.
//!
//! Sends `Hello` and the full inventory first, then, for every new snapshot, either a new
//! inventory (devices appeared, disappeared or changed) or one `HealthChange` per device whose
//! health changed, followed by a utilisation sample when enabled. Reads acknowledgements (checked
//! against what was sent) and configuration (validated, then applied to the shared settings).
//! Outgoing messages queue in a bounded buffer; a controller that stops reading until it fills is
//! treated as lost, and the reconnect sends everything afresh.

use std::sync::Arc;
use std::time::Duration;

use tidepool_proto::agent::agent_message::Body;
use tidepool_proto::agent::agent_service_client::AgentServiceClient;
use tidepool_proto::agent::controller_message;
use tidepool_proto::agent::{self as api, AgentConfig, AgentMessage, ControllerMessage};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Streaming;
use tonic::transport::Endpoint;
use tracing::{debug, info, warn};

use super::convert;
use crate::device::Device;
use crate::inventory::{Snapshot, diff};
use crate::plugin::naming::Naming;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Messages that may wait to be sent before the controller counts as not reading.
const OUTBOX: usize = 256;

/// How long the controller may take to accept a dialed stream.
const ACCEPT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a closing stream waits for the controller to end its side.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Why a stream ended other than by shutdown.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The controller could not be dialed.
    #[error("cannot connect: {0}")]
    Connect(#[from] tonic::transport::Error),
    /// The controller did not accept the stream in time.
    #[error("the controller did not answer within {0:?}")]
    Timeout(Duration),
    /// The controller refused the stream or broke it.
    #[error("stream failed: {0}")]
    Stream(#[from] tonic::Status),
    /// The controller ended the stream.
    #[error("the controller closed the stream")]
    Closed,
    /// The controller sent something impossible.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The controller stopped reading and the outgoing buffer filled up.
    #[error("the controller is not reading ({OUTBOX} messages waiting)")]
    Backlog,
}

/// What the agent says about itself in `Hello`.
#[derive(Clone, Debug)]
pub struct Identity {
    /// The Kubernetes node name.
    pub node_name: String,
    /// The agent's version.
    pub agent_version: String,
    /// The backends read.
    pub backends: Vec<String>,
}

/// One stream's state.
pub struct Session {
    outbox: Option<mpsc::Sender<AgentMessage>>,
    sequence: u64,
    acked: u64,
    sent: Arc<[Device]>,
    naming: Option<Arc<Naming>>,
}

impl Session {
    /// A session that will name devices' resources with `naming` (when serving kubelet).
    pub fn new(naming: Option<Arc<Naming>>) -> Self {
        Session { outbox: None, sequence: 0, acked: 0, sent: Arc::from([]), naming }
    }

    /// The highest sequence number the controller acknowledged.
    pub fn acked(&self) -> u64 {
        self.acked
    }

    /// Dials `endpoint` and runs the stream until it breaks (an error) or `shutdown` (`Ok`).
    pub async fn run(
        &mut self,
        endpoint: &Endpoint,
        identity: &Identity,
        snapshots: &mut watch::Receiver<Snapshot>,
        settings: &watch::Sender<Settings>,
        shutdown: &Shutdown,
    ) -> Result<(), SessionError> {
        let channel = tokio::select! {
            channel = endpoint.connect() => channel?,
            () = shutdown.wait() => return Ok(()),
        };
        let (sender, receiver) = mpsc::channel(OUTBOX);
        self.outbox = Some(sender);
        let current = settings.borrow().to_owned();
        self.send(Body::Hello(api::Hello {
            node_name: identity.node_name.clone(),
            agent_version: identity.agent_version.clone(),
            backends: identity.backends.clone(),
            sampling_interval_ms: u64::try_from(current.sampling_interval.as_millis()).unwrap_or(u64::MAX),
        }))?;
        let snapshot = snapshots.borrow_and_update().clone();
        self.send_inventory(&snapshot)?;

        let mut client = AgentServiceClient::new(channel);
        let call = client.connect(ReceiverStream::new(receiver));
        let mut inbound = tokio::select! {
            answer = tokio::time::timeout(ACCEPT_TIMEOUT, call) => {
                answer.map_err(|_| SessionError::Timeout(ACCEPT_TIMEOUT))??.into_inner()
            }
            () = shutdown.wait() => return Ok(()),
        };
        info!(endpoint = %endpoint.uri(), devices = snapshot.devices.len(), "connected to the controller");
        loop {
            tokio::select! {
                message = inbound.message() => match message? {
                    Some(message) => self.receive(message, settings)?,
                    None => return Err(SessionError::Closed),
                },
                changed = snapshots.changed() => {
                    if changed.is_err() {
                        return self.close(inbound).await;
                    }
                    let snapshot = snapshots.borrow_and_update().clone();
                    self.report(&snapshot, settings.borrow().utilisation_enabled)?;
                }
                () = shutdown.wait() => return self.close(inbound).await,
            }
        }
    }

    /// Ends our side of the stream and gives the controller a moment to end its own.
    async fn close(&mut self, mut inbound: Streaming<ControllerMessage>) -> Result<(), SessionError> {
        self.outbox = None;
        let drained = tokio::time::timeout(CLOSE_TIMEOUT, async { while let Ok(Some(_)) = inbound.message().await {} });
        if drained.await.is_err() {
            debug!("the controller did not close its side in time");
        }
        Ok(())
    }

    fn send(&mut self, body: Body) -> Result<(), SessionError> {
        let outbox = self.outbox.as_ref().ok_or(SessionError::Closed)?;
        let message = AgentMessage { sequence: self.sequence + 1, body: Some(body) };
        outbox.try_send(message).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => SessionError::Backlog,
            mpsc::error::TrySendError::Closed(_) => SessionError::Closed,
        })?;
        self.sequence += 1;
        Ok(())
    }

    fn send_inventory(&mut self, snapshot: &Snapshot) -> Result<(), SessionError> {
        let naming = self.naming.as_deref();
        let devices = snapshot.devices.iter().map(|device| convert::device(device, naming)).collect();
        self.send(Body::Inventory(api::Inventory { devices, observed_at_unix_ms: snapshot.observed_at_unix_ms }))?;
        self.sent = Arc::clone(&snapshot.devices);
        Ok(())
    }

    /// Sends what changed since the last snapshot sent.
    fn report(&mut self, snapshot: &Snapshot, utilisation_enabled: bool) -> Result<(), SessionError> {
        let changes = diff(&self.sent, &snapshot.devices);
        if changes.inventory_changed {
            self.send_inventory(snapshot)?;
        } else {
            for position in changes.health_changed {
                let device = &snapshot.devices[position];
                self.send(Body::HealthChange(api::HealthChange {
                    device_id: device.id(),
                    health: Some(convert::health(device)),
                    observed_at_unix_ms: snapshot.observed_at_unix_ms,
                }))?;
            }
            self.sent = Arc::clone(&snapshot.devices);
        }
        if utilisation_enabled {
            let sample = convert::utilisation(&snapshot.devices, snapshot.observed_at_unix_ms);
            if !sample.devices.is_empty() {
                self.send(Body::Utilisation(sample))?;
            }
        }
        Ok(())
    }

    fn receive(&mut self, message: ControllerMessage, settings: &watch::Sender<Settings>) -> Result<(), SessionError> {
        match message.body {
            Some(controller_message::Body::Ack(ack)) => {
                if ack.up_to_sequence > self.sequence {
                    return Err(SessionError::Protocol(format!(
                        "acknowledgement of message {} but only {} were sent",
                        ack.up_to_sequence, self.sequence
                    )));
                }
                self.acked = self.acked.max(ack.up_to_sequence);
                debug!(acked = self.acked, sent = self.sequence, "acknowledged");
            }
            Some(controller_message::Body::Config(config)) => apply(&config, settings),
            // A message type newer than this agent: nothing to do with it.
            None => debug!("ignoring a controller message of an unknown kind"),
        }
        Ok(())
    }
}

/// Applies the valid parts of `config` to `settings`; logs and skips the rest.
fn apply(config: &AgentConfig, settings: &watch::Sender<Settings>) {
    let mut next = *settings.borrow();
    if let Some(ms) = config.sampling_interval_ms {
        match next.with_sampling_interval(Duration::from_millis(ms)) {
            Ok(updated) => next = updated,
            Err(error) => warn!(%error, "ignoring the controller's sampling interval"),
        }
    }
    if let Some(enabled) = config.utilisation_enabled {
        next.utilisation_enabled = enabled;
    }
    if settings.send_if_modified(|current| {
        let changed = *current != next;
        *current = next;
        changed
    }) {
        info!(
            sampling_interval = ?next.sampling_interval,
            utilisation = next.utilisation_enabled,
            "applied configuration from the controller"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_applies_valid_fields_and_skips_invalid_ones() {
        let (settings, _keep) = watch::channel(Settings::new(Duration::from_secs(1)).unwrap());
        apply(&AgentConfig { sampling_interval_ms: Some(250), utilisation_enabled: Some(false) }, &settings);
        assert_eq!(
            *settings.borrow(),
            Settings { sampling_interval: Duration::from_millis(250), utilisation_enabled: false }
        );
        apply(&AgentConfig { sampling_interval_ms: Some(0), utilisation_enabled: Some(true) }, &settings);
        assert_eq!(
            *settings.borrow(),
            Settings { sampling_interval: Duration::from_millis(250), utilisation_enabled: true }
        );
    }

    #[test]
    fn acks_beyond_what_was_sent_are_protocol_errors() {
        let (settings, _keep) = watch::channel(Settings::new(Duration::from_secs(1)).unwrap());
        let (sender, _receiver) = mpsc::channel(4);
        let mut session = Session::new(None);
        session.outbox = Some(sender);
        session.send(Body::Hello(api::Hello::default())).unwrap();
        let ack = |n| ControllerMessage { body: Some(controller_message::Body::Ack(api::Ack { up_to_sequence: n })) };
        session.receive(ack(1), &settings).unwrap();
        assert_eq!(session.acked(), 1);
        assert!(matches!(session.receive(ack(2), &settings), Err(SessionError::Protocol(_))));
        session.receive(ControllerMessage { body: None }, &settings).unwrap();
    }

    #[test]
    fn a_full_outbox_is_a_lost_controller() {
        let (sender, _receiver) = mpsc::channel(1);
        let mut session = Session::new(None);
        session.outbox = Some(sender);
        session.send(Body::Hello(api::Hello::default())).unwrap();
        assert!(matches!(session.send(Body::Hello(api::Hello::default())), Err(SessionError::Backlog)));
        assert_eq!(session.sequence, 1);
    }
}
