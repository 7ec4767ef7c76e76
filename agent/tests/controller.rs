//! The reporter against a test controller on loopback, over real gRPC (plaintext): the round trip
//! (hello, inventory, health changes, acknowledgements, configuration) and reconnecting after the
//! controller dies.

mod support;

use std::time::{Duration, Instant};

use support::agent::{NODE, Wiring, agent};
use support::controller::{Event, TestController};
use support::inventory;
use tidepool_agent::shutdown;
use tidepool_proto::agent::agent_message::Body;
use tidepool_proto::agent::{Ack, AgentConfig, AgentMessage, ControllerMessage, Family, controller_message};

const WAIT: Duration = Duration::from_secs(5);

/// The next message on the controller that is not a utilisation sample.
async fn next_non_sample(controller: &mut TestController, timeout: Duration) -> Option<(u64, AgentMessage)> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (stream, message) = controller.next_message(left).await?;
        if !matches!(message.body, Some(Body::Utilisation(_))) {
            return Some((stream, message));
        }
    }
}

/// Expects `Hello` then `Inventory` as the first two messages of a new stream; returns the stream
/// number, the hello's sampling interval and the inventory's devices.
async fn expect_greeting(controller: &mut TestController) -> (u64, u64, Vec<tidepool_proto::agent::Device>) {
    let (stream, hello) = controller.next_message(WAIT).await.expect("a hello");
    assert_eq!(hello.sequence, 1);
    let Some(Body::Hello(hello)) = hello.body else { panic!("first message is not a hello: {hello:?}") };
    assert_eq!((hello.node_name.as_str(), hello.backends.as_slice()), (NODE, &["fake".to_owned()][..]));
    let (same, inventory) = controller.next_message(WAIT).await.expect("an inventory");
    assert_eq!((same, inventory.sequence), (stream, 2));
    let Some(Body::Inventory(inventory)) = inventory.body else { panic!("second message is not an inventory") };
    (stream, hello.sampling_interval_ms, inventory.devices)
}

#[tokio::test]
async fn round_trip_then_reconnect_after_the_controller_dies() {
    let dir = tempfile::tempdir().unwrap();
    let inventory_file = dir.path().join("inventory.json");
    let mut devices = inventory::nvidia(4, 2);
    inventory::write(&inventory_file, &devices);
    let mut controller = TestController::start(None);
    let address = format!("http://{}", controller.addr());
    let (trigger, stop) = shutdown::channel();
    // A slow sampling interval to start with, so the controller's faster one is visible.
    let slow = Duration::from_secs(3);
    let running = tokio::spawn(
        agent(Wiring {
            inventory: &inventory_file,
            socket_dir: None,
            controller: Some((address, None)),
            sampling: slow,
        })
        .run(stop),
    );

    // Hello, then the full inventory.
    let (stream, interval_ms, wire) = expect_greeting(&mut controller).await;
    assert_eq!(interval_ms, 3000);
    assert_eq!(wire.len(), 4);
    assert_eq!(
        (wire[2].id.as_str(), wire[2].family(), wire[2].model.as_str()),
        ("GPU-2", Family::Nvidia, "nvidia-h100")
    );
    assert_eq!((wire[2].numa_node, wire[2].peers.as_slice()), (Some(1), &[3][..]));
    assert!(wire.iter().all(|device| device.health.as_ref().is_some_and(|h| h.healthy)));

    // Configuration: sample every 100 ms. A device failing now is reported well before the old
    // 3 s interval would have noticed it.
    assert!(controller.send_config(AgentConfig { sampling_interval_ms: Some(100), utilisation_enabled: None }));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let marked = Instant::now();
    inventory::set_health(&inventory_file, &mut devices, 1, "Unhealthy");
    let (same, change) = next_non_sample(&mut controller, WAIT).await.expect("a health change");
    assert!(marked.elapsed() < Duration::from_millis(1500), "took {:?}", marked.elapsed());
    assert_eq!(same, stream);
    let Some(Body::HealthChange(change)) = change.body else { panic!("not a health change: {change:?}") };
    assert_eq!(change.device_id, "GPU-1");
    let health = change.health.unwrap();
    assert!(!health.healthy);
    assert_eq!((health.state.as_str(), health.reason.as_deref()), ("Unhealthy", Some("XID 79 (test)")));

    // Utilisation samples flow at the new interval, every one acknowledged without trouble.
    let (same, sample) = controller.next_message(WAIT).await.expect("a utilisation sample");
    assert_eq!(same, stream);
    let Some(Body::Utilisation(sample)) = sample.body else { panic!("not a sample: {sample:?}") };
    assert_eq!(sample.devices.len(), 4);
    assert_eq!(sample.devices[3].utilisation_percent, Some(13));

    // The controller dies; the agent dials again with backoff and, once it is back on the same
    // port, says hello and sends its whole inventory again, with the device still unhealthy and
    // the controller's sampling interval still in force.
    controller.kill();
    tokio::time::sleep(Duration::from_millis(700)).await;
    controller.restart(None);
    let (again, interval_ms, wire) = expect_greeting(&mut controller).await;
    assert!(again > stream);
    assert_eq!(interval_ms, 100);
    let unhealthy: Vec<&str> = wire
        .iter()
        .filter(|device| device.health.as_ref().is_some_and(|h| !h.healthy))
        .map(|device| device.id.as_str())
        .collect();
    assert_eq!(unhealthy, ["GPU-1"]);

    // Shutdown closes the stream from the agent's side.
    trigger.trigger();
    tokio::time::timeout(WAIT, running).await.expect("the agent stops").unwrap();
    loop {
        match controller.next_event(WAIT).await.expect("the stream closes") {
            Event::Closed(closed) => {
                assert_eq!(closed, again);
                break;
            }
            _ => continue,
        }
    }
}

#[tokio::test]
async fn an_impossible_acknowledgement_makes_the_agent_start_over() {
    let dir = tempfile::tempdir().unwrap();
    let inventory_file = dir.path().join("inventory.json");
    inventory::write(&inventory_file, &inventory::nvidia(2, 2));
    let mut controller = TestController::start(None);
    let address = format!("http://{}", controller.addr());
    let (trigger, stop) = shutdown::channel();
    let running = tokio::spawn(
        agent(Wiring {
            inventory: &inventory_file,
            socket_dir: None,
            controller: Some((address, None)),
            sampling: Duration::from_secs(60),
        })
        .run(stop),
    );
    let (stream, _, _) = expect_greeting(&mut controller).await;

    // Acknowledging far more than was sent is a protocol error: the agent drops the stream and
    // dials again, starting over.
    let ack = ControllerMessage { body: Some(controller_message::Body::Ack(Ack { up_to_sequence: 1000 })) };
    assert!(controller.send(ack));
    let (again, _, wire) = expect_greeting(&mut controller).await;
    assert!(again > stream);
    assert_eq!(wire.len(), 2);

    // A configuration out of range is ignored, not fatal: no new stream follows.
    assert!(controller.send_config(AgentConfig { sampling_interval_ms: Some(0), utilisation_enabled: Some(false) }));
    loop {
        match controller.next_event(Duration::from_millis(700)).await {
            Some(Event::Connected(n)) => panic!("the agent reconnected (stream {n}) after a bad configuration"),
            Some(_) => continue,
            None => break,
        }
    }

    trigger.trigger();
    tokio::time::timeout(WAIT, running).await.expect("the agent stops").unwrap();
}
