//! Exponential backoff with jitter, for reconnecting to the controller.
//!
//! The n-th delay is drawn from the upper half of `min(max, initial × 2ⁿ)` ("equal jitter"): it
//! never falls below half the exponential step, so a flapping controller is not hammered, and
//! agents restarted together spread out instead of reconnecting in lockstep.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

/// Delays between reconnection attempts.
#[derive(Clone, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    attempt: u32,
    rng: SmallRng,
}

impl Backoff {
    /// Delays starting near `initial`, doubling per attempt, never above `max`; `seed` seeds the
    /// jitter (give each agent a different one).
    pub fn new(initial: Duration, max: Duration, seed: u64) -> Self {
        Backoff { initial, max: max.max(initial), attempt: 0, rng: SmallRng::seed_from_u64(seed) }
    }

    /// The ceiling of the next delay, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 1u32.checked_shl(self.attempt.min(31)).unwrap_or(u32::MAX);
        self.initial.checked_mul(factor).map_or(self.max, |step| step.min(self.max))
    }

    /// The next delay; each call lengthens the following one until the cap.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling();
        self.attempt = self.attempt.saturating_add(1);
        let half = ceiling / 2;
        let jitter_nanos = u64::try_from((ceiling - half).as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(self.rng.random_range(0..=jitter_nanos))
    }

    /// Starts again from `initial` (after a connection that worked).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn doubles_up_to_the_cap_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 7);
        let ceilings: Vec<u64> = (0..6)
            .map(|_| {
                let ceiling = backoff.ceiling();
                backoff.next_delay();
                ceiling.as_millis() as u64
            })
            .collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        backoff.reset();
        assert_eq!(backoff.ceiling(), Duration::from_millis(100));
    }

    #[test]
    fn jitter_differs_between_seeds() {
        let draw = |seed| {
            let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60), seed);
            (0..5).map(|_| backoff.next_delay()).collect::<Vec<_>>()
        };
        assert_ne!(draw(1), draw(2));
        assert_eq!(draw(3), draw(3));
    }

    proptest! {
        #[test]
        fn delays_stay_between_half_the_ceiling_and_the_ceiling(
            initial_ms in 1u64..5_000, max_ms in 1u64..600_000, seed: u64, attempts in 1usize..80,
        ) {
            let mut backoff = Backoff::new(Duration::from_millis(initial_ms), Duration::from_millis(max_ms), seed);
            for _ in 0..attempts {
                let ceiling = backoff.ceiling();
                let delay = backoff.next_delay();
                prop_assert!(delay >= ceiling / 2 && delay <= ceiling, "{delay:?} vs {ceiling:?}");
                prop_assert!(delay <= Duration::from_millis(max_ms.max(initial_ms)));
            }
        }
    }
}
