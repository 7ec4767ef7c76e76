//! Benchmarks of the placement engine on generated snapshots.
//!
//! - [`snapshot_gen`] builds a deterministic group cloud from a seed: fleet, tenants and quotas,
//!   running load and a pending queue.
//! - [`engine`] times one `schedule` call on it and reports placements per second, cycle time
//!   and peak memory.

pub mod engine;
pub mod snapshot_gen;

mod rss;
