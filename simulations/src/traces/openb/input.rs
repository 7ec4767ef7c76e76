//! Rows of an openb CSV file, one at a time: opens the file (gzip when its name ends in `.gz`,
//! plain CSV otherwise), checks the header against the schemas a reader accepts, and hands out
//! rows with their line number and typed accessors that turn a bad value into an
//! [`OpenbError::Field`] naming the file, the line and the column. Nothing here panics on any input.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use super::error::{OpenbError, shown};

/// A source of CSV rows: the file's name (for errors) and its decompressed bytes.
pub(crate) struct Rows {
    file: PathBuf,
    reader: csv::Reader<Box<dyn Read>>,
    record: csv::ByteRecord,
    /// Columns of the accepted header.
    columns: usize,
    /// Line of the last row read, for errors that carry no position.
    last_line: u64,
    /// Set after an error or the end: the iterator is fused.
    done: bool,
}

/// Opens `path`: a gzip stream when the name ends in `.gz` (any case), plain CSV otherwise.
pub(crate) fn open(path: &Path) -> Result<Box<dyn Read>, OpenbError> {
    let file = File::open(path).map_err(|source| OpenbError::Open { file: path.to_owned(), source })?;
    let gzip = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    Ok(if gzip { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) })
}

impl Rows {
    /// Reads the header from `input` and returns the rows after it with the index (into
    /// `schemas`) of the header it matched. `file` names the input in errors.
    pub(crate) fn new(
        file: PathBuf,
        input: Box<dyn Read>,
        schemas: &[&[&'static str]],
    ) -> Result<(Self, usize), OpenbError> {
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
        let mut rows = Self { file, reader, record: csv::ByteRecord::new(), columns: 0, last_line: 0, done: false };
        let expected = schemas.iter().map(|s| s.join(",")).collect::<Vec<_>>().join("` or `");
        match rows.reader.read_byte_record(&mut rows.record) {
            Ok(true) => {}
            Ok(false) => return Err(OpenbError::Empty { file: rows.file, expected }),
            Err(source) => return Err(OpenbError::Read { file: rows.file, line: 1, source }),
        }
        let line = rows.line();
        let found: Vec<&[u8]> =
            rows.record.iter().enumerate().map(|(i, f)| if i == 0 { strip_bom(f) } else { f }).collect();
        let matched = schemas
            .iter()
            .position(|s| s.len() == found.len() && s.iter().zip(&found).all(|(want, got)| want.as_bytes() == *got));
        let Some(schema) = matched else {
            return Err(OpenbError::Header { file: rows.file, line, found: shown(&found.join(&b","[..])), expected });
        };
        rows.columns = schemas[schema].len();
        rows.last_line = line;
        Ok((rows, schema))
    }

    /// The file the rows come from.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// The next row, `None` at the end or after an error.
    pub(crate) fn next_row(&mut self) -> Option<Result<Row<'_>, OpenbError>> {
        if self.done {
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(source) => {
                self.done = true;
                let line = source.position().map_or(self.last_line + 1, csv::Position::line);
                return Some(Err(OpenbError::Read { file: self.file.clone(), line, source }));
            }
        }
        let line = self.line();
        self.last_line = line;
        if self.record.len() != self.columns {
            self.done = true;
            return Some(Err(OpenbError::Columns {
                file: self.file.clone(),
                line,
                found: self.record.len(),
                expected: self.columns,
            }));
        }
        Some(Ok(Row { file: &self.file, line, record: &self.record }))
    }

    /// Marks the rows as finished after an error found in a row's values.
    pub(crate) fn stop(&mut self) {
        self.done = true;
    }

    fn line(&self) -> u64 {
        self.record.position().map_or(self.last_line + 1, csv::Position::line)
    }
}

fn strip_bom(field: &[u8]) -> &[u8] {
    field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
}

/// One row, borrowed from the reader, with accessors by column index and name.
pub(crate) struct Row<'a> {
    file: &'a Path,
    line: u64,
    record: &'a csv::ByteRecord,
}

impl Row<'_> {
    fn raw(&self, index: usize) -> &[u8] {
        self.record.get(index).unwrap_or_default()
    }

    /// An error about the value of one column.
    pub(crate) fn error(&self, index: usize, column: &'static str, problem: impl Into<String>) -> OpenbError {
        OpenbError::Field {
            file: self.file.to_owned(),
            line: self.line,
            column,
            value: shown(self.raw(index)),
            problem: problem.into(),
        }
    }

    /// The value as text.
    pub(crate) fn text(&self, index: usize, column: &'static str) -> Result<&str, OpenbError> {
        std::str::from_utf8(self.raw(index)).map_err(|_| self.error(index, column, "not UTF-8 text"))
    }

    /// The value as text that must not be empty.
    pub(crate) fn non_empty(&self, index: usize, column: &'static str) -> Result<&str, OpenbError> {
        let text = self.text(index, column)?;
        if text.is_empty() { Err(self.error(index, column, "must not be empty")) } else { Ok(text) }
    }

    /// The value as a whole number of a type that rejects what it cannot hold (a minus sign for
    /// unsigned types, too many digits).
    pub(crate) fn number<T: std::str::FromStr>(&self, index: usize, column: &'static str) -> Result<T, OpenbError> {
        let text = self.text(index, column)?;
        text.parse().map_err(|_| {
            let problem = if text.is_empty() { "must not be empty" } else { "not a whole number in range" };
            self.error(index, column, problem)
        })
    }

    /// A time in seconds: a whole number, never negative.
    pub(crate) fn time(&self, index: usize, column: &'static str) -> Result<i64, OpenbError> {
        let t: i64 = self.number(index, column)?;
        if t < 0 { Err(self.error(index, column, "a time must not be negative")) } else { Ok(t) }
    }

    /// A time in seconds that may be empty.
    pub(crate) fn optional_time(&self, index: usize, column: &'static str) -> Result<Option<i64>, OpenbError> {
        if self.raw(index).is_empty() { Ok(None) } else { self.time(index, column).map(Some) }
    }
}
