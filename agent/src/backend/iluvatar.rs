//! Iluvatar CoreX GPUs through `ixsmi`.
//!
//! On the node the backend asks `ixsmi --query-gpu=... --format=csv` (machine-readable, columns
//! named in a header line) and falls back to the table `ixsmi` prints. From a file it recognises
//! either:
//!
//! - the CSV: a header line naming `index`, `name`, `memory.total [MiB]`, ... and one line per GPU;
//!   columns are found by name, units in the header or the values;
//! - the table (`GPU Name | Bus-Id | Clock-SM Clock-Mem` over `Fan Temp Perf Pwr:Usage/Cap |
//!   Memory-Usage | GPU-Util Compute M.`), in the 4.x layouts of every width.
//!
//! ixsmi shows no health state, so GPUs listed are healthy. Each chip of a dual-chip board (MR-V100
//! DUO, BI-V150) is its own GPU in ixsmi, and so its own device here.

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::boxed::{self, Labels};
use super::inventory::Inventory;
use super::output::Output;
use super::values::{self, Unit};
use super::vendor_tool::{Node, Vendor};
use crate::device::Device;

/// The backend's name.
pub const NAME: &str = "iluvatar";

/// How Iluvatar devices are read.
pub static VENDOR: Vendor =
    Vendor { name: NAME, tools: &["ixsmi"], dirs: &["/usr/local/corex/bin", "/usr/local/bin"], on_node, parse };

const LABELS: Labels = Labels {
    tool: "ixsmi",
    family: Family::Iluvatar,
    index: &["GPU"],
    name: &["Name"],
    memory: &["Memory-Usage"],
    utilisation: &["GPU-Util"],
    bus: &["Bus-Id"],
    uuid: &[],
    state: &[],
    healthy_states: &[],
};

/// The query the backend runs on the node.
const QUERY: &str = "--query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu,pci.bus_id";

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    let csv = node.run("ixsmi", &[QUERY, "--format=csv"]).and_then(|output| parse_csv(&output, node.catalogue));
    match csv {
        Ok(devices) => Ok(devices),
        Err(_) => parse_table(&node.run("ixsmi", &[])?, node.catalogue),
    }
}

/// Parses an `ixsmi --query-gpu` CSV or the `ixsmi` table, whichever `output` holds.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let first = output.lines().find(|line| !line.text.trim().is_empty());
    if first.is_some_and(|line| line.text.contains("memory.total") || line.text.trim_start().starts_with("index,")) {
        parse_csv(output, catalogue)
    } else {
        parse_table(output, catalogue)
    }
}

fn parse_table(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let grid =
        boxed::find(output, |header| header.contains("gpu") && header.contains("name") && header.contains("bus-id"))
            .ok_or_else(|| {
                output.unrecognised("ixsmi's table (GPU, Name, Bus-Id, Memory-Usage) or ixsmi --query-gpu CSV")
            })?;
    boxed::devices(output, &grid, &LABELS, catalogue)
}

fn parse_csv(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let mut lines = output.lines().filter(|line| !line.text.trim().is_empty());
    let header = lines.next().ok_or_else(|| output.error(0, "empty output, expected an ixsmi --query-gpu CSV"))?;
    let columns: Vec<String> = header.text.split(',').map(|column| column.trim().to_ascii_lowercase()).collect();
    let column = |name: &str| columns.iter().position(|column| column.split_whitespace().next() == Some(name));
    let unit = |at: Option<usize>| {
        let header = at.and_then(|at| columns.get(at)).map_or("", String::as_str);
        let unit = header.split_once('[').and_then(|(_, rest)| rest.strip_suffix(']'));
        unit.and_then(Unit::parse).unwrap_or(Unit::Mib)
    };
    let (index_at, name_at) = match (column("index"), column("name")) {
        (Some(index), Some(name)) => (index, name),
        _ => return Err(output.error(header.number, "the CSV header names no `index` and `name` columns")),
    };
    let (total_at, used_at) = (column("memory.total"), column("memory.used"));
    let (total_unit, used_unit) = (unit(total_at), unit(used_at));
    let mut inventory = Inventory::new();
    for line in lines {
        let cells: Vec<&str> = line.text.split(',').map(str::trim).collect();
        let cell = |at: Option<usize>| at.and_then(|at| cells.get(at)).copied();
        let index = cell(Some(index_at)).and_then(values::integer);
        let index = index.ok_or_else(|| output.error(line.number, "no GPU index in the `index` column"))?;
        let name = cell(Some(name_at)).filter(|name| !name.is_empty());
        let name = name.ok_or_else(|| output.error(line.number, "no product name in the `name` column"))?;
        let total = cell(total_at).and_then(|text| values::mib(text, total_unit)).unwrap_or(0);
        let mut device = Device::new(Family::Iluvatar, index, name, total, catalogue);
        device.memory_used_mib = cell(used_at).and_then(|text| values::mib(text, used_unit));
        device.utilisation_percent = cell(column("utilization.gpu")).and_then(values::percent);
        device.pci_bus_id = cell(column("pci.bus_id")).filter(|id| values::is_pci_bus_id(id)).map(str::to_owned);
        device.uuid = cell(column("uuid")).filter(|uuid| !uuid.is_empty() && *uuid != "N/A").map(str::to_owned);
        inventory.push(output, line.number, device)?;
    }
    Ok(inventory.finish(catalogue))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_csv_is_read_by_column_name() {
        let text = "index, name, uuid, memory.total [MiB], memory.used [MiB], utilization.gpu [%], pci.bus_id\n\
                    0, Iluvatar BI-V150S, GPU-1, 32768 MiB, 114 MiB, 3 %, 00000000:8A:00.0\n\
                    1, Iluvatar BI-V150S, GPU-2, 32768, 0, 0, 00000000:8B:00.0\n";
        let devices = parse(&Output::new(NAME, "ixsmi", text), &Catalogue::builtin()).unwrap();
        assert_eq!(devices.len(), 2);
        assert_eq!(devices[0].model, "iluvatar-bi-v150");
        assert_eq!((devices[0].memory_mib, devices[0].memory_used_mib), (32768, Some(114)));
        assert_eq!(devices[0].utilisation_percent, Some(3));
        assert_eq!(devices[1].uuid.as_deref(), Some("GPU-2"));
        assert_eq!(devices[1].pci_bus_id.as_deref(), Some("00000000:8B:00.0"));
    }

    #[test]
    fn a_csv_row_without_an_index_is_an_error_at_its_line() {
        let text = "index, name, memory.total [MiB]\nx, Iluvatar BI-V150S, 32768\n";
        let error = parse(&Output::new(NAME, "ixsmi", text), &Catalogue::builtin()).unwrap_err();
        assert!(error.to_string().starts_with("iluvatar: ixsmi:2: no GPU index"), "{error}");
    }
}
