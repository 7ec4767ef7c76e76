//! The accelerators jobs may be built for, and the draw of a job's accepted set.

use std::sync::Arc;

use rand::{Rng, RngExt};

use super::assumptions::{BY_FAMILY, EXTRA_CHIPS};
use super::draw::weighted;
use super::job::AcceptedChip;

/// A model jobs may be built for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chip {
    /// Catalogue name of the model.
    pub model: Arc<str>,
    /// Catalogue name of its family.
    pub family: Arc<str>,
    /// Relative weight: how often a job is built for it (its share of the fleet, say).
    pub weight: u32,
}

impl Chip {
    /// A chip from names and a weight.
    pub fn new(model: &str, family: &str, weight: u32) -> Self {
        Chip { model: model.into(), family: family.into(), weight }
    }
}

/// The engine benchmark's five models of four families, weighted by their fleet share there.
pub fn default_chips() -> Vec<Chip> {
    vec![
        Chip::new("nvidia-a100-80g", "nvidia", 35),
        Chip::new("nvidia-h20", "nvidia", 15),
        Chip::new("ascend-910b", "ascend", 30),
        Chip::new("cambricon-mlu590", "cambricon", 10),
        Chip::new("hygon-k100-ai", "hygon", 10),
    ]
}

/// A chip named by model, or by family [`BY_FAMILY`] of the time.
fn name(rng: &mut impl Rng, chip: &Chip) -> AcceptedChip {
    if rng.random_bool(BY_FAMILY) {
        AcceptedChip::Family(Arc::clone(&chip.family))
    } else {
        AcceptedChip::Model(Arc::clone(&chip.model))
    }
}

/// Each chip's index and weight, for [`accepted`].
pub fn weights(chips: &[Chip]) -> Vec<(usize, u32)> {
    chips.iter().enumerate().map(|(i, c)| (i, c.weight)).collect()
}

/// A job's accepted set: the chip it was built for (by `weights`, from [`weights`]), then 0, 1 or
/// 2 others drawn uniformly without repeats; a family is not named twice.
pub fn accepted(rng: &mut impl Rng, chips: &[Chip], weights: &[(usize, u32)]) -> Vec<AcceptedChip> {
    let mut picked: Vec<usize> = Vec::with_capacity(3);
    picked.push(weighted(rng, weights));
    let extra = weighted(rng, &EXTRA_CHIPS).min(chips.len() - 1);
    while picked.len() < extra + 1 {
        let i = rng.random_range(0..chips.len());
        if !picked.contains(&i) {
            picked.push(i);
        }
    }
    let mut out: Vec<AcceptedChip> = Vec::with_capacity(picked.len());
    for i in picked {
        let chip = name(rng, &chips[i]);
        if !out.contains(&chip) {
            out.push(chip);
        }
    }
    out
}
