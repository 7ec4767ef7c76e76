//! Draws from the calibrated distributions: inverse CDFs of the embedded tables, and small
//! helpers (weighted choice, exponential and log-uniform variates).

use rand::{Rng, RngExt};

use super::calibration::{GANG_SIZES, GPU_TIME_QUANTILES};

/// GPU-seconds at quantile `u` (0 to 1) of [`GPU_TIME_QUANTILES`], interpolating the logarithm
/// between knots.
pub fn gpu_seconds_at(u: f64) -> f64 {
    let u = u.clamp(0.0, 1.0);
    let k = &GPU_TIME_QUANTILES;
    let j = k.windows(2).position(|w| u <= w[1].0).unwrap_or(k.len() - 2);
    let ((p0, q0), (p1, q1)) = (k[j], k[j + 1]);
    let f = if p1 > p0 { (u - p0) / (p1 - p0) } else { 0.0 };
    (q0.ln() + f * (q1.ln() - q0.ln())).exp()
}

/// GPUs of a training job at quantile `v` (0 to 1) of [`GANG_SIZES`].
pub fn gang_gpus_at(v: f64) -> u32 {
    let total: f64 = GANG_SIZES.iter().map(|s| s.1).sum();
    let mut x = v.clamp(0.0, 1.0) * total;
    for &(gpus, p) in &GANG_SIZES {
        if x < p {
            return gpus;
        }
        x -= p;
    }
    GANG_SIZES[GANG_SIZES.len() - 1].0
}

/// One item by integer weight.
pub fn weighted<T: Copy>(rng: &mut impl Rng, items: &[(T, u32)]) -> T {
    let total: u32 = items.iter().map(|i| i.1).sum();
    let mut x = rng.random_range(0..total.max(1));
    for &(item, w) in items {
        if x < w {
            return item;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

/// An index by non-negative real weight (the weights need not sum to 1).
pub fn weighted_index(rng: &mut impl Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}

/// An exponential variate of mean 1.
pub fn exp1(rng: &mut impl Rng) -> f64 {
    -(1.0 - rng.random::<f64>()).ln()
}

/// A value between `lo` and `hi` whose logarithm is uniform.
pub fn log_uniform(rng: &mut impl Rng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_function_hits_its_knots_and_is_monotone() {
        for &(p, q) in &GPU_TIME_QUANTILES {
            assert!((gpu_seconds_at(p) - q).abs() / q < 1e-9, "at {p}");
        }
        let mut last = 0.0;
        for i in 0..=1000 {
            let x = gpu_seconds_at(f64::from(i) / 1000.0);
            assert!(x >= last);
            last = x;
        }
    }

    #[test]
    fn gang_sizes_follow_the_table() {
        assert_eq!(gang_gpus_at(0.0), 1);
        assert_eq!(gang_gpus_at(0.56), 1);
        assert_eq!(gang_gpus_at(0.57), 2);
        assert_eq!(gang_gpus_at(0.9999), 64);
        assert_eq!(gang_gpus_at(1.0), 64);
    }
}
