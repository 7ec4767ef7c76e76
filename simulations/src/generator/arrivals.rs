//! Submission times: a Poisson process whose rate changes with the hour of the local day
//! (piecewise constant, `mean rate × shape[hour]`), drawn exactly by spending an exponential
//! amount of integrated rate across hour boundaries.

use rand::Rng;

use super::draw::exp1;

/// Seconds in an hour.
const HOUR_S: f64 = 3600.0;

/// The arrival process; `t` counts seconds from local midnight of day 0.
#[derive(Clone, Debug)]
pub struct Arrivals {
    t: f64,
    /// Rate per second in each hour of the day.
    rate: [f64; 24],
}

impl Arrivals {
    /// `per_day` arrivals a day on average, spread over the day by `shape` (any positive scale;
    /// it is normalised to mean 1).
    pub fn new(per_day: f64, shape: &[f64; 24]) -> Self {
        let mean = shape.iter().sum::<f64>() / 24.0;
        let rate = shape.map(|s| per_day / 86_400.0 * s / mean);
        Arrivals { t: 0.0, rate }
    }

    /// The next arrival, seconds from the start; never earlier than the last.
    pub fn next(&mut self, rng: &mut impl Rng) -> f64 {
        let mut need = exp1(rng);
        loop {
            let hour_index = (self.t / HOUR_S).floor();
            let rate = self.rate[(hour_index as u64 % 24) as usize];
            let end = (hour_index + 1.0) * HOUR_S;
            if rate > 0.0 {
                let dt = need / rate;
                if self.t + dt < end {
                    self.t += dt;
                    return self.t;
                }
                need -= (end - self.t) * rate;
            }
            self.t = end;
        }
    }
}
