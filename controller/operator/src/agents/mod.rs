//! The controller's side of the agent stream (`tidepool.agent.v1.AgentService`): node agents dial
//! in, say hello, send their inventory, health changes and utilisation; the controller records
//! them, acknowledges every message and may push configuration back.
//!
//! - [`server`]: listening (TLS or, when asked, plaintext) and HTTP/2 keepalive;
//! - [`service`]: one task per stream, checking, recording and acknowledging;
//! - [`protocol`]: the rules a stream must follow (sequence numbers, hello first);
//! - [`registry`]: what is known of each node, staleness, configuration pushes;
//! - [`inventory`]: the device records and the [`NodeInventory`] view snapshot assembly reads;
//!
//! Not here: turning inventories into engine snapshots (snapshot assembly does that), reading
//! what vendor device plugins publish on nodes without an agent, and authorising agents by node.

pub mod inventory;
pub mod protocol;
pub mod registry;
pub mod server;
pub mod service;

pub use inventory::{InventoryDevice, NodeInventory};
pub use registry::Registry;
pub use server::{ServerConfig, TlsFiles, Transport, serve};
pub use service::AgentStreams;
