//! Alibaba ServeGen request rates (`alibaba_servegen_rates/servegen_aggregate_rate_10min.csv.gz`):
//! the aggregate requests per second of each Bailian model in 10-minute windows, and the
//! hour-of-day demand curve they make — the inference tide that tidal lending rides.
//!
//! [`ServegenReader`] streams the rows of the file one at a time (gzip when the name ends in
//! `.gz`, plain CSV otherwise), checks every field and yields [`Row`]s. [`CurveBuilder`],
//! [`demand_curve`] and [`demand_curves`] turn one model's rows into a [`DemandCurve`]: mean
//! requests per second in each hour of the local day (t = 0 is local midnight), the same curve as
//! shares of its peak — the form of an `InferenceService`'s `demand.hourlyProfile` — and the
//! peak/trough ratio.
//!
//! The file's columns, in order: `category,model,t_s,day,hour_of_day,agg_rate_rps,
//! active_clients,n_clients`. A row is accepted when `t_s` is a whole number of seconds, `day` is
//! `t_s / 86400`, `hour_of_day` is `t_s` modulo a day in hours (to 0.01 h; the file rounds to
//! three decimals), the rate is finite and not negative and `active_clients <= n_clients`.
//!
//! It does not read the per-client traces (`servegen_client_traces.tar.gz`), the request
//! inter-arrival distributions or token lengths.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use thiserror::Error;

/// The header the file must start with.
pub const HEADER: [&str; 8] =
    ["category", "model", "t_s", "day", "hour_of_day", "agg_rate_rps", "active_clients", "n_clients"];

/// Seconds in a day.
const DAY_S: u64 = 86_400;

/// How far `hour_of_day` may sit from the hour `t_s` gives (the file rounds to 0.001 h).
const HOUR_TOLERANCE: f64 = 0.01;

/// One 10-minute window of one model.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// `language`, `multimodal` or `reason`.
    pub category: String,
    /// The model, e.g. `m-small`.
    pub model: String,
    /// Start of the window, seconds after local midnight of day 0.
    pub t_s: u64,
    /// Day of the trace, from 0.
    pub day: u32,
    /// Start of the window in hours after local midnight, as the file gives it (3 decimals).
    pub hour_of_day: f64,
    /// Requests per second summed over the model's clients.
    pub agg_rate_rps: f64,
    /// Clients that sent requests in the window.
    pub active_clients: u32,
    /// Clients of the model in the whole trace.
    pub n_clients: u32,
}

impl Row {
    /// The whole hour of the local day the window starts in, 0 to 23 (from `t_s`).
    pub fn hour(&self) -> usize {
        ((self.t_s % DAY_S) / 3600) as usize
    }
}

/// Why the file cannot be read. Every variant names the file; those about content name the line
/// (1-based, the header is line 1) and, for a field, the column (1-based) and its name.
#[derive(Debug, Error)]
pub enum ServegenError {
    /// The file could not be opened.
    #[error("{}: cannot open: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The bytes could not be read as CSV (I/O error, corrupt gzip, unterminated quote).
    #[error("{}:{line}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Line where reading stopped.
        line: u64,
        /// What the CSV reader said.
        #[source]
        source: csv::Error,
    },
    /// The file has no header line.
    #[error("{}:1: empty file; expected the header {}", path.display(), HEADER.join(","))]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A header column is not the expected name.
    #[error("{}:{line}: column {column} of the header is {found:?}, expected {expected:?}", path.display())]
    Header {
        /// The file.
        path: PathBuf,
        /// Line of the header.
        line: u64,
        /// Column, from 1.
        column: usize,
        /// What is there.
        found: String,
        /// What should be there.
        expected: &'static str,
    },
    /// A line has the wrong number of columns.
    #[error("{}:{line}: {found} columns, expected {}", path.display(), HEADER.len())]
    Columns {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// Columns found.
        found: usize,
    },
    /// A field cannot be used.
    #[error("{}:{line}: column {column} ({name}): {value:?} {problem}", path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// The line.
        line: u64,
        /// Column, from 1.
        column: usize,
        /// Column name.
        name: &'static str,
        /// The field as found (lossily decoded, at most 64 characters).
        value: String,
        /// What is wrong with it.
        problem: Problem,
    },
    /// The rows were read, but they make no demand curve.
    #[error("{}: {source}", path.display())]
    Curve {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: CurveError,
    },
}

/// What is wrong with a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Not UTF-8.
    NotUtf8,
    /// Empty where a value is needed.
    Empty,
    /// Not a whole non-negative number that fits.
    NotWholeNumber,
    /// Not a finite decimal number.
    NotNumber,
    /// Negative where it cannot be.
    Negative,
    /// Outside 0 ≤ h < 24.
    HourOutOfRange,
    /// `day` is not `t_s / 86400`.
    DayMismatch,
    /// `hour_of_day` is not `t_s` modulo a day, in hours.
    HourMismatch,
    /// `active_clients` is above `n_clients`.
    MoreActiveThanClients,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::NotUtf8 => "is not UTF-8",
            Problem::Empty => "is empty",
            Problem::NotWholeNumber => "is not a whole number from 0 to 2^32-1 (2^64-1 for t_s)",
            Problem::NotNumber => "is not a finite decimal number",
            Problem::Negative => "is negative",
            Problem::HourOutOfRange => "is outside 0 to 24",
            Problem::DayMismatch => "is not t_s / 86400",
            Problem::HourMismatch => "does not match t_s (t_s modulo 86400, in hours)",
            Problem::MoreActiveThanClients => "is more than n_clients",
        })
    }
}

/// Streams the rows of a ServeGen aggregate-rate file in file order; stops after the first error.
pub struct ServegenReader<R: Read> {
    csv: csv::Reader<R>,
    path: PathBuf,
    record: csv::ByteRecord,
    header_checked: bool,
    done: bool,
}

impl ServegenReader<Box<dyn Read + Send>> {
    /// Opens a file: gzip-compressed when its name ends in `.gz`, plain CSV otherwise.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, ServegenError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| ServegenError::Open { path: path.to_owned(), source })?;
        let gz = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz"));
        let inner: Box<dyn Read + Send> =
            if gz { Box::new(MultiGzDecoder::new(BufReader::new(file))) } else { Box::new(file) };
        Ok(Self::from_reader(path, inner))
    }
}

impl<R: Read> ServegenReader<R> {
    /// Reads plain CSV from `inner`; `path` is the name errors give.
    pub fn from_reader(path: impl Into<PathBuf>, inner: R) -> Self {
        let csv = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(inner);
        ServegenReader { csv, path: path.into(), record: csv::ByteRecord::new(), header_checked: false, done: false }
    }

    /// The file name errors give.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn next_record(&mut self) -> Result<bool, ServegenError> {
        self.csv.read_byte_record(&mut self.record).map_err(|source| {
            let line = source.position().map_or_else(|| self.csv.position().line(), csv::Position::line);
            ServegenError::Read { path: self.path.clone(), line, source }
        })
    }

    fn line(&self) -> u64 {
        self.record.position().map_or(0, csv::Position::line)
    }

    fn check_columns(&self) -> Result<(), ServegenError> {
        if self.record.len() == HEADER.len() {
            Ok(())
        } else {
            Err(ServegenError::Columns { path: self.path.clone(), line: self.line(), found: self.record.len() })
        }
    }

    fn check_header(&mut self) -> Result<(), ServegenError> {
        if !self.next_record()? {
            return Err(ServegenError::Empty { path: self.path.clone() });
        }
        self.check_columns()?;
        for (i, expected) in HEADER.iter().enumerate() {
            let found = &self.record[i];
            // A UTF-8 byte-order mark before the first name is allowed.
            let found = if i == 0 { found.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(found) } else { found };
            if found != expected.as_bytes() {
                return Err(ServegenError::Header {
                    path: self.path.clone(),
                    line: self.line(),
                    column: i + 1,
                    found: shorten(found),
                    expected,
                });
            }
        }
        Ok(())
    }

    fn field_error(&self, column: usize, problem: Problem) -> ServegenError {
        ServegenError::Field {
            path: self.path.clone(),
            line: self.line(),
            column: column + 1,
            name: HEADER[column],
            value: shorten(&self.record[column]),
            problem,
        }
    }

    fn text(&self, column: usize) -> Result<&str, ServegenError> {
        let s = std::str::from_utf8(&self.record[column]).map_err(|_| self.field_error(column, Problem::NotUtf8))?;
        if s.is_empty() { Err(self.field_error(column, Problem::Empty)) } else { Ok(s) }
    }

    fn whole<T: std::str::FromStr>(&self, column: usize) -> Result<T, ServegenError> {
        self.text(column)?.parse().map_err(|_| self.field_error(column, Problem::NotWholeNumber))
    }

    fn number(&self, column: usize) -> Result<f64, ServegenError> {
        let x: f64 = self.text(column)?.parse().map_err(|_| self.field_error(column, Problem::NotNumber))?;
        if !x.is_finite() {
            Err(self.field_error(column, Problem::NotNumber))
        } else if x < 0.0 {
            Err(self.field_error(column, Problem::Negative))
        } else {
            Ok(x)
        }
    }

    fn parse_row(&self) -> Result<Row, ServegenError> {
        self.check_columns()?;
        let category = self.text(0)?.to_owned();
        let model = self.text(1)?.to_owned();
        let t_s: u64 = self.whole(2)?;
        let day: u32 = self.whole(3)?;
        if u64::from(day) != t_s / DAY_S {
            return Err(self.field_error(3, Problem::DayMismatch));
        }
        let hour_of_day = self.number(4)?;
        if hour_of_day >= 24.0 {
            return Err(self.field_error(4, Problem::HourOutOfRange));
        }
        if ((t_s % DAY_S) as f64 / 3600.0 - hour_of_day).abs() > HOUR_TOLERANCE {
            return Err(self.field_error(4, Problem::HourMismatch));
        }
        let agg_rate_rps = self.number(5)?;
        let active_clients: u32 = self.whole(6)?;
        let n_clients: u32 = self.whole(7)?;
        if active_clients > n_clients {
            return Err(self.field_error(6, Problem::MoreActiveThanClients));
        }
        Ok(Row { category, model, t_s, day, hour_of_day, agg_rate_rps, active_clients, n_clients })
    }

    fn read_row(&mut self) -> Result<Option<Row>, ServegenError> {
        if !self.header_checked {
            self.check_header()?;
            self.header_checked = true;
        }
        if !self.next_record()? {
            return Ok(None);
        }
        self.parse_row().map(Some)
    }
}

impl<R: Read> Iterator for ServegenReader<R> {
    type Item = Result<Row, ServegenError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.read_row().transpose();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}

/// A field for an error message: lossily decoded, cut to 64 characters.
fn shorten(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.chars().count() <= 64 { s.into_owned() } else { s.chars().take(64).chain(['…']).collect() }
}

/// One model's demand by hour of the local day.
#[derive(Clone, Debug, PartialEq)]
pub struct DemandCurve {
    /// The model.
    pub model: String,
    /// Windows the curve is built from.
    pub windows: usize,
    /// Windows in each hour of the day.
    pub windows_per_hour: [usize; 24],
    /// Mean requests per second in each hour (index 0 = 00:00–01:00), over every window of that
    /// hour, idle ones included.
    pub mean_rps: [f64; 24],
    /// `mean_rps` as shares of its peak, 0 to 1 (the peak hour is exactly 1): the form of an
    /// `InferenceService`'s `demand.hourlyProfile`.
    pub share_of_peak: [f64; 24],
    /// Hour with the highest mean (the first if tied).
    pub peak_hour: usize,
    /// Hour with the lowest mean (the first if tied).
    pub trough_hour: usize,
}

impl DemandCurve {
    /// Mean requests per second in the peak hour.
    pub fn peak_rps(&self) -> f64 {
        self.mean_rps[self.peak_hour]
    }

    /// Mean requests per second in the trough hour.
    pub fn trough_rps(&self) -> f64 {
        self.mean_rps[self.trough_hour]
    }

    /// Peak over trough; `None` when the trough hour has no demand at all.
    pub fn peak_to_trough(&self) -> Option<f64> {
        let trough = self.trough_rps();
        (trough > 0.0).then(|| self.peak_rps() / trough)
    }
}

/// Why rows make no demand curve.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CurveError {
    /// No rows.
    #[error("no rows")]
    NoRows,
    /// No rows of the model asked for.
    #[error("no rows for model {model:?}")]
    UnknownModel {
        /// The model asked for.
        model: String,
    },
    /// Rows of more than one model were given as one.
    #[error("rows of model {found:?} among those of {expected:?}")]
    MixedModels {
        /// The first row's model.
        expected: String,
        /// Another model found.
        found: String,
    },
    /// Some hour of the day has no window.
    #[error("model {model:?} has no window in hour {hour}")]
    MissingHour {
        /// The model.
        model: String,
        /// The hour, 0 to 23.
        hour: usize,
    },
    /// Every window is idle.
    #[error("model {model:?} has no requests at all")]
    NoDemand {
        /// The model.
        model: String,
    },
}

/// Accumulates one model's rows into a [`DemandCurve`] in constant memory.
#[derive(Clone, Debug)]
pub struct CurveBuilder {
    model: String,
    sums: [f64; 24],
    counts: [usize; 24],
}

impl CurveBuilder {
    /// A builder for `model`.
    pub fn new(model: impl Into<String>) -> Self {
        CurveBuilder { model: model.into(), sums: [0.0; 24], counts: [0; 24] }
    }

    /// The model.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Adds a window; it must be of this builder's model.
    pub fn push(&mut self, row: &Row) -> Result<(), CurveError> {
        if row.model != self.model {
            return Err(CurveError::MixedModels { expected: self.model.clone(), found: row.model.clone() });
        }
        let h = row.hour();
        self.sums[h] += row.agg_rate_rps;
        self.counts[h] += 1;
        Ok(())
    }

    /// The curve; every hour needs at least one window and some hour some demand.
    pub fn finish(self) -> Result<DemandCurve, CurveError> {
        if let Some(hour) = self.counts.iter().position(|&n| n == 0) {
            return Err(CurveError::MissingHour { model: self.model, hour });
        }
        let mean_rps: [f64; 24] = std::array::from_fn(|h| self.sums[h] / self.counts[h] as f64);
        let mut peak_hour = 0;
        let mut trough_hour = 0;
        for h in 1..24 {
            if mean_rps[h] > mean_rps[peak_hour] {
                peak_hour = h;
            }
            if mean_rps[h] < mean_rps[trough_hour] {
                trough_hour = h;
            }
        }
        let peak = mean_rps[peak_hour];
        if peak <= 0.0 {
            return Err(CurveError::NoDemand { model: self.model });
        }
        let share_of_peak = mean_rps.map(|x| x / peak);
        Ok(DemandCurve {
            model: self.model,
            windows: self.counts.iter().sum(),
            windows_per_hour: self.counts,
            mean_rps,
            share_of_peak,
            peak_hour,
            trough_hour,
        })
    }
}

/// The demand curve of the rows of one model; rows of any other model are an error.
pub fn demand_curve<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Result<DemandCurve, CurveError> {
    let mut rows = rows.into_iter();
    let first = rows.next().ok_or(CurveError::NoRows)?;
    let mut builder = CurveBuilder::new(first.model.clone());
    builder.push(first)?;
    for row in rows {
        builder.push(row)?;
    }
    builder.finish()
}

/// The demand curve of every model in a file, in one streaming pass, by model name.
pub fn demand_curves<R: Read>(
    reader: ServegenReader<R>,
) -> Result<std::collections::BTreeMap<String, DemandCurve>, ServegenError> {
    let path = reader.path().to_owned();
    let mut builders: std::collections::BTreeMap<String, CurveBuilder> = std::collections::BTreeMap::new();
    for row in reader {
        let row = row?;
        let builder = builders.entry(row.model.clone()).or_insert_with(|| CurveBuilder::new(row.model.clone()));
        builder.push(&row).map_err(|source| ServegenError::Curve { path: path.clone(), source })?;
    }
    if builders.is_empty() {
        return Err(ServegenError::Curve { path, source: CurveError::NoRows });
    }
    builders
        .into_iter()
        .map(|(model, b)| b.finish().map(|c| (model, c)))
        .collect::<Result<_, _>>()
        .map_err(|source| ServegenError::Curve { path, source })
}

/// The demand curve of one model of a file, reading it in one streaming pass.
pub fn model_curve<R: Read>(reader: ServegenReader<R>, model: &str) -> Result<DemandCurve, ServegenError> {
    let path = reader.path().to_owned();
    let mut builder = CurveBuilder::new(model);
    let mut seen = false;
    for row in reader {
        let row = row?;
        if row.model == model {
            seen = true;
            builder.push(&row).map_err(|source| ServegenError::Curve { path: path.clone(), source })?;
        }
    }
    if !seen {
        return Err(ServegenError::Curve { path, source: CurveError::UnknownModel { model: model.to_owned() } });
    }
    builder.finish().map_err(|source| ServegenError::Curve { path, source })
}
