//! A vendor tool's output as a parser sees it: its text, numbered lines, and where it came from.
//!
//! The text comes from running the tool or from a captured file. A file's first line starting with
//! `# SOURCE:` (the provenance header of the project's fixtures) is blanked, not removed, so line
//! numbers in errors are the file's own. Terminal colour codes are dropped and invalid UTF-8 is
//! replaced, so a parser only ever sees text. This module does not know any tool's layout.

use std::path::Path;

use super::BackendError;

/// One tool output, with the backend and origin errors name.
#[derive(Clone, Debug)]
pub struct Output {
    /// The backend reading it.
    pub backend: &'static str,
    /// The command line or file path it came from.
    pub origin: String,
    /// The text, colour codes removed.
    pub text: String,
}

/// One line of an output, numbered from 1.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    /// 1-based line number.
    pub number: usize,
    /// The line without its line ending.
    pub text: &'a str,
}

impl Output {
    /// An output of `origin` (a command line, say) read by `backend`.
    pub fn new(backend: &'static str, origin: impl Into<String>, text: &str) -> Self {
        Output { backend, origin: origin.into(), text: strip_ansi(text) }
    }

    /// A captured output in `path`; a first line starting with `# SOURCE:` is blanked.
    pub fn from_file(backend: &'static str, path: &Path) -> Result<Self, BackendError> {
        let bytes = std::fs::read(path).map_err(|error| BackendError::Unavailable {
            backend,
            what: path.display().to_string(),
            problem: error.to_string(),
        })?;
        Ok(Output::captured(backend, path.display().to_string(), &String::from_utf8_lossy(&bytes)))
    }

    /// A captured output's `text`; a first line starting with `# SOURCE:` is blanked.
    pub fn captured(backend: &'static str, origin: impl Into<String>, text: &str) -> Self {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let text = match text.strip_prefix("# SOURCE:") {
            Some(rest) => rest.find('\n').map_or("", |end| &rest[end..]),
            None => text,
        };
        Output::new(backend, origin, text)
    }

    /// The numbered lines.
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        self.text.lines().enumerate().map(|(at, text)| Line { number: at + 1, text })
    }

    /// The number of the first line with anything on it (0 for an empty output).
    pub fn first_line(&self) -> usize {
        self.lines().find(|line| !line.text.trim().is_empty()).map_or(0, |line| line.number)
    }

    /// A parse error at `line` of this output.
    pub fn error(&self, line: usize, problem: impl Into<String>) -> BackendError {
        BackendError::Parse { backend: self.backend, origin: self.origin.clone(), line, problem: problem.into() }
    }

    /// The error for an output in no layout the backend knows; `expected` lists those it does.
    pub fn unrecognised(&self, expected: &str) -> BackendError {
        self.error(self.first_line(), format!("not a layout this backend knows; expected {expected}"))
    }
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`, and lone escapes).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch != '\u{1b}' {
            out.push(ch);
            continue;
        }
        if chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, up to and including the final byte (@ to ~).
            for next in chars.by_ref() {
                if ('@'..='~').contains(&next) {
                    break;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_codes_are_dropped() {
        let output = Output::new("x", "cmd", "\u{1b}[37mhygon module is loaded\u{1b}[0m\nnext\u{1b}");
        assert_eq!(output.text, "hygon module is loaded\nnext");
    }

    #[test]
    fn a_source_header_is_blanked_and_lines_keep_their_numbers() {
        let output = Output::captured("x", "file", "# SOURCE: somewhere\nfirst\n");
        assert_eq!(output.text, "\nfirst\n");
        assert_eq!(output.first_line(), 2);
        assert_eq!(Output::captured("x", "file", "# SOURCE: only").text, "");
    }

    #[test]
    fn errors_point_at_the_first_line_with_text() {
        let output = Output::new("x", "cmd", "\n  \nfoo\n");
        assert_eq!(output.first_line(), 3);
        let error = output.unrecognised("a table").to_string();
        assert!(error.starts_with("x: cmd:3: "), "{error}");
    }
}
