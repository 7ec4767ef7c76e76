//! Cambricon MLUs through `cnmon`.
//!
//! Reads the device table `cnmon` prints (`Card VF Name Firmware | Bus-Id | Util Ecc-Error` over
//! `Fan Temp Pwr:Usage/Cap | Memory-Usage | SR-IOV Compute-Mode`): card number, product name,
//! PCI address, memory used and total, utilisation. cnmon's table shows no health state, so
//! devices it lists are healthy; the process table after it is ignored. Each MLU370-X8 chip is its
//! own card in cnmon, and so its own device here.

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::boxed::{self, Labels};
use super::output::Output;
use super::vendor_tool::{Node, Vendor};
use crate::device::Device;

/// The backend's name.
pub const NAME: &str = "cambricon";

/// How Cambricon devices are read.
pub static VENDOR: Vendor =
    Vendor { name: NAME, tools: &["cnmon"], dirs: &["/usr/local/neuware/bin", "/usr/bin"], on_node, parse };

const LABELS: Labels = Labels {
    tool: "cnmon",
    family: Family::Cambricon,
    index: &["Card"],
    name: &["Name"],
    memory: &["Memory-Usage"],
    utilisation: &["Util"],
    bus: &["Bus-Id"],
    uuid: &[],
    state: &[],
    healthy_states: &[],
};

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    parse(&node.run("cnmon", &[])?, node.catalogue)
}

/// Parses cnmon's device table.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let grid =
        boxed::find(output, |header| header.contains("card") && header.contains("name") && header.contains("bus-id"))
            .ok_or_else(|| output.unrecognised("cnmon's device table (Card, Name, Bus-Id, Memory-Usage)"))?;
    boxed::devices(output, &grid, &LABELS, catalogue)
}
