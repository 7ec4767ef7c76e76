//! The Tidepool node agent.
//!
//! - [`device`]: what the agent knows of one accelerator (identity, catalogue model, memory,
//!   topology, health, utilisation) — the inventory it serves and reports.
//! - [`backend`]: one backend per vendor behind the narrow [`backend::Backend`] trait, each turning
//!   its vendor's library or tool output into devices; auto-detection of the backends present.
//!
//! - [`cli`]: the `tidepool-agent` command line.
//!
//! This crate does not decide placement (the engine does) nor talk to the Kubernetes API (the
//! controller does); it reports what the node has and hands devices to kubelet.

pub mod backend;
pub mod cli;
pub mod device;
