//! The XML of `nvidia-smi -q -x`.
//!
//! An `<nvidia_smi_log>` with one `<gpu>` per GPU: `product_name`, `uuid`, `minor_number`,
//! `pci/pci_bus_id`, `fb_memory_usage/{total,used}`, `utilization/gpu_util`, and the states that
//! need a reset or a drain (`gpu_reset_status`, `remapped_rows`, `retired_pages`), which make the
//! GPU unhealthy. The XML has no index field: a GPU's index is its minor number (the number in
//! `/dev/nvidiaN`, which follows the same PCI order on ordinary systems, and which a capture
//! filtered with `-i N` keeps), else its position. MIG instances are not listed as devices.
//! nvidia-smi -q does not show NVLink peers or NUMA nodes.

use roxmltree::{Document, Node, ParsingOptions};
use tidepool_crds::{Catalogue, Family};

use super::super::BackendError;
use super::super::inventory::Inventory;
use super::super::output::Output;
use super::super::values::{self, Unit};
use crate::device::{Device, Health};

/// States that make a GPU unhealthy: the path of the element, the value that means trouble, and
/// the state's name.
const TROUBLE: [(&[&str], &str, &str); 5] = [
    (&["gpu_reset_status", "reset_required"], "Yes", "ResetRequired"),
    (&["gpu_reset_status", "drain_and_reset_recommended"], "Yes", "DrainAndResetRecommended"),
    (&["remapped_rows", "remapped_row_failure"], "Yes", "RowRemapFailure"),
    (&["remapped_rows", "remapped_row_pending"], "Yes", "RowRemapPending"),
    (&["retired_pages", "pending_retirement"], "Yes", "RetiredPagesPending"),
];

/// Whether `output` looks like XML at all.
pub fn is_xml(output: &Output) -> bool {
    output.text.trim_start().starts_with('<')
}

/// The GPUs of an `nvidia-smi -q -x` output.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    // The XML declaration must come first: skip the blank line a blanked `# SOURCE:` header
    // leaves, and count it back into line numbers.
    let start = output.text.len() - output.text.trim_start().len();
    let skipped = output.text[..start].matches('\n').count();
    let xml = &output.text[start..];
    let options = ParsingOptions { allow_dtd: true, ..ParsingOptions::default() };
    let document = Document::parse_with_options(xml, options).map_err(|error| {
        // The decoder's own `at row:col` counts from the trimmed text: the line given is the file's.
        let message = error.to_string();
        let message = message.rsplit_once(" at ").map_or(message.as_str(), |(message, _)| message);
        output.error(error.pos().row as usize + skipped, format!("not valid XML: {message}"))
    })?;
    let root = document.root_element();
    if root.tag_name().name() != "nvidia_smi_log" {
        return Err(output.error(skipped + 1, "an XML document, but not nvidia-smi -q -x (no <nvidia_smi_log>)"));
    }
    let line_of = |node: Node<'_, '_>| document.text_pos_at(node.range().start).row as usize + skipped;
    let mut inventory = Inventory::new();
    for (position, gpu) in root.children().filter(|node| node.has_tag_name("gpu")).enumerate() {
        let line = line_of(gpu);
        let name = text(gpu, &["product_name"]).ok_or_else(|| output.error(line, "a <gpu> without <product_name>"))?;
        let index = text(gpu, &["minor_number"])
            .and_then(values::integer)
            .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
        let total = text(gpu, &["fb_memory_usage", "total"]).and_then(|total| values::mib(total, Unit::Mib));
        let mut device = Device::new(Family::Nvidia, index, name, total.unwrap_or(0), catalogue);
        device.memory_used_mib = text(gpu, &["fb_memory_usage", "used"]).and_then(|used| values::mib(used, Unit::Mib));
        device.utilisation_percent = text(gpu, &["utilization", "gpu_util"]).and_then(values::percent);
        device.uuid = text(gpu, &["uuid"]).map(str::to_owned);
        device.pci_bus_id = text(gpu, &["pci", "pci_bus_id"]).or_else(|| gpu.attribute("id")).map(str::to_owned);
        if let Some((path, _, state)) =
            TROUBLE.iter().find(|(path, bad, _)| text(gpu, path).is_some_and(|value| value.eq_ignore_ascii_case(bad)))
        {
            device.health = Health::Unhealthy((*state).to_owned());
            device.health_reason = Some(format!("nvidia-smi {}: Yes", path.join("/")));
        }
        inventory.push(output, line, device)?;
    }
    Ok(inventory.finish(catalogue))
}

/// The trimmed text of the element at `path` under `node`, if there and not `N/A`.
fn text<'a>(node: Node<'a, '_>, path: &[&str]) -> Option<&'a str> {
    let element = path.iter().try_fold(node, |at, name| at.children().find(|child| child.has_tag_name(*name)))?;
    element.text().map(str::trim).filter(|text| !text.is_empty() && *text != "N/A")
}
