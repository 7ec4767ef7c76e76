//! What can go wrong reading an openb file. Every error names the file; every error about the
//! content also names the line (1-based, counted in the decompressed text, the header being line 1)
//! and, for a bad value, the column.

use std::path::{Path, PathBuf};

/// An openb file that cannot be read, or a row that does not hold what the schema promises.
///
/// The readers stop at the first error: a trace that is wrong in one row may be wrong in ways a
/// reader cannot see, and replaying a silently shortened trace would give wrong figures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenbError {
    /// The file cannot be opened.
    #[error("{}: cannot open: {source}", file.display())]
    Open {
        /// The file.
        file: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The bytes cannot be read as CSV: an I/O error, a corrupt or truncated gzip stream.
    #[error("{}:{line}: cannot read: {source}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// The line being read when it failed. Decompression runs ahead of the rows, so a fault
        /// in a gzip stream may lie further on.
        line: u64,
        /// Why.
        #[source]
        source: csv::Error,
    },
    /// The file holds no line at all, not even a header.
    #[error("{}: the file is empty; expected the header `{expected}`", file.display())]
    Empty {
        /// The file.
        file: PathBuf,
        /// The header a file of this kind starts with.
        expected: String,
    },
    /// The first line is not a header this reader knows.
    #[error("{}:{line}: the header is `{found}`; expected `{expected}`", file.display())]
    Header {
        /// The file.
        file: PathBuf,
        /// The header's line.
        line: u64,
        /// The header found (shortened when long).
        found: String,
        /// The header (or headers) this reader accepts.
        expected: String,
    },
    /// A row with more or fewer columns than the header.
    #[error("{}:{line}: the row has {found} columns; the header has {expected}", file.display())]
    Columns {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// Columns in the row.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A value that does not parse or breaks a rule of the schema.
    #[error("{}:{line}: column `{column}`: {problem} (value {value:?})", file.display())]
    Field {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// The column's name in the header.
        column: &'static str,
        /// The value found (shortened when long).
        value: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl OpenbError {
    /// The file the error is about.
    pub fn file(&self) -> &Path {
        match self {
            Self::Open { file, .. }
            | Self::Read { file, .. }
            | Self::Empty { file, .. }
            | Self::Header { file, .. }
            | Self::Columns { file, .. }
            | Self::Field { file, .. } => file,
        }
    }

    /// The line the error is about, when it is about one.
    pub fn line(&self) -> Option<u64> {
        match self {
            Self::Read { line, .. }
            | Self::Header { line, .. }
            | Self::Columns { line, .. }
            | Self::Field { line, .. } => Some(*line),
            Self::Open { .. } | Self::Empty { .. } => None,
        }
    }

    /// The column the error is about, when it is about one value.
    pub fn column(&self) -> Option<&'static str> {
        match self {
            Self::Field { column, .. } => Some(column),
            _ => None,
        }
    }
}

/// At most this many characters of a value or header are kept in an error.
const SHOWN: usize = 60;

/// A value as an error shows it: lossy UTF-8, shortened to [`SHOWN`] characters.
pub(crate) fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    if text.chars().count() <= SHOWN {
        text.into_owned()
    } else {
        let mut short: String = text.chars().take(SHOWN).collect();
        short.push('…');
        short
    }
}
