//! Huawei Ascend NPUs through `npu-smi`.
//!
//! On the node the backend runs `npu-smi info` (names, health, PCI addresses, AI Core use, memory)
//! and `npu-smi info -m` (which chip is which logic device, `/dev/davinciN`) and merges them by
//! NPU and chip id; without `-m` the table's `Device` column, else the NPU id, numbers devices.
//! From a file it recognises which output it holds:
//!
//! - the `npu-smi info` table (module `info`): one device per chip row;
//! - the `npu-smi info -m` mapping (module `mapping`): one device per chip with a logic id, named as
//!   the mapping names it, with no memory figure (the catalogue's, where the name resolves);
//! - `npu-smi info -t board`, `-t board -c N` or `-t common` (module `detail`): one device per NPU, as
//!   far as the variant tells (only `-c` names the chip; none shows memory).
//!
//! Health: `OK` is healthy; `Warning`, `Alarm`, `Critical` and any other word are unhealthy under
//! that name. npu-smi shows no interconnect peers in these outputs.

mod detail;
mod info;
mod mapping;

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::health;
use super::inventory::Inventory;
use super::output::Output;
use super::values;
use super::vendor_tool::{Node, Vendor};
use crate::device::{Device, resolve_model};

/// The backend's name.
pub const NAME: &str = "ascend";

/// How Ascend devices are read.
pub static VENDOR: Vendor = Vendor {
    name: NAME,
    tools: &["npu-smi"],
    dirs: &["/usr/local/Ascend/driver/tools", "/usr/local/sbin", "/usr/local/bin"],
    on_node,
    parse,
};

const LAYOUTS: &str = "npu-smi info, npu-smi info -m, or npu-smi info -t board/common";

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    let info = node.run("npu-smi", &["info"])?;
    let chips = info::chips(&info).unwrap_or_else(|| Err(info.unrecognised("the npu-smi info table")))?;
    // Older npu-smi builds lack `-m`: the table's own numbering is used then.
    let mapped = node.run("npu-smi", &["info", "-m"]).ok().and_then(|output| mapping::rows(&output)?.ok());
    from_chips(&info, &chips, mapped.as_deref(), node.catalogue)
}

/// Parses whichever npu-smi output `output` holds.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    if let Some(chips) = info::chips(output) {
        return from_chips(output, &chips?, None, catalogue);
    }
    if let Some(rows) = mapping::rows(output) {
        return from_mapping(output, &rows?, catalogue);
    }
    if let Some(npus) = detail::npus(output) {
        return from_details(output, &npus?, catalogue);
    }
    Err(output.unrecognised(LAYOUTS))
}

fn from_chips(
    output: &Output,
    chips: &[info::Chip],
    mapped: Option<&[mapping::Mapped]>,
    catalogue: &Catalogue,
) -> Result<Vec<Device>, BackendError> {
    let one_chip_per_npu = chips.iter().all(|chip| chip.chip == 0);
    let mut inventory = Inventory::new();
    for (position, chip) in chips.iter().enumerate() {
        let mapping = mapped.and_then(|rows| rows.iter().find(|row| row.npu == chip.npu && row.chip == chip.chip));
        let index = mapping
            .and_then(|row| row.logic)
            .or(chip.device)
            .or(one_chip_per_npu.then_some(chip.npu))
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
        // The table's name is what the catalogue lists (`910B2C`); the mapping's (`Ascend 910A`)
        // is used when only it resolves.
        let name = match mapping {
            Some(row)
                if resolve_model(catalogue, Family::Ascend, &chip.name).is_none()
                    && resolve_model(catalogue, Family::Ascend, &row.name).is_some() =>
            {
                row.name.as_str()
            }
            _ => chip.name.as_str(),
        };
        let (used, total) = chip.memory.map_or((None, 0), |(used, total)| (Some(used), total));
        let mut device = Device::new(Family::Ascend, index, name, total, catalogue);
        device.memory_used_mib = used;
        device.utilisation_percent = chip.aicore;
        device.pci_bus_id = chip.bus.clone();
        (device.health, device.health_reason) = health::from_state(&chip.health, &["OK"], "npu-smi Health");
        inventory.push(output, chip.line, device)?;
    }
    Ok(inventory.finish(catalogue))
}

fn from_mapping(output: &Output, rows: &[mapping::Mapped], catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let mut inventory = Inventory::new();
    for row in rows {
        if let Some(logic) = row.logic {
            inventory.push(output, row.line, Device::new(Family::Ascend, logic, &row.name, 0, catalogue))?;
        }
    }
    Ok(inventory.finish(catalogue))
}

fn from_details(
    output: &Output,
    npus: &[detail::Properties],
    catalogue: &Catalogue,
) -> Result<Vec<Device>, BackendError> {
    let mut inventory = Inventory::new();
    for npu in npus {
        // Only `-t board -c` names the chip; the others leave the name blank rather than guess.
        let mut device = Device::new(Family::Ascend, npu.npu, npu.get("Chip Name").unwrap_or(""), 0, catalogue);
        device.pci_bus_id = npu.get("PCIe Bus Info").filter(|bus| values::is_pci_bus_id(bus)).map(str::to_owned);
        device.utilisation_percent = npu.get("Aicore Usage Rate(%)").and_then(values::percent);
        if let Some(state) = npu.get("Health Status").or_else(|| npu.get("Health")) {
            (device.health, device.health_reason) = health::from_state(state, &["OK"], "npu-smi Health");
        }
        inventory.push(output, npu.line, device)?;
    }
    Ok(inventory.finish(catalogue))
}
