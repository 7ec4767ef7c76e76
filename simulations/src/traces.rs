//! Readers of the public traces in `../shared/traces/`: each streams one file's rows in order,
//! checks them, and names the file, line and column of anything it cannot use.

pub mod openb;
pub mod servegen;
