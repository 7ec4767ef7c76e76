//! Validation in Rust: the same rules the API server enforces through the schema and CEL, used by
//! the controller (before acting on an object) and by the simulator (on scenario files).
//!
//! Every rule reports a [`Violation`] with the field path, what is wrong and what to do; a check
//! collects all violations instead of stopping at the first, so a user fixes a manifest in one pass.

use std::fmt;

use rust_decimal::Decimal;

/// One broken rule: where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Field path in the object, e.g. `spec.replicas.max`.
    pub field: String,
    /// What is wrong, stated with the offending value.
    pub problem: String,
    /// What the user should do about it.
    pub fix: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}; {}", self.field, self.problem, self.fix)
    }
}

/// Every violation found in one object (never empty when returned as an error).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Violations(pub Vec<Violation>);

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

impl Violations {
    /// Whether any violation is reported at exactly this field path.
    pub fn mentions(&self, field: &str) -> bool {
        self.0.iter().any(|v| v.field == field)
    }
}

/// Types that can check themselves against the rules of the API.
pub trait Validate {
    /// Returns every violation, or `Ok(())` when the object is valid.
    fn validate(&self) -> Result<(), Violations>;
}

/// Collects violations under a path prefix while a validator walks an object.
#[derive(Debug, Default)]
pub struct Checker {
    found: Vec<Violation>,
}

impl Checker {
    /// An empty checker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a violation.
    pub fn report(&mut self, field: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) {
        self.found.push(Violation { field: field.into(), problem: problem.into(), fix: fix.into() });
    }

    /// Records a violation unless `ok` holds.
    pub fn require(&mut self, ok: bool, field: impl Into<String>, problem: impl FnOnce() -> String, fix: &str) {
        if !ok {
            self.report(field, problem(), fix);
        }
    }

    /// Checks that `value` is a non-negative decimal string and returns it parsed.
    pub fn decimal(&mut self, field: impl Into<String>, value: &str) -> Option<Decimal> {
        match parse_non_negative_decimal(value) {
            Ok(d) => Some(d),
            Err(problem) => {
                self.report(field, problem, "write a non-negative decimal number as a string, e.g. \"12.50\"");
                None
            }
        }
    }

    /// Checks an optional decimal string.
    pub fn optional_decimal(&mut self, field: impl Into<String>, value: Option<&str>) -> Option<Decimal> {
        value.and_then(|v| self.decimal(field, v))
    }

    /// Checks that `value` is a non-negative decimal that is also strictly positive.
    pub fn positive_decimal(&mut self, field: impl Into<String>, value: &str) -> Option<Decimal> {
        let field = field.into();
        let d = self.decimal(field.clone(), value)?;
        if d.is_zero() {
            self.report(field, format!("{value:?} is zero"), "give a value greater than zero");
            return None;
        }
        Some(d)
    }

    /// Merges violations found by a nested validator.
    pub fn absorb(&mut self, other: Result<(), Violations>) {
        if let Err(Violations(v)) = other {
            self.found.extend(v);
        }
    }

    /// Finishes the walk.
    pub fn finish(self) -> Result<(), Violations> {
        if self.found.is_empty() { Ok(()) } else { Err(Violations(self.found)) }
    }
}

/// The OpenAPI pattern every decimal string in the API follows: digits, optionally a point and
/// more digits. No sign, no exponent, no thousands separators.
pub const DECIMAL_PATTERN: &str = r"^[0-9]+(\.[0-9]+)?$";

/// Parses a decimal string as the API defines it (see [`DECIMAL_PATTERN`]).
pub fn parse_non_negative_decimal(value: &str) -> Result<Decimal, String> {
    let well_formed = {
        let (int, frac) = match value.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (value, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits(int) && frac.is_none_or(digits)
    };
    if !well_formed {
        return Err(format!("{value:?} is not a non-negative decimal number"));
    }
    value.parse::<Decimal>().map_err(|e| format!("{value:?} cannot be read as a decimal: {e}"))
}

/// Whether `name` is a valid DNS-1123 label (namespaces, cluster names).
pub fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_api_pattern() {
        assert_eq!(parse_non_negative_decimal("12.50"), Ok(Decimal::new(1250, 2)));
        assert_eq!(parse_non_negative_decimal("0"), Ok(Decimal::ZERO));
        for bad in ["", "-1", "1e3", "1,000", ".5", "5.", " 5", "NaN", "+1"] {
            assert!(parse_non_negative_decimal(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn violations_list_every_field() {
        let mut c = Checker::new();
        c.decimal("spec.prices.list", "-3");
        c.require(false, "spec.replicas.max", || "2 is below min 4".into(), "raise max");
        let err = c.finish().unwrap_err();
        assert!(err.mentions("spec.prices.list") && err.mentions("spec.replicas.max"));
        assert!(err.to_string().contains("spec.replicas.max: 2 is below min 4; raise max"));
    }
}
