//! Tidepool's gRPC APIs as Rust types, clients and servers, generated at build time from the
//! `.proto` files beside this crate.
//!
//! - [`agent`]: `tidepool.agent.v1`, the stream between the node agent and the controller
//!   (`tidepool/agent/v1/agent.proto`).
//! - [`deviceplugin`]: kubelet's device-plugin API `v1beta1`, vendored unchanged from Kubernetes
//!   (`k8s/deviceplugin/v1beta1/api.proto`).
//!
//! Type-only: no behaviour and no transport live here. The agent serves and dials these APIs; the
//! controller will serve the agent API.

/// `tidepool.agent.v1`: what the node agent streams to the controller (hello, inventory, health
/// changes, utilisation samples) and what the controller answers (acknowledgements, configuration).
pub mod agent {
    // Generated code spells paths out in full.
    #![allow(unused_qualifications)]
    tonic::include_proto!("tidepool.agent.v1");
}

/// Kubelet's device-plugin API `v1beta1` (package `v1beta1`): the `Registration` service kubelet
/// serves on `kubelet.sock` and the `DevicePlugin` service each plugin serves on its own socket.
///
/// Generated from the upstream file, whose messages are not all documented.
pub mod deviceplugin {
    // Generated code spells paths out in full; upstream leaves some messages undocumented.
    #![allow(missing_docs, unused_qualifications)]
    tonic::include_proto!("v1beta1");

    /// The API version a plugin registers with (`RegisterRequest.version`).
    pub const VERSION: &str = "v1beta1";
    /// The file name of kubelet's registration socket in the device-plugin directory.
    pub const KUBELET_SOCKET: &str = "kubelet.sock";
    /// The health string of a usable device.
    pub const HEALTHY: &str = "Healthy";
    /// The health string of a device kubelet must not allocate.
    pub const UNHEALTHY: &str = "Unhealthy";
}
