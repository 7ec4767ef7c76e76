//! Reading the values vendor tools print: memory sizes, `used / total` pairs, percentages and PCI
//! bus ids.
//!
//! Every function returns `None` for text it does not understand (`N/A`, `-`, garbage) rather than
//! guessing. Memory is returned in MiB; `MB` is read as MiB, as the tools mean it (npu-smi prints a
//! 64 GiB HBM as `65536` MB, xpu-smi a 32 GiB card as `32768 MB`). This module does not locate
//! values in a layout; the table helpers and the backends do.

/// The unit a number without one is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Bytes.
    Bytes,
    /// KiB (also written KB).
    Kib,
    /// MiB (also written MB).
    Mib,
    /// GiB (also written GB).
    Gib,
}

impl Unit {
    /// The unit a suffix such as `MiB`, `MB`, `kb` or `G` names.
    pub fn parse(text: &str) -> Option<Unit> {
        match text.to_ascii_lowercase().as_str() {
            "b" => Some(Unit::Bytes),
            "k" | "kb" | "kib" => Some(Unit::Kib),
            "m" | "mb" | "mib" => Some(Unit::Mib),
            "g" | "gb" | "gib" => Some(Unit::Gib),
            _ => None,
        }
    }

    fn to_mib(self, value: f64) -> f64 {
        match self {
            Unit::Bytes => value / 1_048_576.0,
            Unit::Kib => value / 1024.0,
            Unit::Mib => value,
            Unit::Gib => value * 1024.0,
        }
    }
}

/// A number (digits with at most one `.`) at the start of `text`, and the rest.
fn leading_number(text: &str) -> Option<(f64, &str)> {
    let end = text.find(|ch: char| !(ch.is_ascii_digit() || ch == '.')).unwrap_or(text.len());
    let (number, rest) = text.split_at(end);
    if !number.starts_with(|ch: char| ch.is_ascii_digit()) {
        return None;
    }
    number.parse::<f64>().ok().filter(|value| value.is_finite()).map(|value| (value, rest))
}

/// A memory size such as `23374 MiB`, `49120MiB`, `32768 MB` or (with `default`) `8192`, in MiB.
/// A number with a unit that is not a memory unit (`350W`) is not a size.
pub fn mib(text: &str, default: Unit) -> Option<u64> {
    let (value, rest) = leading_number(text.trim())?;
    let unit = match rest.trim() {
        "" => default,
        suffix => Unit::parse(suffix)?,
    };
    to_u64(unit.to_mib(value))
}

/// The unit written after a size, if any (`MiB` in `65536 MiB`).
fn unit_of(text: &str) -> Option<Unit> {
    let (_, rest) = leading_number(text.trim())?;
    Unit::parse(rest.trim())
}

/// A `used / total` memory pair such as `0 MiB/ 23374 MiB`, `858/65536 MiB`, `114MiB / 32768MiB`
/// or `2703 / 8192`, in MiB. A unit written only after the total applies to both.
pub fn used_total(text: &str, default: Unit) -> Option<(u64, u64)> {
    // Try every slash: `N/A / N/A` has three, only one of which could separate two sizes.
    text.match_indices('/').find_map(|(at, _)| {
        let (left, right) = (&text[..at], &text[at + 1..]);
        let right_unit = unit_of(right).unwrap_or(default);
        let total = mib(right, default)?;
        let used = mib(left, right_unit)?;
        Some((used, total))
    })
}

/// A `used / total` pair whose total carries a memory unit (`858/65536 MiB`), for values found
/// without a label saying they are memory.
pub fn used_total_with_unit(text: &str) -> Option<(u64, u64)> {
    let at = text.rfind('/')?;
    unit_of(&text[at + 1..])?;
    used_total(text, Unit::Mib)
}

/// A `used(total)` pair such as mthreads-gmi's `1339MiB(16384MiB)`, in MiB.
pub fn used_paren_total(text: &str) -> Option<(u64, u64)> {
    let (used, rest) = text.trim().split_once('(')?;
    let total = rest.strip_suffix(')')?;
    let total_unit = unit_of(total).unwrap_or(Unit::Mib);
    Some((mib(used, total_unit)?, mib(total, Unit::Mib)?))
}

/// A percentage such as `0%`, `0.0%`, `98 %` or `6` (a column headed `(%)`), rounded.
pub fn percent(text: &str) -> Option<u32> {
    let text = text.trim();
    let number = text.strip_suffix('%').unwrap_or(text).trim_end();
    let (value, rest) = leading_number(number)?;
    if !rest.is_empty() {
        return None;
    }
    to_u64(value).and_then(|value| u32::try_from(value).ok())
}

/// A non-negative integer such as a device index.
pub fn integer(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn to_u64(value: f64) -> Option<u64> {
    // Beyond 2^53 the float is no longer exact; no device has that much memory.
    (value.is_finite() && (0.0..9.0e15).contains(&value)).then(|| value.round() as u64)
}

/// A PCI address `domain:bus:device.function` (`0000:3B:00.0`, `00000000:01:00.0`) or
/// `bus:device.function` (`00:01:00.0` as efsmi prints it with a two-digit domain), as parts.
pub fn pci_parts(text: &str) -> Option<(u32, u8, u8, u8)> {
    let text = text.trim();
    let (rest, function) = text.rsplit_once('.')?;
    let mut parts = rest.rsplitn(3, ':');
    let device = parts.next()?;
    let bus = parts.next()?;
    let domain = parts.next().unwrap_or("0");
    let hex = |part: &str, max: usize| -> Option<u32> {
        let digits = !part.is_empty() && part.len() <= max && part.bytes().all(|byte| byte.is_ascii_hexdigit());
        digits.then(|| u32::from_str_radix(part, 16).ok()).flatten()
    };
    let function = u8::try_from(hex(function, 1)?).ok().filter(|function| *function < 8)?;
    let device = u8::try_from(hex(device, 2)?).ok().filter(|device| *device < 32)?;
    let bus = u8::try_from(hex(bus, 2)?).ok()?;
    let domain = hex(domain, 8)?;
    Some((domain, bus, device, function))
}

/// Whether `text` is a PCI address (see [`pci_parts`]).
pub fn is_pci_bus_id(text: &str) -> bool {
    pci_parts(text).is_some()
}

/// The first whitespace-separated token of `text` that is a PCI address.
pub fn find_pci_bus_id(text: &str) -> Option<&str> {
    text.split_whitespace().find(|token| is_pci_bus_id(token))
}

/// A PCI address in the kernel's spelling (`0000:3b:00.0`), for sysfs and for comparing addresses
/// that tools spell differently.
pub fn canonical_pci(text: &str) -> Option<String> {
    pci_parts(text).map(|(domain, bus, device, function)| format!("{domain:04x}:{bus:02x}:{device:02x}.{function:x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_every_spelling() {
        assert_eq!(mib("23374 MiB", Unit::Mib), Some(23374));
        assert_eq!(mib("49120MiB", Unit::Mib), Some(49120));
        assert_eq!(mib("8192", Unit::Mib), Some(8192));
        assert_eq!(mib("64 GiB", Unit::Mib), Some(65536));
        assert_eq!(mib("67092480 KB", Unit::Mib), Some(65520));
        assert_eq!(mib("68702699520", Unit::Bytes), Some(65520));
        assert_eq!(mib("350W", Unit::Mib), None);
        assert_eq!(mib("N/A", Unit::Mib), None);
        assert_eq!(mib("", Unit::Mib), None);
    }

    #[test]
    fn pairs_take_the_unit_of_the_total() {
        assert_eq!(used_total("0 MiB/ 23374 MiB", Unit::Mib), Some((0, 23374)));
        assert_eq!(used_total("858/65536 MiB", Unit::Mib), Some((858, 65536)));
        assert_eq!(used_total("114MiB / 32768MiB", Unit::Mib), Some((114, 32768)));
        assert_eq!(used_total("35738/ 65536", Unit::Mib), Some((35738, 65536)));
        assert_eq!(used_total("1 / 2 GiB", Unit::Mib), Some((1024, 2048)));
        assert_eq!(used_total("N/A / N/A", Unit::Mib), None);
        assert_eq!(used_total("59W / 350W", Unit::Mib), None);
        assert_eq!(used_total_with_unit("858/65536 MiB"), Some((858, 65536)));
        assert_eq!(used_total_with_unit("0 / 0"), None);
        assert_eq!(used_paren_total("1339MiB(16384MiB)"), Some((1339, 16384)));
        assert_eq!(used_paren_total("1339MiB"), None);
    }

    #[test]
    fn percentages() {
        assert_eq!(percent("0%"), Some(0));
        assert_eq!(percent("0.0%"), Some(0));
        assert_eq!(percent(" 98 % "), Some(98));
        assert_eq!(percent("11"), Some(11));
        assert_eq!(percent("N/A"), None);
        assert_eq!(percent("5W"), None);
    }

    #[test]
    fn pci_addresses_in_every_spelling() {
        assert_eq!(canonical_pci("0000:3B:00.0").as_deref(), Some("0000:3b:00.0"));
        assert_eq!(canonical_pci("00000000:01:00.0").as_deref(), Some("0000:01:00.0"));
        assert_eq!(canonical_pci("00:09:00.0").as_deref(), Some("0000:09:00.0"));
        assert_eq!(canonical_pci("0000:0e:00.0").as_deref(), Some("0000:0e:00.0"));
        assert!(!is_pci_bus_id("11:33:56"));
        assert!(!is_pci_bus_id("12.8"));
        assert!(!is_pci_bus_id("v1.1.6"));
        assert_eq!(find_pci_bus_id("x 0000:DA:00.0 y"), Some("0000:DA:00.0"));
    }
}
