//! The generated code speaks the wire format kubelet and the controller expect: service paths as
//! kubelet dials them, field numbers as the upstream file has them.

use prost::Message;
use tidepool_proto::agent::{self, AgentMessage, agent_message};
use tidepool_proto::deviceplugin::{self, ContainerPreferredAllocationRequest};

#[test]
fn device_plugin_services_have_kubelets_names() {
    assert_eq!(deviceplugin::registration_server::SERVICE_NAME, "v1beta1.Registration");
    assert_eq!(deviceplugin::device_plugin_server::SERVICE_NAME, "v1beta1.DevicePlugin");
    assert_eq!(agent::agent_service_server::SERVICE_NAME, "tidepool.agent.v1.AgentService");
}

#[test]
fn preferred_allocation_request_uses_upstream_field_numbers() {
    // available_deviceIDs = 1 ("a"), must_include_deviceIDs = 2 ("b"), allocation_size = 3 (2),
    // encoded by hand as kubelet's Go code would.
    let bytes = [0x0a, 0x01, b'a', 0x12, 0x01, b'b', 0x18, 0x02];
    let request = ContainerPreferredAllocationRequest::decode(&bytes[..]).unwrap();
    assert_eq!(request.available_device_i_ds, ["a"]);
    assert_eq!(request.must_include_device_i_ds, ["b"]);
    assert_eq!(request.allocation_size, 2);
}

#[test]
fn agent_messages_round_trip_and_reject_garbage() {
    let message = AgentMessage {
        sequence: 7,
        body: Some(agent_message::Body::Hello(agent::Hello {
            node_name: "node-a".into(),
            agent_version: "0.1.0".into(),
            backends: vec!["fake".into()],
            sampling_interval_ms: 1000,
        })),
    };
    let bytes = message.encode_to_vec();
    assert_eq!(AgentMessage::decode(bytes.as_slice()).unwrap(), message);
    // A truncated message is an error, not a panic.
    assert!(AgentMessage::decode(&bytes[..bytes.len() - 3]).is_err());
}
