//! The chip mapping of `npu-smi info -m`.
//!
//! A header `NPU ID  Chip ID  Chip Logic ID  [Chip Phy-ID]  Chip Name` and one line per chip,
//! columns separated by runs of blanks or tabs. The chip logic id is the device number the
//! runtime and the device plugin use; a row whose logic id is `-` (a board's MCU) is not a device.
//! Returned as shown; the backend merges it with `npu-smi info`.

use super::super::BackendError;
use super::super::output::Output;
use super::super::table;
use super::super::values;

/// One line of the mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapped {
    /// The line.
    pub line: usize,
    /// The NPU (card) id.
    pub npu: u32,
    /// The chip's id on its NPU.
    pub chip: u32,
    /// The logic device id; `None` for a `-` (not an NPU chip).
    pub logic: Option<u32>,
    /// The chip name (`Ascend 910A`, `MiniD`, `Mcu`).
    pub name: String,
}

/// The rows of an `npu-smi info -m` mapping, or `None` if `output` has no mapping header.
pub fn rows(output: &Output) -> Option<Result<Vec<Mapped>, BackendError>> {
    let mut lines = output.lines().skip_while(|line| line.text.trim().is_empty());
    let header = lines.next()?;
    let labels: Vec<String> = table::pieces(header.text).iter().map(|label| label.to_ascii_lowercase()).collect();
    let column = |name: &str| labels.iter().position(|label| label == name);
    let (Some(npu_at), Some(chip_at), Some(logic_at), Some(name_at)) =
        (column("npu id"), column("chip id"), column("chip logic id"), column("chip name"))
    else {
        return None;
    };
    let mut rows = Vec::new();
    for line in lines.filter(|line| !line.text.trim().is_empty()) {
        // Columns are wide apart; a squeezed line (single blanks) is split on every blank.
        let mut cells = table::pieces(line.text);
        if cells.len() < labels.len() {
            cells = line.text.split_whitespace().map(str::to_owned).collect();
        }
        let cell = |at: usize| cells.get(at).map_or("", String::as_str);
        let bad = |what: &str| output.error(line.number, format!("not a mapping row: {what}"));
        let npu = values::integer(cell(npu_at)).ok_or_else(|| bad("no NPU ID"));
        let chip = values::integer(cell(chip_at)).ok_or_else(|| bad("no Chip ID"));
        let (npu, chip) = match (npu, chip) {
            (Ok(npu), Ok(chip)) => (npu, chip),
            (Err(error), _) | (_, Err(error)) => return Some(Err(error)),
        };
        let logic = cell(logic_at);
        let logic = match values::integer(logic) {
            Some(logic) => Some(logic),
            None if logic == "-" => None,
            None => return Some(Err(bad("the Chip Logic ID is neither a number nor -"))),
        };
        // The name is the last column and may hold blanks: take every piece from it on.
        let name = cells.get(name_at..).map(|rest| rest.join(" ")).unwrap_or_default();
        rows.push(Mapped { line: line.number, npu, chip, logic, name });
    }
    Some(Ok(rows))
}
