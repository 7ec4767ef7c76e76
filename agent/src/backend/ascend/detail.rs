//! The `Key : Value` outputs of `npu-smi info -t board`, `-t board -c N` and `-t common`.
//!
//! Each is one NPU's (or chip's) properties, one per line; several may be concatenated, each
//! starting at its `NPU ID` line. What they show: the NPU id, the chip name (`-t board -c` only,
//! possibly redacted), the PCI address (`PCIe Bus Info`), AI Core utilisation (`-t common`) and a
//! health status where the variant has one. None shows memory figures (only usage rates).

use super::super::BackendError;
use super::super::output::Output;
use super::super::values;

/// One NPU's `Key : Value` properties, keys trimmed, with the line of its `NPU ID`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Properties {
    /// The `NPU ID` line.
    pub line: usize,
    /// The NPU id.
    pub npu: u32,
    /// Every `(key, value)`, in order.
    pub pairs: Vec<(String, String)>,
}

impl Properties {
    /// The value of `key` (case ignored), if shown and not `NA`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(key))
            .map(|(_, value)| value.as_str())
            .filter(|value| !value.is_empty() && !value.eq_ignore_ascii_case("na"))
    }
}

/// The NPUs of a `Key : Value` output, or `None` if `output` has no `NPU ID : N` line.
pub fn npus(output: &Output) -> Option<Result<Vec<Properties>, BackendError>> {
    let mut npus: Vec<Properties> = Vec::new();
    for line in output.lines() {
        let Some((key, value)) = line.text.split_once(':') else {
            if line.text.trim().is_empty() || npus.is_empty() {
                continue;
            }
            return Some(Err(output.error(line.number, "expected `Key : Value`")));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.eq_ignore_ascii_case("npu id") {
            let Some(npu) = values::integer(value) else {
                return Some(Err(output.error(line.number, "the NPU ID is not a number")));
            };
            npus.push(Properties { line: line.number, npu, pairs: Vec::new() });
        }
        match npus.last_mut() {
            Some(current) => current.pairs.push((key.to_owned(), value.to_owned())),
            // Text before the first NPU ID line: not this layout.
            None => return None,
        }
    }
    (!npus.is_empty()).then_some(Ok(npus))
}
