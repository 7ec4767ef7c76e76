//! Structured logs on stderr through `tracing`: plain text or JSON lines, filtered by
//! `TIDEPOOL_LOG` (or `RUST_LOG`) in `tracing-subscriber`'s env-filter syntax, `info` by default.

use std::fmt;
use std::str::FromStr;

use tracing_subscriber::EnvFilter;

/// The variable holding the log filter (`RUST_LOG` is read when it is unset).
pub const FILTER_VAR: &str = "TIDEPOOL_LOG";

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        })
    }
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(format!("unknown log format {other:?}; known: text, json")),
        }
    }
}

/// Installs the global subscriber; errors if the filter does not parse or one is installed.
pub fn init(format: LogFormat) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let filter = match std::env::var(FILTER_VAR).or_else(|_| std::env::var(EnvFilter::DEFAULT_ENV)) {
        Ok(directives) => {
            EnvFilter::try_new(&directives).map_err(|error| format!("log filter {directives:?}: {error}"))?
        }
        Err(_) => EnvFilter::new("info"),
    };
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    }
}
