//! The JSON of `rocm-smi --json` (and `hy-smi --json`) on Hygon DCUs.
//!
//! An object with one `cardN` object per device (other keys, such as `system`, are skipped). Keys
//! vary between releases, so they are matched by meaning: the product from `Card Series` (else
//! `Card SKU`, `Card Model`), memory from the `vram Total Memory` and `vram Total Used Memory` keys
//! in the unit their key names (`(MiB)`, `(B)`), utilisation from `... use (%)`, the id from
//! `Unique ID`. A card whose `Card Vendor` is AMD is not a Hygon device and is left out (rocm-smi
//! is also AMD's tool). No health is shown.

use serde_json::{Map, Value};
use tidepool_crds::{Catalogue, Family};

use super::super::BackendError;
use super::super::inventory::Inventory;
use super::super::output::Output;
use super::super::values::{self, Unit};
use crate::device::Device;

/// The devices of a rocm-smi JSON output, or `None` if `output` is not JSON.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Option<Result<Vec<Device>, BackendError>> {
    if !output.text.trim_start().starts_with('{') {
        return None;
    }
    Some(read(output, catalogue))
}

fn read(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let value: Value = serde_json::from_str(&output.text)
        .map_err(|error| output.error(error.line(), format!("not valid rocm-smi JSON: {error}")))?;
    let Value::Object(cards) = value else {
        return Err(output.error(output.first_line(), "rocm-smi JSON must be an object of cards"));
    };
    let mut found: Vec<(u32, &Map<String, Value>, usize)> = Vec::new();
    for (key, card) in &cards {
        let Some(index) = key.strip_prefix("card").and_then(values::integer) else {
            continue;
        };
        let line = line_of(&output.text, &format!("\"{key}\""));
        let Value::Object(card) = card else {
            return Err(output.error(line, format!("{key} is not an object")));
        };
        found.push((index, card, line));
    }
    found.sort_by_key(|(index, _, _)| *index);
    let mut inventory = Inventory::new();
    for (index, card, line) in found {
        let vendor = text(card, |key| key == "card vendor").unwrap_or_default();
        if vendor.to_ascii_lowercase().contains("advanced micro devices") {
            continue;
        }
        let name = ["card series", "card sku", "card model"].iter().find_map(|wanted| text(card, |key| key == *wanted));
        let total = memory(card, |key| key.contains("total memory") && !key.contains("used"));
        let mut device = Device::new(Family::Hygon, index, &name.unwrap_or_default(), total.unwrap_or(0), catalogue);
        device.memory_used_mib = memory(card, |key| key.contains("total used memory"));
        device.utilisation_percent = text(card, |key| key.ends_with("use (%)") && !key.contains("memory"))
            .and_then(|use_| values::percent(&use_));
        device.uuid = text(card, |key| key == "unique id").filter(|id| !id.eq_ignore_ascii_case("n/a"));
        device.pci_bus_id = text(card, |key| key == "pci bus").filter(|bus| values::is_pci_bus_id(bus));
        inventory.push(output, line, device)?;
    }
    Ok(inventory.finish(catalogue))
}

/// The value (a string, or a number written out) of the first key, lower-cased, that `wanted` accepts.
fn text(card: &Map<String, Value>, wanted: impl Fn(&str) -> bool) -> Option<String> {
    card.iter().find(|(key, _)| wanted(&key.to_ascii_lowercase())).and_then(|(_, value)| match value {
        Value::String(text) => Some(text.trim().to_owned()).filter(|text| !text.is_empty()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    })
}

/// A VRAM figure in MiB from the first `vram` key `wanted` accepts, in the unit the key names.
fn memory(card: &Map<String, Value>, wanted: impl Fn(&str) -> bool) -> Option<u64> {
    let (key, _) = card.iter().find(|(key, _)| {
        let key = key.to_ascii_lowercase();
        key.contains("vram") && wanted(&key)
    })?;
    let lower = key.to_ascii_lowercase();
    let unit = lower.rsplit_once('(').and_then(|(_, unit)| unit.strip_suffix(')')).and_then(Unit::parse);
    let value = text(card, |candidate| candidate == lower)?;
    values::mib(&value, unit.unwrap_or(Unit::Bytes))
}

/// The 1-based line of the first occurrence of `needle` in `text` (0 if absent).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle).map_or(0, |at| text[..at].matches('\n').count() + 1)
}
