//! The simulator: replays a job stream through the engine under each policy and measures what
//! each would cost and deliver.

mod allocations;
mod chunked;
pub mod fleet;
pub mod job;
pub mod metrics;
mod occupancy;
mod parking;
pub mod policies;
pub mod run;
