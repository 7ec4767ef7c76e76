//! The controller's agent server against the real `tidepool-agent` reporter (fake backend) over
//! plaintext gRPC on loopback: inventory, health, staleness, reconnection, configuration, and
//! refusals of streams that break the protocol.

mod peers;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;

use peers::{Controller, NODE, RunningAgent, eventually, nvidia, write_inventory};
use tidepool_controller::agents::Transport;
use tidepool_controller::{Clock, ManualClock, SystemClock};
use tidepool_crds::Family;
use tidepool_proto::agent::agent_message::Body;
use tidepool_proto::agent::agent_service_client::AgentServiceClient;
use tidepool_proto::agent::{AgentConfig, AgentMessage, Hello, Inventory, controller_message};

const WAIT: Duration = Duration::from_secs(10);

fn devices_of(controller: &Controller) -> usize {
    controller.registry.node(NODE).map_or(0, |node| node.devices.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_and_health_changes_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.json");
    let mut devices = nvidia(3);
    write_inventory(&file, &devices);
    let controller =
        Controller::start(Transport::InsecurePlaintext, Duration::from_secs(30), Arc::new(SystemClock)).await;
    let agent = RunningAgent::start(&file, format!("http://{}", controller.addr), None, Duration::from_millis(100));

    assert!(eventually(WAIT, || devices_of(&controller) == 3).await, "the inventory never arrived");
    let status = controller.registry.node(NODE).unwrap();
    assert!(status.connected);
    assert_eq!((status.agent_version.as_str(), status.backends.as_slice()), ("0.1.0-test", &["fake".to_owned()][..]));
    let first = &status.devices[0];
    assert_eq!((first.id.as_str(), first.family, first.memory_mib), ("GPU-0", Family::Nvidia, 81920));
    assert_eq!(first.peers, [1, 2]);
    let inventories = controller.registry.inventories(Timestamp::now());
    assert_eq!(inventories.len(), 1);
    assert!(!inventories[0].stale);
    assert!(inventories[0].devices.iter().all(|device| device.healthy && device.reason.is_none()));

    devices[1]["health"] = "Unhealthy".into();
    devices[1]["health_reason"] = "XID 79 (test)".into();
    write_inventory(&file, &devices);
    let unhealthy = || {
        let inventories = controller.registry.inventories(Timestamp::now());
        inventories[0]
            .devices
            .iter()
            .any(|device| device.id == "GPU-1" && !device.healthy && device.reason.as_deref() == Some("XID 79 (test)"))
    };
    assert!(eventually(WAIT, unhealthy).await, "the health change never arrived");
    let views = controller.registry.inventories(Timestamp::now());
    assert!(views[0].devices[0].healthy && views[0].devices[2].healthy);
    agent.stop().await;
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_agent_goes_stale_and_a_reconnected_one_is_fresh_with_its_new_inventory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.json");
    write_inventory(&file, &nvidia(2));
    let timeout = Duration::from_secs(30);
    let clock = Arc::new(ManualClock::new(Timestamp::now()));
    let controller = Controller::start(Transport::InsecurePlaintext, timeout, clock.clone()).await;
    let address = format!("http://{}", controller.addr);
    let agent = RunningAgent::start(&file, address.clone(), None, Duration::from_millis(100));
    assert!(eventually(WAIT, || devices_of(&controller) == 2).await, "the inventory never arrived");

    agent.stop().await;
    let disconnected = || controller.registry.node(NODE).is_some_and(|node| !node.connected);
    assert!(eventually(WAIT, disconnected).await, "the stream never ended");
    let silent_since = controller.registry.node(NODE).unwrap().last_heard;
    // Within the timeout the node is still fresh.
    clock.advance(timeout.as_secs() as i64);
    assert!(!controller.registry.inventories(clock.now())[0].stale);
    assert_eq!(controller.registry.counts(clock.now()).stale, 0);
    clock.advance(1);
    let stale = controller.registry.inventories(clock.now()).remove(0);
    assert!(stale.stale);
    let reason = format!("agent silent since {silent_since:.0}");
    assert_eq!(stale.devices.len(), 2);
    assert!(stale.devices.iter().all(|device| !device.healthy && device.reason.as_deref() == Some(reason.as_str())));
    assert_eq!(controller.registry.counts(clock.now()).stale, 1);

    // While away the node lost a device; the new stream's inventory replaces the old one.
    write_inventory(&file, &nvidia(1));
    let agent = RunningAgent::start(&file, address, None, Duration::from_millis(100));
    let fresh = || {
        let inventories = controller.registry.inventories(clock.now());
        !inventories[0].stale && inventories[0].devices.len() == 1 && inventories[0].devices[0].healthy
    };
    assert!(eventually(WAIT, fresh).await, "the reconnected node never became fresh");
    assert_eq!(controller.registry.counts(clock.now()).connected, 1);
    agent.stop().await;
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_configuration_changes_the_agents_sampling_interval() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.json");
    write_inventory(&file, &nvidia(1));
    let controller =
        Controller::start(Transport::InsecurePlaintext, Duration::from_secs(30), Arc::new(SystemClock)).await;
    let agent = RunningAgent::start(&file, format!("http://{}", controller.addr), None, Duration::from_secs(5));
    assert!(eventually(WAIT, || devices_of(&controller) == 1).await, "the inventory never arrived");
    assert_eq!(controller.registry.node(NODE).unwrap().hello_sampling_interval_ms, 5000);

    // Distinct utilisation samples seen in `window`.
    let samples_in = |window: Duration| {
        let registry = Arc::clone(&controller.registry);
        async move {
            let mut seen = std::collections::BTreeSet::new();
            let deadline = tokio::time::Instant::now() + window;
            while tokio::time::Instant::now() < deadline {
                if let Some(utilisation) = registry.node(NODE).and_then(|node| node.devices[0].utilisation) {
                    seen.insert(utilisation.observed_at_unix_ms);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            seen.len()
        }
    };
    assert!(samples_in(Duration::from_millis(1500)).await <= 1, "sampling faster than 5 s before the push");
    let config = AgentConfig { sampling_interval_ms: Some(100), utilisation_enabled: None };
    assert!(controller.registry.push_config(NODE, config));
    assert!(!controller.registry.push_config("no-such-node", config));
    let seen = samples_in(Duration::from_millis(1500)).await;
    assert!(seen >= 5, "only {seen} samples in 1.5 s after asking for 100 ms");
    // Switching utilisation off for every agent stops the samples.
    assert_eq!(
        controller
            .registry
            .push_config_all(AgentConfig { sampling_interval_ms: None, utilisation_enabled: Some(false) }),
        1
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(samples_in(Duration::from_millis(800)).await <= 1, "samples kept coming with utilisation off");
    agent.stop().await;
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_is_acknowledged_and_protocol_breaches_end_the_stream() {
    let controller =
        Controller::start(Transport::InsecurePlaintext, Duration::from_secs(30), Arc::new(SystemClock)).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", controller.addr)).unwrap();
    let mut client = AgentServiceClient::new(channel.connect().await.unwrap());

    let hello = Body::Hello(Hello { node_name: "raw-node".into(), ..Hello::default() });
    let messages = vec![
        AgentMessage { sequence: 1, body: Some(hello) },
        AgentMessage { sequence: 2, body: Some(Body::Inventory(Inventory::default())) },
        // A kind newer than the controller: acknowledged, ignored.
        AgentMessage { sequence: 3, body: None },
        // Out of order: the stream ends with an error.
        AgentMessage { sequence: 5, body: Some(Body::Inventory(Inventory::default())) },
    ];
    let mut inbound = client.connect(tokio_stream::iter(messages)).await.unwrap().into_inner();
    for expected in 1..=3 {
        let message = inbound.message().await.unwrap().expect("an acknowledgement");
        let Some(controller_message::Body::Ack(ack)) = message.body else { panic!("not an acknowledgement") };
        assert_eq!(ack.up_to_sequence, expected);
    }
    let status = inbound.message().await.expect_err("the breach ends the stream");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    assert!(status.message().contains("expected 4"), "{}", status.message());
    assert!(eventually(WAIT, || controller.registry.node("raw-node").is_some_and(|node| !node.connected)).await);

    // A stream that does not start with a hello, or names no node, is refused too.
    for first in [Body::Inventory(Inventory::default()), Body::Hello(Hello::default())] {
        let messages = vec![AgentMessage { sequence: 1, body: Some(first) }];
        let mut inbound = client.connect(tokio_stream::iter(messages)).await.unwrap().into_inner();
        assert_eq!(inbound.message().await.expect_err("refused").code(), tonic::Code::InvalidArgument);
    }
    assert_eq!(controller.registry.inventories(Timestamp::now()).len(), 1);
    controller.stop().await;
}
