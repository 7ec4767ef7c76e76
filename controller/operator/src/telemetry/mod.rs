//! The operator's telemetry: one [`Metrics`] struct holding every metric (so another export, such
//! as OpenTelemetry, can be added in one place), the Prometheus text format it renders to, the
//! [`Readiness`] handle, and the HTTP server for `/metrics`, `/healthz` and `/readyz`.
//!
//! - [`metrics`]: what is measured and how it is recorded;
//! - [`exposition`]: the text format's spelling (escaping, floats, headers);
//! - [`readiness`]: first cycle run and leadership;
//! - [`http`]: the endpoint.
//!
//! Not here: deciding when to record (the scheduling loop and agent registry's owners do) and
//! logging setup.

pub mod exposition;
pub mod http;
pub mod metrics;
pub mod readiness;

pub use http::{Endpoints, serve};
pub use metrics::Metrics;
pub use readiness::Readiness;
