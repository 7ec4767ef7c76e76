//! Writing the Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines,
//! samples with escaped label values, and floats spelled the way Prometheus reads them.
//!
//! Only the writer: which metrics exist lives in [`super::metrics`].

use std::fmt::Write;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A metric family's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Buckets, sum and count.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Appends a family's `# HELP` and `# TYPE` lines.
pub fn header(out: &mut String, name: &str, kind: Kind, help: &str) {
    let help = help.replace('\\', "\\\\").replace('\n', "\\n");
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {}", kind.as_str());
}

/// Appends one sample line: `name{label="value",...} value`.
pub fn sample(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (position, (label, value)) in labels.iter().enumerate() {
            if position > 0 {
                out.push(',');
            }
            let _ = write!(out, "{label}=\"{}\"", escape_label(value));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", float(value));
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A float as Prometheus spells it (`+Inf`, `-Inf`, `NaN`, otherwise Rust's shortest form).
pub fn float(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value == f64::INFINITY {
        "+Inf".into()
    } else if value == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_samples_are_spelled_out() {
        let mut out = String::new();
        header(&mut out, "x_total", Kind::Counter, "Things\\done\nso far.");
        sample(&mut out, "x_total", &[], 3.0);
        sample(&mut out, "x_total", &[("model", "a\"b\\c\nd"), ("zone", "z")], 0.25);
        assert_eq!(
            out,
            "# HELP x_total Things\\\\done\\nso far.\n# TYPE x_total counter\nx_total 3\n\
             x_total{model=\"a\\\"b\\\\c\\nd\",zone=\"z\"} 0.25\n"
        );
    }

    #[test]
    fn special_floats_use_prometheus_names() {
        assert_eq!(
            [float(f64::INFINITY), float(f64::NEG_INFINITY), float(f64::NAN), float(1e-3), float(2.5)],
            ["+Inf", "-Inf", "NaN", "0.001", "2.5"]
        );
    }
}
