//! The Tidepool node agent.
//!
//! - [`device`]: what the agent knows of one accelerator (identity, catalogue model, memory,
//!   topology, health, utilisation) — the inventory it serves and reports.
//! - [`backend`]: one backend per vendor behind the narrow [`backend::Backend`] trait, each turning
//!   its vendor's library or tool output into devices; auto-detection of the backends present.
//! - [`sampler`] and [`inventory`]: reading the backends once per sampling interval into a
//!   [`inventory::Snapshot`], and what changed between two snapshots.
//! - [`plugin`]: the kubelet device-plugin server, one registered service per resource name.
//! - [`report`]: the stream of inventory, health and utilisation to the controller.
//! - [`daemon`]: the running agent wiring those together; [`settings`], [`shutdown`], [`clock`]
//!   and [`logging`] support it.
//! - [`cli`]: the `tidepool-agent` command line.
//!
//! This crate does not decide placement (the engine does) nor talk to the Kubernetes API (the
//! controller does); it reports what the node has and hands devices to kubelet.

pub mod backend;
pub mod cli;
pub mod clock;
pub mod daemon;
pub mod device;
pub mod inventory;
pub mod logging;
pub mod plugin;
pub mod report;
pub mod sampler;
pub mod settings;
pub mod shutdown;
