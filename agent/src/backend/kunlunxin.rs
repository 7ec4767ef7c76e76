//! Kunlunxin XPUs through `xpu-smi` (older drivers: `xpu_smi`).
//!
//! On the node the backend runs `xpu-smi -m`, the machine-readable form, and falls back to the
//! table `xpu-smi` prints when `-m` fails or prints something else. From a file it recognises
//! either:
//!
//! - the table: a `DEVICES` grid `DevID | PCI Addr | Model | SN | INODE | UseRate | L3 | Memory`,
//!   one row per device (the `VIDEO` and `PROCESSES` grids after it are ignored);
//! - `-m` lines: one line per device of space-separated fields with the product name in quotes.
//!   They carry no labels, so fields are read by position, as public parsers of `-m` read them:
//!   0 PCI address, 1 device number, 3 serial number, 17 memory used and 18 total (MB), 19
//!   utilisation (%); a line whose PCI address, number or total does not fit is rejected.
//!
//! Neither form shows a health state, so devices listed are healthy.

use tidepool_crds::{Catalogue, Family};

use super::BackendError;
use super::boxed::{self, Labels};
use super::inventory::Inventory;
use super::output::Output;
use super::values::{self, Unit};
use super::vendor_tool::{Node, Vendor};
use crate::device::Device;

/// The backend's name.
pub const NAME: &str = "kunlunxin";

/// How Kunlunxin devices are read.
pub static VENDOR: Vendor = Vendor {
    name: NAME,
    tools: &["xpu-smi", "xpu_smi"],
    dirs: &["/usr/local/xpu/bin", "/usr/local/bin"],
    on_node,
    parse,
};

const LABELS: Labels = Labels {
    tool: "xpu-smi",
    family: Family::Kunlunxin,
    index: &["DevID"],
    name: &["Model"],
    memory: &["Memory"],
    utilisation: &["UseRate"],
    bus: &["PCI Addr"],
    uuid: &["SN"],
    state: &[],
    healthy_states: &[],
};

/// Fewest fields a `-m` line has (the utilisation is field 19).
const MACHINE_FIELDS: usize = 20;

fn on_node(node: &Node<'_>) -> Result<Vec<Device>, BackendError> {
    let tool = node.first_tool()?;
    let machine = node.run(tool, &["-m"]).and_then(|output| parse_machine(&output, node.catalogue));
    match machine {
        Ok(devices) => Ok(devices),
        Err(_) => parse_table(&node.run(tool, &[])?, node.catalogue),
    }
}

/// Parses an `xpu-smi -m` output or the `xpu-smi` table, whichever `output` holds.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let first = output.lines().find(|line| !line.text.trim().is_empty());
    let machine = first.is_some_and(|line| {
        let fields = split_quoted(line.text);
        fields.len() >= MACHINE_FIELDS && fields.first().is_some_and(|(field, _)| values::is_pci_bus_id(field))
    });
    if machine { parse_machine(output, catalogue) } else { parse_table(output, catalogue) }
}

fn parse_table(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let grid =
        boxed::find(output, |header| header.contains("devid") && header.contains("memory")).ok_or_else(|| {
            output.unrecognised("xpu-smi's DEVICES table (DevID, PCI Addr, Model, Memory) or xpu-smi -m lines")
        })?;
    boxed::devices(output, &grid, &LABELS, catalogue)
}

fn parse_machine(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let mut inventory = Inventory::new();
    for line in output.lines().filter(|line| !line.text.trim().is_empty()) {
        let fields = split_quoted(line.text);
        let at = |position: usize| fields.get(position).map(|(text, _)| text.as_str()).unwrap_or("");
        let bad = |what: &str| output.error(line.number, format!("not an xpu-smi -m device line: {what}"));
        if fields.len() < MACHINE_FIELDS {
            return Err(bad(&format!("{} fields, expected at least {MACHINE_FIELDS}", fields.len())));
        }
        if !values::is_pci_bus_id(at(0)) {
            return Err(bad("field 0 is not a PCI address"));
        }
        let index = values::integer(at(1)).ok_or_else(|| bad("field 1 is not a device number"))?;
        let total = values::mib(at(18), Unit::Mib).filter(|total| *total > 0);
        let total = total.ok_or_else(|| bad("field 18 is not a memory total"))?;
        let name = fields.iter().find(|(_, quoted)| *quoted).map(|(text, _)| text.as_str());
        let name = name.ok_or_else(|| bad("no quoted product name"))?;
        let mut device = Device::new(Family::Kunlunxin, index, name, total, catalogue);
        device.memory_used_mib = values::mib(at(17), Unit::Mib);
        device.utilisation_percent = values::percent(at(19));
        device.pci_bus_id = Some(at(0).to_owned());
        device.uuid = Some(at(3).to_owned()).filter(|serial| !serial.is_empty());
        inventory.push(output, line.number, device)?;
    }
    Ok(inventory.finish(catalogue))
}

/// Whitespace-separated fields, a `"double-quoted run"` being one field; each with whether it was
/// quoted. An unclosed quote runs to the end of the line.
fn split_quoted(text: &str) -> Vec<(String, bool)> {
    let mut fields = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&ch) = chars.peek() {
        if ch.is_whitespace() {
            chars.next();
        } else if ch == '"' {
            chars.next();
            fields.push((chars.by_ref().take_while(|ch| *ch != '"').collect(), true));
        } else {
            let mut field = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() {
                    break;
                }
                field.push(ch);
                chars.next();
            }
            fields.push((field, false));
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    // The field layout public `xpu-smi -m` parsers rely on (no real capture is in the fixtures).
    const LINE: &str =
        "00000000:16:00.0 1 1 SN123 37 0 0 0 93 1450 1450 1450 1450 1450 1450 0 96 512 98304 7 FW \"P800 OAM\" 0";

    #[test]
    fn machine_lines_are_read_by_position() {
        let output = Output::new(NAME, "xpu-smi -m", &format!("{LINE}\n"));
        let devices = parse(&output, &Catalogue::builtin()).unwrap();
        assert_eq!(devices.len(), 1);
        let device = &devices[0];
        assert_eq!((device.index, device.product_name.as_str()), (1, "P800 OAM"));
        assert_eq!(
            (device.memory_mib, device.memory_used_mib, device.utilisation_percent),
            (98304, Some(512), Some(7))
        );
        assert_eq!(device.pci_bus_id.as_deref(), Some("00000000:16:00.0"));
        assert_eq!(device.uuid.as_deref(), Some("SN123"));
    }

    #[test]
    fn a_short_machine_line_is_an_error_at_its_line() {
        let text = format!("{LINE}\n00000000:17:00.0 2 2 SN 37\n");
        let error = parse_machine(&Output::new(NAME, "xpu-smi -m", &text), &Catalogue::builtin()).unwrap_err();
        assert!(error.to_string().starts_with("kunlunxin: xpu-smi -m:2: not an xpu-smi -m device line"), "{error}");
    }

    #[test]
    fn quoted_fields_stay_whole() {
        let fields = split_quoted(r#"a "b c" d "e"#);
        assert_eq!(fields, [("a".into(), false), ("b c".into(), true), ("d".into(), false), ("e".into(), true)]);
    }
}
