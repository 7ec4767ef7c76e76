//! Moore Threads GPUs through `mthreads-gmi`.
//!
//! Reads the device table `mthreads-gmi` prints (`ID Name | PCIe | %GPU Mem` over three header
//! rows, no outer border): device number, product name, PCI address, utilisation, memory as
//! `used(total)`. The table shows no health state, so devices it lists are healthy; the process
//! table after it is ignored.

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::boxed::{self, Labels};
use super::output::Output;
use super::vendor_tool::{Node, Vendor};
use crate::device::Device;

/// The backend's name.
pub const NAME: &str = "mthreads";

/// How Moore Threads devices are read.
pub static VENDOR: Vendor =
    Vendor { name: NAME, tools: &["mthreads-gmi"], dirs: &["/usr/local/musa/bin", "/usr/bin"], on_node, parse };

const LABELS: Labels = Labels {
    tool: "mthreads-gmi",
    family: Family::Mthreads,
    index: &["ID", "GPU"],
    name: &["Name"],
    memory: &["Mem", "Memory-Usage"],
    utilisation: &["%GPU", "GPU-Util"],
    bus: &["PCIe", "Bus-Id"],
    uuid: &[],
    state: &[],
    healthy_states: &[],
};

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    parse(&node.run("mthreads-gmi", &[])?, node.catalogue)
}

/// Parses mthreads-gmi's device table.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let grid =
        boxed::find(output, |header| header.contains("name") && (header.contains("pcie") || header.contains("bus")))
            .ok_or_else(|| output.unrecognised("mthreads-gmi's device table (ID, Name, PCIe, Mem)"))?;
    boxed::devices(output, &grid, &LABELS, catalogue)
}
