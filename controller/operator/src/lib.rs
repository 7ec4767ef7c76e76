//! Tidepool's operator: everything around the engine that talks to the outside world.
//!
//! - [`agents`]: the `tidepool.agent.v1.AgentService` gRPC server node agents stream to, and the
//!   registry of node inventories it keeps (stale nodes' devices marked unavailable).
//! - [`telemetry`]: the operator's metrics (Prometheus text exposition) and the HTTP server for
//!   `/metrics`, `/healthz` and `/readyz`.
//!
//! This crate does not decide placement: the engine (`tidepool-engine`) does, on snapshots built
//! here.

pub mod agents;
pub mod telemetry;
