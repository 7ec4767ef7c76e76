//! Devices from an nvidia-smi-style box table, given the labels a vendor's tool uses.
//!
//! cnmon, efsmi, ixsmi, mx-smi/ht-smi, mthreads-gmi and xpu-smi all print one record per device
//! under a header of labelled cells; they differ in their labels (`Card`, `DEV`, `GPU`, `ID` for the
//! index) and in what they show. A vendor lists its labels in [`Labels`] and this module finds
//! the table, reads each record by those labels and builds the devices. It does not run tools or
//! recognise which tool printed an output.

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::health;
use super::inventory::Inventory;
use super::output::Output;
use super::table::{self, Field, Grid};
use super::values::{self, Unit};
use crate::device::Device;

/// The header labels (any one of each list, case ignored) a tool prints its fields under.
pub struct Labels {
    /// The tool's name, for reasons (`cnmon`).
    pub tool: &'static str,
    /// The device family.
    pub family: Family,
    /// Labels of the device index.
    pub index: &'static [&'static str],
    /// Labels of the product name.
    pub name: &'static [&'static str],
    /// Labels of memory: a `used / total` pair, a `used(total)` pair or a total.
    pub memory: &'static [&'static str],
    /// Labels of compute utilisation.
    pub utilisation: &'static [&'static str],
    /// Labels of the PCI address (any cell holding one is used when none of these is there).
    pub bus: &'static [&'static str],
    /// Labels of a serial number or uuid.
    pub uuid: &'static [&'static str],
    /// Labels of a health or state column.
    pub state: &'static [&'static str],
    /// States that mean a usable device.
    pub healthy_states: &'static [&'static str],
}

/// The first box table whose header satisfies `is_header`, or `None` if the output has none.
pub fn find(output: &Output, is_header: impl Fn(&str) -> bool) -> Option<Grid> {
    table::grid(output.lines(), is_header)
}

/// The devices of `grid`, read by `labels`.
pub fn devices(
    output: &Output,
    grid: &Grid,
    labels: &Labels,
    catalogue: &Catalogue,
) -> Result<Vec<Device>, BackendError> {
    let mut inventory = Inventory::new();
    for record in grid.records() {
        let fields = record.fields(&grid.header);
        let line = record.line();
        let index = table::field(&fields, labels.index)
            .and_then(|field| values::integer(&field.value))
            .or_else(|| record.rows.first().and_then(|row| row.first_token()).and_then(values::integer))
            .ok_or_else(|| output.error(line, "no device index at the start of the record"))?;
        let name = table::field(&fields, labels.name)
            .map(|field| field.value.clone())
            .filter(|name| !name.is_empty())
            .ok_or_else(|| output.error(line, format!("no product name (a {} column)", labels.name.join("/"))))?;
        let (used, total) = memory(&fields, labels.memory);
        let mut device = Device::new(labels.family, index, &name, total.unwrap_or(0), catalogue);
        device.memory_used_mib = used;
        device.utilisation_percent =
            table::field(&fields, labels.utilisation).and_then(|field| values::percent(&field.value));
        device.pci_bus_id = table::field(&fields, labels.bus)
            .map(|field| field.value.as_str())
            .filter(|value| values::is_pci_bus_id(value))
            .or_else(|| fields.iter().find_map(|field| values::find_pci_bus_id(&field.value)))
            .map(str::to_owned);
        device.uuid = table::field(&fields, labels.uuid)
            .map(|field| field.value.clone())
            .filter(|uuid| !matches!(uuid.to_ascii_lowercase().as_str(), "" | "n/a" | "na" | "-"));
        if let Some(state) = table::field(&fields, labels.state) {
            let column = format!("{} {}", labels.tool, state.label);
            (device.health, device.health_reason) = health::from_state(&state.value, labels.healthy_states, &column);
        }
        inventory.push(output, line, device)?;
    }
    Ok(inventory.finish(catalogue))
}

/// Used and total memory from the labelled fields, or else from an unlabelled `used / total` with a
/// memory unit (a row the header has no row for, as in abridged captures).
fn memory(fields: &[Field], labels: &[&str]) -> (Option<u64>, Option<u64>) {
    let labelled = labels.iter().filter_map(|label| table::field(fields, &[label])).find_map(|field| {
        let text = field.value.as_str();
        values::used_total(text, Unit::Mib)
            .or_else(|| values::used_paren_total(text))
            .map(|(used, total)| (Some(used), Some(total)))
            .or_else(|| first_size(text).map(|total| (None, Some(total))))
    });
    labelled
        .or_else(|| {
            fields
                .iter()
                .filter(|field| field.label.is_empty())
                .find_map(|field| values::used_total_with_unit(&field.value))
                .map(|(used, total)| (Some(used), Some(total)))
        })
        .unwrap_or((None, None))
}

/// The first token of `text` that is a size with a memory unit (`49120MiB` in `49120MiB Disable`).
fn first_size(text: &str) -> Option<u64> {
    values::mib(text, Unit::Mib).or_else(|| {
        text.split_whitespace().find_map(|token| {
            let unit = token.trim_start_matches(|ch: char| ch.is_ascii_digit() || ch == '.');
            (!unit.is_empty()).then(|| values::mib(token, Unit::Mib)).flatten()
        })
    })
}
