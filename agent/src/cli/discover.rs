//! `tidepool-agent discover`: the parsed inventory, as a table or JSON.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use tidepool_crds::Catalogue;

use crate::backend::{self, Backend, Source};
use crate::device::Device;

/// Arguments of `discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// Read only this backend (default: every backend present on the node).
    #[arg(long, value_name = "NAME")]
    backend: Option<String>,
    /// Parse this captured tool output (or, for `fake`, inventory file) instead of running the
    /// tool; needs `--backend`. The backend recognises which of its tool's outputs the file holds.
    #[arg(long, value_name = "PATH", requires = "backend")]
    from_file: Option<PathBuf>,
    /// Print JSON: an object with a `devices` list.
    #[arg(long)]
    json: bool,
}

/// Runs `discover`.
pub fn run(args: &DiscoverArgs) -> Result<(), Box<dyn std::error::Error>> {
    let catalogue = Catalogue::builtin();
    let backends: Vec<Box<dyn Backend>> = match &args.backend {
        Some(name) => {
            let source = args.from_file.clone().map_or(Source::Node, Source::File);
            vec![backend::by_name(name, source, &catalogue)?]
        }
        None => backend::detect(&catalogue),
    };
    let mut devices = Vec::new();
    for backend in &backends {
        devices.extend(backend.discover()?);
    }
    let text = if args.json {
        serde_json::to_string_pretty(&serde_json::json!({ "devices": devices }))? + "\n"
    } else {
        table(&devices)
    };
    // A closed pipe (`| head`) is the reader's choice, not an error worth a panic.
    match std::io::stdout().write_all(text.as_bytes()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => Err(error.into()),
        _ => Ok(()),
    }
}

fn table(devices: &[Device]) -> String {
    if devices.is_empty() {
        return "no accelerators found\n".to_owned();
    }
    let mut out =
        format!("{:<10} {:>5}  {:<24} {:>10} {:>10}  {}\n", "FAMILY", "INDEX", "MODEL", "MEMORY", "USED", "HEALTH");
    for device in devices {
        let used = device.memory_used_mib.map_or("-".to_owned(), |used| format!("{used} MiB"));
        let health = match &device.health_reason {
            Some(reason) => format!("{} ({reason})", String::from(device.health.clone())),
            None => String::from(device.health.clone()),
        };
        out += &format!(
            "{:<10} {:>5}  {:<24} {:>10} {:>10}  {}\n",
            device.family.as_str(),
            device.index,
            if device.model.is_empty() { "-" } else { &device.model },
            format!("{} MiB", device.memory_mib),
            used,
            health
        );
    }
    out
}
