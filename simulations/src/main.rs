//! `tidepool-sim`: command line of the simulator. Parses arguments and runs the command; the
//! work lives in the library.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tidepool_sim::bench::engine::{self, EngineArgs};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tidepool's simulator.
#[derive(Parser)]
#[command(name = "tidepool-sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replays a workload through every policy and compares cost, work and delays.
    Run(tidepool_sim::cli::RunArgs),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Subcommand)]
enum Bench {
    /// Times one scheduling cycle of the engine on a generated group cloud.
    Engine(EngineArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => tidepool_sim::cli::run(&args),
        Command::Bench(Bench::Engine(args)) => engine::run(&args)
            .map(|report| {
                let json = args.json;
                if json { println!("{}", report.to_json()) } else { print!("{}", report.to_table()) }
            })
            .map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tidepool-sim: {e}");
            ExitCode::FAILURE
        }
    }
}
