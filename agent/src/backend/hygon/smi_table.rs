//! The banner table of `hy-smi` (and of `rocm-smi` in Hygon's DTK).
//!
//! Between `System Management Interface` banners: a header line of single-word labels (`HCU`,
//! `DCU` or `GPU` first; `Temp AvgPwr Perf PwrCap VRAM% HCU%`, newer builds adding `Dec% Enc%`) and
//! one line per device. The table names no product and shows memory only as a percentage, so
//! devices have a blank product name and no memory figure; `HCU%` (`DCU%`, `GPU%`) is the
//! utilisation. `Mode` is not a health state, and no health is shown.

use tidepool_crds::{Catalogue, Family};

use super::super::BackendError;
use super::super::inventory::Inventory;
use super::super::output::Output;
use super::super::values;
use crate::device::Device;

const INDEX_LABELS: [&str; 4] = ["hcu", "dcu", "gpu", "device"];

/// The devices of a banner table, or `None` if `output` has no such header line.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Option<Result<Vec<Device>, BackendError>> {
    let mut lines = output.lines();
    let header = lines.by_ref().find(|line| {
        let labels: Vec<String> = line.text.split_whitespace().map(str::to_ascii_lowercase).collect();
        labels.first().is_some_and(|first| INDEX_LABELS.contains(&first.as_str()))
            && labels.iter().any(|label| label.starts_with("vram"))
    })?;
    let labels: Vec<String> = header.text.split_whitespace().map(str::to_ascii_lowercase).collect();
    let utilisation_at =
        labels.iter().position(|label| label.strip_suffix('%').is_some_and(|unit| INDEX_LABELS[..3].contains(&unit)));
    let mut inventory = Inventory::new();
    for line in lines {
        let text = line.text.trim();
        if text.starts_with('=') {
            break;
        }
        if text.is_empty() {
            continue;
        }
        let cells: Vec<&str> = text.split_whitespace().collect();
        let Some(index) = cells.first().and_then(|cell| values::integer(cell)) else {
            return Some(Err(output.error(line.number, "expected a device line starting with its number")));
        };
        let mut device = Device::new(Family::Hygon, index, "", 0, catalogue);
        device.utilisation_percent = utilisation_at.and_then(|at| cells.get(at)).and_then(|cell| values::percent(cell));
        if let Err(error) = inventory.push(output, line.number, device) {
            return Some(Err(error));
        }
    }
    Some(Ok(inventory.finish(catalogue)))
}
