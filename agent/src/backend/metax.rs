//! MetaX GPUs through `mx-smi` (and `ht-smi`, which prints the same table).
//!
//! Reads the device table (`GPU NAME Persistence-M | Bus-id | GPU-Util sGPU-M` over
//! `Temp Power Perf | Memory-Usage | GPU-State`; ht-smi puts a `Board` number before the name and
//! the GPU number in the next cell): GPU number, product name, PCI address, utilisation, memory
//! used and total, and `GPU-State` as health (`Available` is healthy, any other state is not). An
//! abridged capture without the second header row still gives memory: the `used/total MiB` cell
//! is recognised by its unit.

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::boxed::{self, Labels};
use super::output::Output;
use super::vendor_tool::{Node, Vendor};
use crate::device::Device;

/// The backend's name.
pub const NAME: &str = "metax";

/// How MetaX devices are read.
pub static VENDOR: Vendor =
    Vendor { name: NAME, tools: &["mx-smi", "ht-smi"], dirs: &["/opt/mxdriver/bin", "/opt/maca/bin"], on_node, parse };

const LABELS: Labels = Labels {
    tool: "mx-smi",
    family: Family::Metax,
    index: &["GPU", "Board"],
    name: &["NAME"],
    memory: &["Memory-Usage"],
    utilisation: &["GPU-Util"],
    bus: &["Bus-id"],
    uuid: &[],
    state: &["GPU-State"],
    healthy_states: &["Available", "Normal", "OK"],
};

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    parse(&node.run(node.first_tool()?, &[])?, node.catalogue)
}

/// Parses mx-smi's (or ht-smi's) device table.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let grid = boxed::find(output, |header| {
        (header.contains("gpu") || header.contains("board")) && header.contains("name") && header.contains("bus-id")
    })
    .ok_or_else(|| output.unrecognised("mx-smi's device table (GPU, NAME, Bus-id, Memory-Usage)"))?;
    boxed::devices(output, &grid, &LABELS, catalogue)
}
