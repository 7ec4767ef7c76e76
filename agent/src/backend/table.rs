//! Box-drawn text tables, as nvidia-smi-style tools print them, read by meaning.
//!
//! Such a table has a header of one or more rows of `|`-separated cells, then device records of one
//! or more rows, with rule lines (`+----+`, `|====|`, `-----`) between. Inside a cell several
//! values stand side by side (`Fan  Temp  Pwr:Usage/Cap` over `0%  32C  106 W/ 250 W`). This module
//! finds the header by the words it holds, splits the records, and pairs every value with the
//! header label above it, so backends look fields up by name instead of by column. It does not
//! know any vendor's labels or interpret values; see [`super::values`].
//!
//! Pairing a cell's values with its labels: labels are separated by two or more blanks (so
//! `Compute M.` is one label); values likewise (so `MetaX C500` is one value), a `/` joining its
//! neighbours (`0    / 0` is one value). When the counts differ, single-blank tokens are tried,
//! and a label `Name` absorbs the extra values. Cells whose values cannot be paired still give the
//! whole cell under the whole header cell, and rows without a header row give unlabelled cells.

use super::output::Line;
use super::values;

/// One table row: its line number and trimmed cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number.
    pub line: usize,
    /// The cells between `|`s, trimmed. A row without borders keeps its first cell even when
    /// blank, so continuation rows (`      |  N/A`) stay aligned with their header row.
    pub cells: Vec<String>,
}

impl Row {
    /// The first whitespace-separated token of the first cell.
    pub fn first_token(&self) -> Option<&str> {
        self.cells.first().and_then(|cell| cell.split_whitespace().next())
    }

    /// Whether the row starts with a device number (a record's first row usually does).
    pub fn starts_with_number(&self) -> bool {
        self.first_token().and_then(values::integer).is_some()
    }
}

/// A header with the blocks of rows that follow it.
#[derive(Clone, Debug, Default)]
pub struct Grid {
    /// The header rows.
    pub header: Vec<Row>,
    /// The blocks of rows between rules after the header, up to the end of the table.
    pub blocks: Vec<Vec<Row>>,
}

/// One device's rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The rows, the first one starting with the device number.
    pub rows: Vec<Row>,
}

/// A value with the header label it stands under (`""` when its row has no header row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// The header label, blanks collapsed.
    pub label: String,
    /// The value, trimmed.
    pub value: String,
    /// The value's line.
    pub line: usize,
}

/// Whether a line is a rule: only `-`, `=`, `+` and `|` (at least three dashes or equals signs),
/// or a `+...+` border with a caption such as efsmi's timestamp.
pub fn is_rule(text: &str) -> bool {
    let text = text.trim();
    let drawn = text.chars().filter(|ch| matches!(ch, '-' | '=')).count();
    let only_drawing = text.chars().all(|ch| matches!(ch, '-' | '=' | '+' | '|'));
    (only_drawing && drawn >= 3) || (text.len() > 2 && text.starts_with('+') && text.ends_with('+'))
}

/// The cells of a table row, or `None` for a line without `|` (or a rule). A row bordered on both
/// sides loses its borders; in one that is not, the text before the first `|` is the first cell.
pub fn cells(text: &str) -> Option<Vec<String>> {
    let text = text.trim_end();
    if !text.contains('|') || is_rule(text) {
        return None;
    }
    // Bordered on both sides: drop the borders. Otherwise (mthreads-gmi) the text before the
    // first `|` is the first cell, blank or not.
    let trimmed = text.trim_start();
    let inner = match trimmed.strip_prefix('|').and_then(|rest| rest.strip_suffix('|')) {
        Some(inner) => inner,
        None => text,
    };
    Some(inner.split('|').map(|cell| cell.trim().to_owned()).collect())
}

/// A cell's values: runs separated by two or more blanks or a tab, with `a / b` kept together.
pub fn pieces(text: &str) -> Vec<String> {
    let mut raw: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut blanks = 0;
    for ch in text.chars() {
        if ch == '\t' {
            blanks += 2;
            continue;
        }
        if ch.is_whitespace() {
            blanks += 1;
            continue;
        }
        if !current.is_empty() && blanks >= 2 {
            raw.push(std::mem::take(&mut current));
        } else if !current.is_empty() && blanks == 1 {
            current.push(' ');
        }
        blanks = 0;
        current.push(ch);
    }
    if !current.is_empty() {
        raw.push(current);
    }
    join_slashes(raw, false)
}

/// A cell's single-blank tokens, with `a / b` kept together.
pub fn tokens(text: &str) -> Vec<String> {
    join_slashes(text.split_whitespace().map(str::to_owned).collect(), true)
}

/// Joins a value ending in `/` to the next and one starting with `/` to the previous; a lone `/`
/// joins both sides only when `lone_joins` (a lone `/` may be a value: cnmon's empty `VF`).
fn join_slashes(parts: Vec<String>, lone_joins: bool) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut glue_next = false;
    for part in parts {
        let lone = part == "/";
        let starts = part.starts_with('/') && (!lone || lone_joins);
        let ends = part.ends_with('/') && (!lone || lone_joins);
        match out.last_mut() {
            Some(last) if glue_next || starts => {
                last.push(' ');
                last.push_str(&part);
            }
            _ => out.push(part),
        }
        glue_next = ends;
    }
    out
}

/// Pairs the values of a cell with the labels of its header cell (see the module docs); empty
/// when the header cell has fewer than two labels or the values cannot be paired.
pub fn labelled(header: &str, value: &str) -> Vec<(String, String)> {
    let labels = pieces(header);
    if labels.len() < 2 {
        return Vec::new();
    }
    for values in [pieces(value), tokens(value)] {
        if let Some(pairs) = pair(&labels, &values) {
            return pairs;
        }
    }
    Vec::new()
}

fn pair(labels: &[String], values: &[String]) -> Option<Vec<(String, String)>> {
    if values.len() == labels.len() {
        return Some(labels.iter().cloned().zip(values.iter().cloned()).collect());
    }
    let name = labels.iter().position(|label| label.eq_ignore_ascii_case("name"))?;
    let extra = values.len().checked_sub(labels.len())?;
    let name_end = name + extra + 1;
    let (label, labels_after) = (labels.get(name)?, labels.get(name + 1..)?);
    let mut pairs: Vec<(String, String)> = labels.iter().cloned().zip(values.get(..name)?.iter().cloned()).collect();
    pairs.push((label.clone(), values.get(name..name_end)?.join(" ")));
    pairs.extend(labels_after.iter().cloned().zip(values.get(name_end..)?.iter().cloned()));
    Some(pairs)
}

enum Item {
    Rows(Vec<Row>),
    Break,
}

/// Groups lines into blocks of rows, rules ending a block and other lines ending the table.
fn items<'a>(lines: impl Iterator<Item = Line<'a>>) -> Vec<Item> {
    let mut items = Vec::new();
    let mut block: Vec<Row> = Vec::new();
    for line in lines {
        if is_rule(line.text) {
            if !block.is_empty() {
                items.push(Item::Rows(std::mem::take(&mut block)));
            }
        } else if let Some(cells) = cells(line.text) {
            block.push(Row { line: line.number, cells });
        } else {
            if !block.is_empty() {
                items.push(Item::Rows(std::mem::take(&mut block)));
            }
            items.push(Item::Break);
        }
    }
    if !block.is_empty() {
        items.push(Item::Rows(block));
    }
    items
}

/// The first table whose header block's text (lower-cased) satisfies `is_header`, with the blocks
/// of device rows after it: blocks up to a non-table line or a block not starting with a number
/// (the next table's header, such as a process list's). Rows starting with a number inside the
/// header block (no rule under the header) are the first device block.
pub fn grid<'a>(lines: impl Iterator<Item = Line<'a>>, is_header: impl Fn(&str) -> bool) -> Option<Grid> {
    let mut items = items(lines).into_iter();
    let header = items.by_ref().find_map(|item| match item {
        Item::Rows(rows) => {
            let text = rows.iter().flat_map(|row| row.cells.iter()).cloned().collect::<Vec<_>>().join(" | ");
            is_header(&text.to_lowercase()).then_some(rows)
        }
        Item::Break => None,
    })?;
    // An abridged capture may lack the rule under the header: its device rows then share the block.
    let (header, first) = match header.iter().skip(1).position(Row::starts_with_number) {
        Some(at) => {
            let mut header = header;
            let rows = header.split_off(at + 1);
            (header, Some(rows))
        }
        None => (header, None),
    };
    let mut blocks: Vec<Vec<Row>> = first.into_iter().collect();
    for item in items {
        match item {
            Item::Rows(rows) if rows.first().is_some_and(Row::starts_with_number) => blocks.push(rows),
            _ => break,
        }
    }
    Some(Grid { header, blocks })
}

impl Grid {
    /// The device records: a row starting with a number begins a new record once the current one
    /// has as many rows as the header (so a second row that starts with a chip number stays with
    /// its device, and one-row devices without rules between them are told apart).
    pub fn records(&self) -> Vec<Record> {
        let mut records = Vec::new();
        for block in &self.blocks {
            let mut current: Vec<Row> = Vec::new();
            for row in block {
                if !current.is_empty() && row.starts_with_number() && current.len() >= self.header.len() {
                    records.push(Record { rows: std::mem::take(&mut current) });
                }
                current.push(row.clone());
            }
            if !current.is_empty() {
                records.push(Record { rows: current });
            }
        }
        records
    }
}

impl Record {
    /// The record's first line.
    pub fn line(&self) -> usize {
        self.rows.first().map_or(0, |row| row.line)
    }

    /// Every value with its label: whole cells under whole header cells, then the values inside
    /// cells under their own labels, then cells of rows the header has no row for, unlabelled.
    pub fn fields(&self, header: &[Row]) -> Vec<Field> {
        let mut fields = Vec::new();
        for (at, row) in self.rows.iter().enumerate() {
            let header_row = header.get(at);
            for (column, value) in row.cells.iter().enumerate() {
                let label = header_row.and_then(|header_row| header_row.cells.get(column));
                let collapsed = label.map_or(String::new(), |label| pieces(label).join(" "));
                fields.push(Field { label: collapsed, value: value.clone(), line: row.line });
                if let Some(label) = label {
                    fields.extend(labelled(label, value).into_iter().map(|(label, value)| Field {
                        label,
                        value,
                        line: row.line,
                    }));
                }
            }
        }
        fields
    }
}

/// The first field whose label is one of `labels` (case ignored).
pub fn field<'f>(fields: &'f [Field], labels: &[&str]) -> Option<&'f Field> {
    labels.iter().find_map(|wanted| fields.iter().find(|field| field.label.eq_ignore_ascii_case(wanted)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_keep_names_and_pairs_together() {
        assert_eq!(pieces("0       MetaX C500             Off"), ["0", "MetaX C500", "Off"]);
        assert_eq!(pieces("118.6       47                0    / 0"), ["118.6", "47", "0 / 0"]);
        assert_eq!(pieces("6           0    / 0          35738/ 65536"), ["6", "0 / 0", "35738/ 65536"]);
        assert_eq!(pieces("0     /   MLU370-X8    v1.1.6"), ["0", "/", "MLU370-X8", "v1.1.6"]);
        assert_eq!(pieces("a\tb"), ["a", "b"]);
        assert_eq!(tokens("0 / 0 x"), ["0 / 0", "x"]);
    }

    #[test]
    fn labels_pair_with_values_and_names_absorb_the_rest() {
        let pairs = labelled("GPU  Name", "0    Iluvatar BI-V150S");
        assert_eq!(pairs, [("GPU".into(), "0".into()), ("Name".into(), "Iluvatar BI-V150S".into())]);
        let pairs = labelled("Mem     GCU Virt", "49120MiB Disable");
        assert_eq!(pairs, [("Mem".into(), "49120MiB".into()), ("GCU Virt".into(), "Disable".into())]);
        let pairs = labelled("DEV  NAME  X", "0 Some Long Name 7");
        assert_eq!(pairs[1], ("NAME".into(), "Some Long Name".into()));
        assert!(labelled("TEMP   Dpm   Pwr(Usage/Cap)", "39 C   Sleep    105W  300W").is_empty());
        assert!(labelled("Memory-Usage", "0 MiB/ 23374 MiB").is_empty());
    }

    #[test]
    fn rules_and_cells() {
        assert!(is_rule("+-------+------+"));
        assert!(is_rule("|=======+======|"));
        assert!(is_rule("+2024-12-06, 11:33:56 CST-----------+"));
        assert!(!is_rule("| 0 | x |"));
        assert!(!is_rule("----- Enflame System Management Interface -----"));
        assert_eq!(cells("| a | b  c |").unwrap(), ["a", "b  c"]);
        assert_eq!(cells("        |   N/A").unwrap(), ["", "N/A"]);
        assert_eq!(cells("no bars"), None);
    }
}
