//! A progress bar over simulated time, drawn on stderr for people watching a long run.
//!
//! Drawn only when asked for, stderr is a terminal and the `CI` variable is unset; otherwise
//! every call is a no-op (no lock, no clock read), so tests, pipes and CI logs see nothing.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

const DAY: f64 = 86_400.0;

/// Progress through a run's simulated time.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar labelled `label` over `total_seconds` of simulated time (a spinner with the day
    /// reached where the total is unknown, `total_seconds <= 0`). Hidden unless `enabled`,
    /// stderr is a terminal and `CI` is unset.
    pub fn new(label: &str, total_seconds: i64, enabled: bool) -> Self {
        let drawn = shown(enabled, std::io::stderr().is_terminal(), std::env::var_os("CI").is_some());
        if !drawn {
            return Progress { bar: None };
        }
        let total = u64::try_from(total_seconds).unwrap_or(0);
        let (len, template) = if total > 0 {
            (Some(total), "{prefix} [{wide_bar}] day {day} of {days}, {percent:>3}%, {elapsed} elapsed, eta {eta}")
        } else {
            (None, "{prefix} {spinner} day {day}, {elapsed} elapsed")
        };
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("day", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1}", s.pos() as f64 / DAY);
            })
            .with_key("days", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0}", s.len().unwrap_or(0) as f64 / DAY);
            })
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr()).with_style(style);
        bar.set_prefix(label.to_string());
        Progress { bar: Some(bar) }
    }

    /// Moves the bar to `simulated_seconds` since the start (clamped to the total); cheap enough
    /// for every event, redrawn at most 20 times a second.
    pub fn set(&self, simulated_seconds: i64) {
        if let Some(bar) = &self.bar {
            let pos = u64::try_from(simulated_seconds).unwrap_or(0);
            bar.set_position(bar.length().map_or(pos, |len| pos.min(len)));
        }
    }

    /// Draws the bar at its final position and leaves it on screen.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }

    /// Whether the bar is drawn at all.
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }
}

/// Whether to draw: asked for, on a terminal, outside CI.
fn shown(enabled: bool, stderr_is_terminal: bool, ci: bool) -> bool {
    enabled && stderr_is_terminal && !ci
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drawn_only_when_asked_for_on_a_terminal_outside_ci() {
        assert!(shown(true, true, false));
        assert!(!shown(false, true, false));
        assert!(!shown(true, false, false));
        assert!(!shown(true, true, true));
    }

    #[test]
    fn a_disabled_bar_is_hidden_and_its_calls_do_nothing() {
        let progress = Progress::new("static", 3 * 86_400, false);
        assert!(!progress.is_drawn());
        progress.set(-5);
        progress.set(86_400);
        progress.set(i64::MAX);
        progress.finish();
    }
}
