//! The agent list of `rocminfo` on Hygon DCUs.
//!
//! `rocminfo` lists HSA agents (`Agent N` between `*******` lines), CPUs and DCUs alike; agents
//! whose `Device Type` is `GPU` or `DCU` are devices, numbered in listing order. The product is the
//! `Marketing Name` (`K1xx_AI`), the id the `Uuid` (unless the `GPU-XX` placeholder), the memory the
//! size of the agent's first `GLOBAL` `COARSE GRAINED` pool (its VRAM). No utilisation or health
//! is shown. The HSA `Node` is not a NUMA node and is not reported as one.

use tidepool_crds::{Catalogue, Family};

use super::super::BackendError;
use super::super::inventory::Inventory;
use super::super::output::{Line, Output};
use super::super::values::{self, Unit};
use crate::device::Device;

/// The devices of a rocminfo output, or `None` if `output` lists no HSA agents.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Option<Result<Vec<Device>, BackendError>> {
    let lines: Vec<Line<'_>> = output.lines().collect();
    let starts: Vec<usize> =
        lines.iter().enumerate().filter(|(_, line)| is_agent_start(line.text)).map(|(at, _)| at).collect();
    if starts.is_empty() && !output.text.contains("HSA Agents") {
        return None;
    }
    let mut inventory = Inventory::new();
    let mut index = 0;
    for (number, &start) in starts.iter().enumerate() {
        let end = starts.get(number + 1).copied().unwrap_or(lines.len());
        let agent = lines.get(start..end).unwrap_or_default();
        if !matches!(property(agent, "Device Type").map(str::to_ascii_uppercase).as_deref(), Some("GPU" | "DCU")) {
            continue;
        }
        let line = agent.first().map_or(0, |line| line.number);
        let name = property(agent, "Marketing Name").or_else(|| property(agent, "Name"));
        let Some(name) = name else {
            return Some(Err(output.error(line, "a GPU agent without a Marketing Name or Name")));
        };
        let mut device = Device::new(Family::Hygon, index, name, vram(agent).unwrap_or(0), catalogue);
        device.uuid = property(agent, "Uuid").filter(|uuid| !uuid.ends_with("-XX")).map(str::to_owned);
        if let Err(error) = inventory.push(output, line, device) {
            return Some(Err(error));
        }
        index += 1;
    }
    Some(Ok(inventory.finish(catalogue)))
}

fn is_agent_start(text: &str) -> bool {
    text.trim().strip_prefix("Agent ").is_some_and(|number| values::integer(number).is_some())
}

/// The value of the agent's first `key:` line, if not blank.
fn property<'a>(agent: &[Line<'a>], key: &str) -> Option<&'a str> {
    agent.iter().find_map(|line| {
        let (name, value) = line.text.split_once(':')?;
        (name.trim() == key).then(|| value.trim()).filter(|value| !value.is_empty())
    })
}

/// The size of the first `GLOBAL` `COARSE GRAINED` pool, in MiB.
fn vram(agent: &[Line<'_>]) -> Option<u64> {
    let mut coarse = false;
    for line in agent {
        let Some((name, value)) = line.text.split_once(':') else { continue };
        match name.trim() {
            "Segment" => coarse = value.contains("GLOBAL") && value.contains("COARSE GRAINED"),
            "Size" if coarse => return size(value),
            _ => {}
        }
    }
    None
}

/// A pool size such as `67092480(0x3ffc000) KB`: the decimal figure and the unit at the end.
fn size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    let unit = text.split_whitespace().last().and_then(Unit::parse).unwrap_or(Unit::Kib);
    values::mib(&digits, unit)
}
