//! Turning a vendor tool's health or state word into a [`Health`].
//!
//! Each backend says which words of its tool mean a usable device (npu-smi `OK`, mx-smi
//! `Available`); any other word is `Unhealthy` under the vendor's own name for the state, with the
//! tool's column named in the reason. Blank or `N/A` states say nothing and count as healthy: the
//! tool listed the device and reported no fault.

use crate::device::Health;

/// The health a state word means, and the reason to give when it is unhealthy.
pub fn from_state(state: &str, healthy: &[&str], column: &str) -> (Health, Option<String>) {
    let state = state.trim();
    let silent = state.is_empty() || ["n/a", "na", "-"].contains(&state.to_ascii_lowercase().as_str());
    if silent || healthy.iter().any(|word| word.eq_ignore_ascii_case(state)) {
        (Health::Healthy, None)
    } else {
        (Health::Unhealthy(state.to_owned()), Some(format!("{column}: {state}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_words_and_the_rest() {
        assert_eq!(from_state("OK", &["OK"], "Health"), (Health::Healthy, None));
        assert_eq!(from_state(" n/a ", &["OK"], "Health"), (Health::Healthy, None));
        let (health, reason) = from_state("Alarm", &["OK"], "npu-smi Health");
        assert_eq!(health, Health::Unhealthy("Alarm".into()));
        assert_eq!(reason.as_deref(), Some("npu-smi Health: Alarm"));
    }
}
