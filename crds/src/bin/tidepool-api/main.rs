//! `tidepool-api`: offline tools for the tidepool.dev API — generate the CRDs, print the catalogue,
//! validate manifests before they reach a cluster, and show a group cloud as tables.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod commands;
mod describe;
mod table;

#[derive(Parser)]
#[command(name = "tidepool-api", version, about = "Offline tools for the tidepool.dev API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write every CRD as YAML into a directory.
    Crds {
        /// Directory to write `<plural>.tidepool.dev.yaml` files into.
        #[arg(long, default_value = "crds/manifests")]
        out: PathBuf,
    },
    /// Print the built-in catalogue, with a cluster's overrides applied.
    Catalogue {
        /// Print JSON (one object per model) instead of a table.
        #[arg(long)]
        json: bool,
        /// YAML files of AcceleratorModel objects that override built-in entries.
        #[arg(long = "override")]
        overrides: Vec<PathBuf>,
    },
    /// Validate manifests with the same rules the API server and the controller apply.
    Validate {
        /// Manifest files (multi-document YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show tenants, quotas and workloads of manifests as tables, with what each workload may run
    /// on and what it costs per hour on each chip.
    Describe {
        /// Manifest files (multi-document YAML).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Crds { out } => commands::write_crds(&out),
        Command::Catalogue { json, overrides } => commands::print_catalogue(json, &overrides),
        Command::Validate { files } => commands::validate_files(&files),
        Command::Describe { files } => describe::describe_files(&files),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
