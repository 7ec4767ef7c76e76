//! The device table of `npu-smi info`.
//!
//! Each NPU is an NPU row (`NPU Name | Health | Power(W) Temp(C) Hugepages-Usage(page)`) followed
//! by one row per chip (`Chip [Device] | Bus-Id | AICore(%) Memory-Usage(MB) [HBM-Usage(MB)]`);
//! the header's two rows label them. A row is a chip row when its second cell is a PCI address
//! (or, lacking one, when it is not first in its block and its second cell is not a health word).
//! The process table that follows is ignored. This module returns the chips as shown; turning
//! them into devices (which number is the device index) is the backend's.

use super::super::BackendError;
use super::super::output::Output;
use super::super::table::{self, Field, Record, Row};
use super::super::values::{self, Unit};

/// One chip row with its NPU row, as `npu-smi info` shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chip {
    /// The chip row's line.
    pub line: usize,
    /// The NPU (card) id.
    pub npu: u32,
    /// The chip's id on its NPU.
    pub chip: u32,
    /// The logic device id (`/dev/davinciN`), where the table has a `Device` column.
    pub device: Option<u32>,
    /// The NPU's name (`910B2C`, `310`).
    pub name: String,
    /// The NPU's health word (`OK`, `Warning`, `Alarm`, `Critical`).
    pub health: String,
    /// The chip's PCI address.
    pub bus: Option<String>,
    /// AI Core utilisation in percent.
    pub aicore: Option<u32>,
    /// Device memory `(used, total)` in MiB: the HBM where the chip has any, else `Memory-Usage`.
    pub memory: Option<(u64, u64)>,
}

/// The chips of an `npu-smi info` table, or `None` if `output` has no such table.
pub fn chips(output: &Output) -> Option<Result<Vec<Chip>, BackendError>> {
    let grid = table::grid(output.lines(), |header| {
        header.contains("npu") && header.contains("name") && header.contains("health")
    })?;
    Some(read(output, &grid.header, &grid.blocks))
}

fn read(output: &Output, header: &[Row], blocks: &[Vec<Row>]) -> Result<Vec<Chip>, BackendError> {
    let mut chips = Vec::new();
    for block in blocks {
        let mut npu_row: Option<(&Row, bool)> = None;
        for (at, row) in block.iter().enumerate() {
            if is_npu_row(row, at == 0) {
                if let Some((previous, false)) = npu_row {
                    return Err(output.error(previous.line, "an NPU row without a chip row after it"));
                }
                npu_row = Some((row, false));
                continue;
            }
            let Some((npu, _)) = npu_row else {
                return Err(output.error(row.line, "a chip row before any NPU row"));
            };
            npu_row = Some((npu, true));
            chips.push(chip(output, header, npu, row)?);
        }
        if let Some((npu, false)) = npu_row {
            return Err(output.error(npu.line, "an NPU row without a chip row after it"));
        }
    }
    Ok(chips)
}

fn is_npu_row(row: &Row, first_in_block: bool) -> bool {
    let second = row.cells.get(1).map_or("", String::as_str);
    if values::is_pci_bus_id(second) {
        return false;
    }
    let word = !second.is_empty() && second.chars().all(|ch| ch.is_ascii_alphabetic());
    first_in_block || (word && !second.eq_ignore_ascii_case("na"))
}

fn chip(output: &Output, header: &[Row], npu_row: &Row, chip_row: &Row) -> Result<Chip, BackendError> {
    let fields = Record { rows: vec![npu_row.clone(), chip_row.clone()] }.fields(header);
    let text = |labels: &[&str]| table::field(&fields, labels).map(|field| field.value.clone());
    let npu = text(&["NPU"])
        .or_else(|| npu_row.first_token().map(str::to_owned))
        .and_then(|npu| values::integer(&npu))
        .ok_or_else(|| output.error(npu_row.line, "no NPU id at the start of the NPU row"))?;
    let name = text(&["Name"])
        .or_else(|| npu_row.cells.first().and_then(|cell| table::pieces(cell).get(1).cloned()))
        .filter(|name| !name.is_empty())
        .ok_or_else(|| output.error(npu_row.line, "no NPU name after the NPU id"))?;
    let chip = text(&["Chip", "Chip Phy-ID", "Chip ID"])
        .or_else(|| chip_row.first_token().map(str::to_owned))
        .and_then(|chip| values::integer(&chip))
        .ok_or_else(|| output.error(chip_row.line, "no chip id at the start of the chip row"))?;
    Ok(Chip {
        line: chip_row.line,
        npu,
        chip,
        device: text(&["Device"]).and_then(|device| values::integer(&device)),
        name,
        health: text(&["Health"]).unwrap_or_default(),
        bus: text(&["Bus-Id"]).filter(|bus| values::is_pci_bus_id(bus)),
        aicore: text(&["AICore(%)"]).and_then(|aicore| values::percent(&aicore)),
        memory: memory(&fields),
    })
}

/// The HBM figures where the chip has HBM, else the `Memory-Usage` ones.
fn memory(fields: &[Field]) -> Option<(u64, u64)> {
    // A single label (no blank) starting with the word: `HBM-Usage(MB)`, not the whole cell's.
    let pair = |word: &str| {
        fields
            .iter()
            .filter(|field| !field.label.contains(' ') && field.label.to_ascii_lowercase().starts_with(word))
            .find_map(|field| values::used_total(&field.value, Unit::Mib))
    };
    pair("hbm-usage").filter(|(_, total)| *total > 0).or_else(|| pair("memory-usage"))
}
