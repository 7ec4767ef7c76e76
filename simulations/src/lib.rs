//! Tidepool's simulator around the placement engine, `tidepool_engine::schedule`.
//!
//! For now it holds one tool: the [`bench`](mod@bench) module, which generates a large, realistic group cloud from a
//! seed and times one scheduling cycle on it. The discrete-event simulator, trace readers and
//! baseline policies come later (see the crate's README).

#![forbid(unsafe_code)]

pub mod bench;
pub mod cli;
pub mod compare;
pub mod generator;
pub mod openb_source;
pub mod scenario;
pub mod sim;
pub mod sources;
pub mod traces;
