//! The registry of nodes whose agents have spoken: each node's latest inventory, health and
//! utilisation, when it was last heard, and the live stream to push configuration on.
//!
//! A node is *heard* while its stream is open (HTTP/2 keepalive, set by the server, closes the
//! streams of agents that stop answering) and at every message; once its stream is gone for longer
//! than the timeout, the node is *stale* and [`Registry::inventories`] marks all its devices
//! unavailable. Nodes are never forgotten here: a stale node stays listed until its agent returns.
//! A new stream from a node supersedes the old one, whose later messages are refused, and its
//! inventory replaces the old one.
//!
//! Time is always passed in; the registry never reads a clock.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use tidepool_proto::agent::agent_message::Body;
use tidepool_proto::agent::{AgentConfig, ControllerMessage, Hello, controller_message};
use tokio::sync::{Notify, mpsc};
use tonic::Status;
use tracing::warn;

use super::inventory::{self, DeviceRecord, InventoryDevice, NodeInventory, Utilisation};

/// Where a stream's controller messages go (the gRPC response stream).
pub type Outbound = mpsc::Sender<Result<ControllerMessage, Status>>;

/// Identifies one stream over the registry's life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId(u64);

/// A message for a stream that a newer stream from the same node has replaced.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("node {node:?} has a newer stream")]
pub struct Superseded {
    /// The node.
    pub node: String,
}

/// What the registry knows of one node, for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStatus {
    /// The node name.
    pub node: String,
    /// The agent's version, from its latest hello.
    pub agent_version: String,
    /// The backends the agent reads.
    pub backends: Vec<String>,
    /// The sampling interval the agent reported in its latest hello, in milliseconds.
    pub hello_sampling_interval_ms: u64,
    /// The devices, with health and latest utilisation.
    pub devices: Vec<DeviceRecord>,
    /// Whether a stream from the agent is open.
    pub connected: bool,
    /// When the agent was last heard (its last message, or the end of its stream).
    pub last_heard: Timestamp,
}

/// Counts of nodes, for metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentCounts {
    /// Nodes with an open stream.
    pub connected: usize,
    /// Nodes silent past the timeout.
    pub stale: usize,
}

struct Live {
    id: StreamId,
    outbound: Outbound,
}

struct Node {
    hello: Hello,
    devices: Vec<DeviceRecord>,
    last_heard: Timestamp,
    live: Option<Live>,
}

impl Node {
    fn heard_at(&self, now: Timestamp) -> Timestamp {
        if self.live.is_some() { now } else { self.last_heard }
    }

    fn stale(&self, now: Timestamp, timeout: Duration) -> bool {
        let silent = now.duration_since(self.heard_at(now));
        silent.is_positive() && silent.unsigned_abs() > timeout
    }
}

#[derive(Default)]
struct State {
    nodes: BTreeMap<String, Node>,
    next_stream: u64,
}

/// The registry; shared by the gRPC service (writing) and the scheduling loop (reading).
pub struct Registry {
    state: Mutex<State>,
    timeout: Duration,
    changed: Notify,
}

impl Registry {
    /// An empty registry whose nodes go stale after `timeout` without their agent.
    pub fn new(timeout: Duration) -> Self {
        Registry { state: Mutex::default(), timeout, changed: Notify::new() }
    }

    /// Completes once an inventory or a device's health has changed since the last call
    /// (utilisation samples do not count). A node going stale is a matter of time passing,
    /// which the caller's own timer covers.
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// How long a node may be without its agent before it is stale.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update below leaves the state consistent, so a panic elsewhere cannot corrupt it.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers a new stream from `hello.node_name`, superseding any earlier one from the node
    /// (its devices stay until the new stream's inventory replaces them).
    pub fn attach(&self, hello: Hello, outbound: Outbound, now: Timestamp) -> StreamId {
        let mut state = self.lock();
        state.next_stream += 1;
        let id = StreamId(state.next_stream);
        let live = Some(Live { id, outbound });
        match state.nodes.get_mut(&hello.node_name) {
            Some(node) => {
                if node.live.is_some() {
                    // A reconnect before the old connection was noticed dead, or two agents
                    // claiming one node: the newest wins either way.
                    warn!(node = hello.node_name, "a new stream replaces the node's open stream");
                }
                node.hello = hello;
                node.last_heard = now;
                node.live = live;
            }
            None => {
                let node = Node { hello: hello.clone(), devices: Vec::new(), last_heard: now, live };
                state.nodes.insert(hello.node_name, node);
            }
        }
        id
    }

    /// Records a report from stream `id` of `node`.
    pub fn record(&self, node: &str, id: StreamId, body: Body, now: Timestamp) -> Result<(), Superseded> {
        let mut state = self.lock();
        let entry = match state.nodes.get_mut(node) {
            Some(entry) if entry.live.as_ref().is_some_and(|live| live.id == id) => entry,
            _ => return Err(Superseded { node: node.to_owned() }),
        };
        entry.last_heard = now;
        match body {
            // The protocol checks allow a hello only first, which `attach` took.
            Body::Hello(_) => {}
            Body::Inventory(wire) => {
                self.changed.notify_one();
                entry.devices = wire
                    .devices
                    .iter()
                    .filter_map(|device| {
                        inventory::device(device)
                            .inspect_err(|error| warn!(node, %error, "ignoring a device the controller cannot use"))
                            .ok()
                    })
                    .collect();
            }
            Body::HealthChange(change) => match entry.devices.iter_mut().find(|device| device.id == change.device_id) {
                Some(device) => {
                    device.health = inventory::health(change.health.as_ref());
                    self.changed.notify_one();
                }
                None => warn!(node, device = change.device_id, "health change for a device not in the inventory"),
            },
            Body::Utilisation(sample) => {
                for reading in sample.devices {
                    if let Some(device) = entry.devices.iter_mut().find(|device| device.id == reading.device_id) {
                        device.utilisation = Some(Utilisation {
                            percent: reading.utilisation_percent,
                            memory_used_mib: reading.memory_used_mib,
                            observed_at_unix_ms: sample.observed_at_unix_ms,
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Notes that stream `id` of `node` ended; nothing happens if a newer stream replaced it.
    pub fn detach(&self, node: &str, id: StreamId, now: Timestamp) {
        let mut state = self.lock();
        if let Some(entry) = state.nodes.get_mut(node)
            && entry.live.as_ref().is_some_and(|live| live.id == id)
        {
            entry.live = None;
            entry.last_heard = now;
        }
    }

    /// Every node's devices as the scheduler should see them at `now`, by node name: a stale
    /// node's devices are all unavailable, with the reason.
    pub fn inventories(&self, now: Timestamp) -> Vec<NodeInventory> {
        let state = self.lock();
        state
            .nodes
            .iter()
            .map(|(name, node)| {
                let stale = node.stale(now, self.timeout);
                let devices = node
                    .devices
                    .iter()
                    .map(|device| {
                        let view = device.view();
                        if stale {
                            let reason = format!("agent silent since {:.0}", node.last_heard);
                            InventoryDevice { healthy: false, reason: Some(reason), ..view }
                        } else {
                            view
                        }
                    })
                    .collect();
                NodeInventory { node: name.clone(), devices, stale }
            })
            .collect()
    }

    /// How many nodes are connected and how many are stale at `now`.
    pub fn counts(&self, now: Timestamp) -> AgentCounts {
        let state = self.lock();
        state.nodes.values().fold(AgentCounts::default(), |mut counts, node| {
            counts.connected += usize::from(node.live.is_some());
            counts.stale += usize::from(node.stale(now, self.timeout));
            counts
        })
    }

    /// Everything known of `node`.
    pub fn node(&self, node: &str) -> Option<NodeStatus> {
        let state = self.lock();
        state.nodes.get(node).map(|entry| NodeStatus {
            node: node.to_owned(),
            agent_version: entry.hello.agent_version.clone(),
            backends: entry.hello.backends.clone(),
            hello_sampling_interval_ms: entry.hello.sampling_interval_ms,
            devices: entry.devices.clone(),
            connected: entry.live.is_some(),
            last_heard: entry.last_heard,
        })
    }

    /// Sends `config` to `node`'s agent now; false when it has no open stream or its stream is
    /// not reading. Not remembered: an agent that reconnects starts from its own settings.
    pub fn push_config(&self, node: &str, config: AgentConfig) -> bool {
        let state = self.lock();
        state.nodes.get(node).and_then(|entry| entry.live.as_ref()).is_some_and(|live| send_config(live, config))
    }

    /// Sends `config` to every connected agent; returns how many took it.
    pub fn push_config_all(&self, config: AgentConfig) -> usize {
        let state = self.lock();
        state.nodes.values().filter_map(|entry| entry.live.as_ref()).filter(|live| send_config(live, config)).count()
    }
}

fn send_config(live: &Live, config: AgentConfig) -> bool {
    let message = ControllerMessage { body: Some(controller_message::Body::Config(config)) };
    live.outbound.try_send(Ok(message)).is_ok()
}

#[cfg(test)]
mod tests {
    use tidepool_crds::Family;
    use tidepool_proto::agent as api;

    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    fn hello(node: &str) -> Hello {
        Hello { node_name: node.into(), agent_version: "1".into(), ..Hello::default() }
    }

    fn gpu(id: &str, healthy: bool) -> api::Device {
        api::Device {
            id: id.into(),
            family: api::Family::Nvidia.into(),
            model: "nvidia-h100-80g".into(),
            health: Some(api::Health { healthy, state: if healthy { "Healthy" } else { "Lost" }.into(), reason: None }),
            ..api::Device::default()
        }
    }

    fn inventory(devices: Vec<api::Device>) -> Body {
        Body::Inventory(api::Inventory { devices, observed_at_unix_ms: 0 })
    }

    fn attach(
        registry: &Registry,
        node: &str,
        now: Timestamp,
    ) -> (StreamId, mpsc::Receiver<Result<ControllerMessage, Status>>) {
        let (sender, receiver) = mpsc::channel(4);
        (registry.attach(hello(node), sender, now), receiver)
    }

    #[test]
    fn inventories_health_and_utilisation_are_recorded() {
        let registry = Registry::new(TIMEOUT);
        let (id, _receiver) = attach(&registry, "a", at(0));
        registry.record("a", id, inventory(vec![gpu("g0", true), gpu("g1", true)]), at(1)).unwrap();
        let change = api::HealthChange {
            device_id: "g1".into(),
            health: Some(api::Health { healthy: false, state: "Xid".into(), reason: Some("XID 79".into()) }),
            observed_at_unix_ms: 0,
        };
        registry.record("a", id, Body::HealthChange(change), at(2)).unwrap();
        let reading =
            api::DeviceUtilisation { device_id: "g0".into(), utilisation_percent: Some(40), memory_used_mib: None };
        let sample = api::UtilisationSample { observed_at_unix_ms: 7, devices: vec![reading] };
        registry.record("a", id, Body::Utilisation(sample), at(3)).unwrap();

        let views = registry.inventories(at(4));
        assert_eq!(views.len(), 1);
        assert!(!views[0].stale);
        let devices = &views[0].devices;
        assert_eq!((devices[0].family, devices[0].healthy, devices[1].healthy), (Family::Nvidia, true, false));
        assert_eq!(devices[1].reason.as_deref(), Some("XID 79"));
        let status = registry.node("a").unwrap();
        assert_eq!(status.devices[0].utilisation.map(|u| (u.percent, u.observed_at_unix_ms)), Some((Some(40), 7)));
        assert_eq!(status.last_heard, at(3));
    }

    #[test]
    fn a_node_goes_stale_only_after_its_stream_ends_and_the_timeout_passes() {
        let registry = Registry::new(TIMEOUT);
        let (id, _receiver) = attach(&registry, "a", at(0));
        registry.record("a", id, inventory(vec![gpu("g0", true)]), at(0)).unwrap();
        // An open stream counts as heard, however quiet.
        assert!(!registry.inventories(at(1000))[0].stale);
        registry.detach("a", id, at(1000));
        assert_eq!(registry.counts(at(1030)), AgentCounts { connected: 0, stale: 0 });
        let stale = &registry.inventories(at(1031))[0];
        assert!(stale.stale);
        assert!(!stale.devices[0].healthy);
        assert_eq!(stale.devices[0].reason.as_deref(), Some("agent silent since 1970-01-01T00:16:40Z"));
        assert_eq!(registry.counts(at(1031)), AgentCounts { connected: 0, stale: 1 });
    }

    #[test]
    fn a_new_stream_supersedes_the_old_and_replaces_the_inventory() {
        let registry = Registry::new(TIMEOUT);
        let (old, _old_receiver) = attach(&registry, "a", at(0));
        registry.record("a", old, inventory(vec![gpu("g0", true), gpu("g1", true)]), at(0)).unwrap();
        let (new, _new_receiver) = attach(&registry, "a", at(5));
        assert_eq!(registry.record("a", old, inventory(vec![]), at(6)), Err(Superseded { node: "a".into() }));
        // The old stream ending does not disconnect the node.
        registry.detach("a", old, at(6));
        assert!(registry.node("a").unwrap().connected);
        registry.record("a", new, inventory(vec![gpu("g9", true)]), at(7)).unwrap();
        let devices: Vec<_> = registry.inventories(at(8))[0].devices.iter().map(|d| d.id.clone()).collect();
        assert_eq!(devices, ["g9"]);
        assert!(registry.record("b", new, inventory(vec![]), at(8)).is_err());
    }

    #[test]
    fn configuration_reaches_live_streams_only() {
        let registry = Registry::new(TIMEOUT);
        let (a, mut a_receiver) = attach(&registry, "a", at(0));
        let (_b, mut b_receiver) = attach(&registry, "b", at(0));
        let config = AgentConfig { sampling_interval_ms: Some(500), utilisation_enabled: None };
        assert!(registry.push_config("a", config));
        assert!(!registry.push_config("nobody", config));
        let Ok(ControllerMessage { body: Some(controller_message::Body::Config(got)) }) =
            a_receiver.try_recv().unwrap()
        else {
            panic!("not a configuration")
        };
        assert_eq!(got, config);
        registry.detach("a", a, at(1));
        assert_eq!(registry.push_config_all(config), 1);
        assert!(b_receiver.try_recv().is_ok());
        assert!(a_receiver.try_recv().is_err());
    }
}
