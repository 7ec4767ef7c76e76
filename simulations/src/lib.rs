//! Tidepool's simulator around the placement engine, `tidepool_engine::schedule`.
//!
//! - [`sim`]: the discrete-event loop, the fleet, the policies compared and what they measure;
//! - [`scenario`]: scenario files; [`sources`], [`openb_source`]: the jobs replayed;
//! - [`generator`], [`traces`]: the calibrated generator and the trace readers;
//! - [`compare`], [`cli`]: one run per policy side by side, and the `run` command;
//! - [`sizing`]: the smallest fleet meeting a delay target under each policy;
//! - [`plots`], [`progress`]: SVG plots of a comparison, and the progress bar;
//! - [`bench`](mod@bench): times one engine cycle on a large generated group cloud.

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod compare;
pub mod generator;
pub mod openb_source;
pub mod plots;
pub mod progress;
pub mod scenario;
pub mod sim;
pub mod sizing;
pub mod sources;
pub mod traces;
