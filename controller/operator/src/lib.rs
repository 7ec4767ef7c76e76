//! Tidepool's Kubernetes operator. A pass assembles the engine's snapshot from the cluster's
//! objects and the agents' inventories, runs `tidepool_engine::schedule`, and applies the plan —
//! pods created from workload templates, bound through `pods/binding`, victims evicted with their
//! grace period, stopped and surplus pods deleted, workload and tenant status written with
//! server-side apply under one field manager.
//!
//! - [`daemon`]: the running controller — reflectors ([`watch`]), a pass on relevant changes,
//!   leader election ([`leader`]), waiting for the watches to show the last pass ([`expectations`]).
//! - [`mod@reconcile`]: one pass; [`snapshot`], [`applier`], [`status`], [`tenant_status`],
//!   [`completion`] (how workloads end) and [`demand`] (inference replicas from demand) are its steps.
//! - [`agents`]: the `tidepool.agent.v1.AgentService` gRPC server node agents stream to, and the
//!   registry of node inventories it keeps (stale nodes' devices marked unavailable).
//! - [`telemetry`]: the operator's metrics (Prometheus text exposition) and the HTTP server for
//!   `/metrics`, `/healthz` and `/readyz`.
//!
//! Placement is decided by the engine (`tidepool-engine`), not here. Not here yet: metering for
//! chargeback.

pub mod agents;
pub mod applier;
pub mod bind;
pub mod clock;
pub mod completion;
pub mod context;
pub mod daemon;
pub mod demand;
pub mod error;
pub mod expectations;
pub mod inventory;
pub mod labels;
pub mod leader;
pub mod lending;
pub mod pods;
pub mod reconcile;
pub mod snapshot;
pub mod status;
pub mod telemetry;
pub mod tenant_status;
pub mod watch;

pub use clock::{Clock, ManualClock, SystemClock};
pub use context::Context;
pub use error::Error;
pub use inventory::{InventoryDevice, NodeInventory};
pub use reconcile::{PassReport, reconcile, reconcile_once};
