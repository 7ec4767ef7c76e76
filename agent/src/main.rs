//! `tidepool-agent`: the per-node agent. See the crate docs and `tidepool-agent --help`.

use std::process::ExitCode;

use clap::Parser;
use tidepool_agent::cli::Cli;

fn main() -> ExitCode {
    match Cli::parse().run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tidepool-agent: {error}");
            ExitCode::FAILURE
        }
    }
}
