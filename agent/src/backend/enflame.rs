//! Enflame GCUs through `efsmi`.
//!
//! Reads the device table `efsmi` prints (`DEV NAME | FW VER | BUS-ID ECC` over
//! `TEMP Dpm Pwr(Usage/Cap) | Mem GCU Virt | DUsed SN`): device number, product name, PCI address,
//! memory total (efsmi shows no used figure), `DUsed` as utilisation and the serial number as the
//! device's id. efsmi's table has no health column (`Dpm` is the power state), so devices it lists
//! are healthy.

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::boxed::{self, Labels};
use super::output::Output;
use super::vendor_tool::{Node, Vendor};
use crate::device::Device;

/// The backend's name.
pub const NAME: &str = "enflame";

/// How Enflame devices are read.
pub static VENDOR: Vendor =
    Vendor { name: NAME, tools: &["efsmi"], dirs: &["/usr/local/efsmi", "/usr/bin"], on_node, parse };

const LABELS: Labels = Labels {
    tool: "efsmi",
    family: Family::Enflame,
    index: &["DEV"],
    name: &["NAME"],
    memory: &["Mem", "Memory-Usage", "Memory"],
    utilisation: &["DUsed", "GCU-Util", "Util"],
    bus: &["BUS-ID"],
    uuid: &["SN"],
    state: &[],
    healthy_states: &[],
};

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    parse(&node.run("efsmi", &[])?, node.catalogue)
}

/// Parses efsmi's device table.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let grid =
        boxed::find(output, |header| header.contains("dev") && header.contains("name") && header.contains("bus"))
            .ok_or_else(|| output.unrecognised("efsmi's device table (DEV, NAME, BUS-ID, Mem)"))?;
    boxed::devices(output, &grid, &LABELS, catalogue)
}
