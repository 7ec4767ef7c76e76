//! Device sets on one node as bit masks (bit `i` = device index `i`; at most 64 devices a node).

/// The `n` lowest set bits of `mask`.
pub fn lowest_bits(mut mask: u64, n: u32) -> u64 {
    let mut out = 0;
    for _ in 0..n {
        let bit = mask & mask.wrapping_neg();
        out |= bit;
        mask &= !bit;
    }
    out
}

/// Device indices of a mask, ascending.
pub fn devices_of(mask: u64) -> Vec<u16> {
    (0..64u16).filter(|d| mask & (1 << d) != 0).collect()
}

/// The mask of a list of device indices.
pub fn mask_of(devices: &[u16]) -> u64 {
    devices.iter().fold(0, |m, d| m | (1 << d))
}
