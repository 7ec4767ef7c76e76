//! The command line: one subcommand per job, each in its own module.

mod discover;
mod duration;
mod run;

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
    /// Serve the node's accelerators to kubelet and report them to the controller, until
    /// SIGTERM or Ctrl-C.
    Run(Box<run::RunArgs>),
}

impl Cli {
    /// Runs the chosen subcommand.
    pub fn run(self) -> Result<(), Box<dyn std::error::Error>> {
        match self.command {
            Command::Discover(args) => discover::run(&args),
            Command::Run(args) => run::run(*args),
        }
    }
}
