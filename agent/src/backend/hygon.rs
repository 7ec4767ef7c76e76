//! Hygon DCUs through `rocm-smi --json`, `hy-smi` and `rocminfo`.
//!
//! On the node the backend prefers machine-readable JSON: `rocm-smi` (Hygon's DTK build) then
//! `hy-smi`, both asked for ids, product names, VRAM, use and unique ids with `--json`; when
//! neither gives JSON it reads the `hy-smi` banner table. From a file it recognises which output
//! it holds: rocm-smi/hy-smi JSON (module `rocm_json`), a `rocminfo` agent list (module `rocminfo`), or the
//! hy-smi / rocm-smi banner table in its older and newer (`Dec%`/`Enc%`) layouts (module `smi_table`).
//! None of them shows a health state.

mod rocm_json;
mod rocminfo;
mod smi_table;

use tidepool_crds::Catalogue;

use super::BackendError;
use super::output::Output;
use super::vendor_tool::{Node, Vendor};
use crate::device::Device;

/// The backend's name.
pub const NAME: &str = "hygon";

/// How Hygon devices are read.
pub static VENDOR: Vendor =
    Vendor { name: NAME, tools: &["hy-smi", "rocm-smi"], dirs: &["/opt/hyhal/bin", "/opt/dtk/bin"], on_node, parse };

/// What the JSON runs ask for.
const JSON_ARGS: [&str; 8] =
    ["--showid", "--showproductname", "--showmeminfo", "vram", "--showuse", "--showuniqueid", "--showbus", "--json"];

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    let mut failures = Vec::new();
    for tool in ["rocm-smi", "hy-smi"] {
        if node.locate(tool).is_none() {
            continue;
        }
        let json = node.run(tool, &JSON_ARGS).and_then(|output| {
            rocm_json::parse(&output, node.catalogue).unwrap_or_else(|| Err(output.unrecognised("JSON")))
        });
        match json {
            Ok(devices) => return Ok(devices),
            Err(error) => failures.push(error.to_string()),
        }
    }
    let table = node.run("hy-smi", &[]).and_then(|output| {
        smi_table::parse(&output, node.catalogue).unwrap_or_else(|| Err(output.unrecognised("the hy-smi table")))
    });
    table.map_err(|error| match error {
        BackendError::Unavailable { backend, what, problem } if !failures.is_empty() => BackendError::Unavailable {
            backend,
            what,
            problem: format!("{problem}; before that: {}", failures.join("; ")),
        },
        other => other,
    })
}

/// Parses whichever Hygon tool output `output` holds.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    rocm_json::parse(output, catalogue)
        .or_else(|| rocminfo::parse(output, catalogue))
        .or_else(|| smi_table::parse(output, catalogue))
        .unwrap_or_else(|| Err(output.unrecognised("rocm-smi --json, rocminfo, or the hy-smi/rocm-smi table")))
}
