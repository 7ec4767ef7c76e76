//! The settings the controller may change while the agent runs.
//!
//! They start from the command line and live in a `tokio::sync::watch` channel: the reporter
//! writes what the controller sends, the sampler and the reporter read. This module validates a
//! change; it does not receive or apply one.

use std::time::Duration;

/// The shortest sampling interval the agent accepts.
pub const MIN_SAMPLING_INTERVAL: Duration = Duration::from_millis(100);
/// The longest sampling interval the agent accepts.
pub const MAX_SAMPLING_INTERVAL: Duration = Duration::from_secs(3600);

/// Settings in force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// How often the backends are read.
    pub sampling_interval: Duration,
    /// Whether utilisation samples are sent to the controller.
    pub utilisation_enabled: bool,
}

/// A setting out of range.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    /// The sampling interval is too short or too long.
    #[error("sampling interval {0:?} is outside {MIN_SAMPLING_INTERVAL:?} to {MAX_SAMPLING_INTERVAL:?}")]
    SamplingInterval(Duration),
}

impl Settings {
    /// Settings with `sampling_interval`, utilisation on; errors when the interval is out of range.
    pub fn new(sampling_interval: Duration) -> Result<Self, SettingsError> {
        Settings { sampling_interval, utilisation_enabled: true }.with_sampling_interval(sampling_interval)
    }

    /// These settings with another sampling interval; errors when it is out of range.
    pub fn with_sampling_interval(self, interval: Duration) -> Result<Self, SettingsError> {
        if (MIN_SAMPLING_INTERVAL..=MAX_SAMPLING_INTERVAL).contains(&interval) {
            Ok(Settings { sampling_interval: interval, ..self })
        } else {
            Err(SettingsError::SamplingInterval(interval))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_interval_bounds() {
        assert!(Settings::new(Duration::from_secs(1)).is_ok());
        assert!(Settings::new(MIN_SAMPLING_INTERVAL).is_ok());
        assert!(Settings::new(MAX_SAMPLING_INTERVAL).is_ok());
        assert_eq!(Settings::new(Duration::ZERO), Err(SettingsError::SamplingInterval(Duration::ZERO)));
        assert!(Settings::new(Duration::from_secs(3601)).is_err());
    }
}
