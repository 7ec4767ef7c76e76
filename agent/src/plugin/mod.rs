//! The kubelet device-plugin server: one `DevicePlugin` service per extended resource name, each
//! on its own unix socket in kubelet's device-plugin directory, registered with kubelet.
//!
//! - [`naming`]: which resource name each device is served under (`vendor` or `tidepool` mode);
//! - [`service`]: the gRPC service (`ListAndWatch`, `Allocate`, `GetPreferredAllocation`, ...);
//! - [`allocate`]: what a container gets per family (env vars, device nodes);
//! - [`preferred`]: the topology-aware choice of devices;
//! - [`server`], [`socket`], [`registration`]: serving on a socket and registering with kubelet;
//! - [`manager`]: one registered server per name, across kubelet restarts.
//!
//! The plugin never reads a backend: it serves the sampler's latest snapshot.

pub mod allocate;
pub mod manager;
pub mod naming;
pub mod preferred;
pub mod registration;
pub mod server;
pub mod service;
pub mod socket;
