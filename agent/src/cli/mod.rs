//! The command line: one subcommand per job, each in its own module.

mod discover;

use clap::{Parser, Subcommand};

/// Tidepool's node agent.
#[derive(Debug, Parser)]
#[command(name = "tidepool-agent", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the accelerators on this node (or in a captured tool output) and exit.
    Discover(discover::DiscoverArgs),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> Result<(), Box<dyn std::error::Error>> {
        match self.command {
            Command::Discover(args) => discover::run(&args),
        }
    }
}
