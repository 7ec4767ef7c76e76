//! Collecting a parser's devices, and the checks and fill-ins every backend applies to them.
//!
//! - An index listed twice is a parse error at the second listing: kubelet would see one device
//!   where the node has two.
//! - A uuid several devices share (a capture with redacted serial numbers, `02Kxxx`) is not an id
//!   and is dropped; the device is then known by `<family>-<index>`.
//! - A device whose tool shows no memory figure gets its catalogue model's `memoryGiB` when the
//!   product resolves; otherwise it stays 0 (unknown). Nothing else is filled in.

use std::collections::{HashMap, HashSet};

use tidepool_crds::Catalogue;

use super::BackendError;
use super::output::Output;
use crate::device::Device;

/// Devices found in one output, with the line each was found at.
#[derive(Debug, Default)]
pub struct Inventory {
    devices: Vec<Device>,
    first_line: HashMap<u32, usize>,
}

impl Inventory {
    /// An empty inventory.
    pub fn new() -> Self {
        Inventory::default()
    }

    /// Adds `device`, found at `line` of `output`; an index already listed is an error.
    pub fn push(&mut self, output: &Output, line: usize, device: Device) -> Result<(), BackendError> {
        if let Some(first) = self.first_line.insert(device.index, line) {
            return Err(
                output.error(line, format!("device index {} listed twice (first at line {first})", device.index))
            );
        }
        self.devices.push(device);
        Ok(())
    }

    /// The devices, with shared uuids dropped and missing memory taken from the catalogue.
    pub fn finish(self, catalogue: &Catalogue) -> Vec<Device> {
        finish(self.devices, catalogue)
    }
}

/// Drops uuids several devices share and fills memory the tool did not show from the catalogue.
pub fn finish(mut devices: Vec<Device>, catalogue: &Catalogue) -> Vec<Device> {
    let mut seen = HashSet::new();
    let shared: HashSet<String> =
        devices.iter().filter_map(|device| device.uuid.clone()).filter(|uuid| !seen.insert(uuid.clone())).collect();
    for device in &mut devices {
        if device.uuid.as_ref().is_some_and(|uuid| shared.contains(uuid) || uuid.trim().is_empty()) {
            device.uuid = None;
        }
        if device.memory_mib == 0
            && device.in_catalogue
            && let Some(model) = catalogue.get(&device.model)
        {
            device.memory_mib = u64::from(model.spec.memory_gib) * 1024;
        }
    }
    devices
}

#[cfg(test)]
mod tests {
    use tidepool_crds::Family;

    use super::*;

    #[test]
    fn duplicates_fail_and_shared_uuids_go() {
        let catalogue = Catalogue::builtin();
        let output = Output::new("x", "cmd", "");
        let mut inventory = Inventory::new();
        let mut first = Device::new(Family::Kunlunxin, 0, "R300", 32768, &catalogue);
        first.uuid = Some("02Kxxx".into());
        let mut second = Device::new(Family::Kunlunxin, 1, "R300", 0, &catalogue);
        second.uuid = Some("02Kxxx".into());
        inventory.push(&output, 3, first.clone()).unwrap();
        inventory.push(&output, 4, second).unwrap();
        let error = inventory.push(&output, 9, first).unwrap_err().to_string();
        assert!(error.contains("cmd:9: device index 0 listed twice (first at line 3)"), "{error}");
        let devices = inventory.finish(&catalogue);
        assert!(devices.iter().all(|device| device.uuid.is_none()));
        // The second R300 showed no memory: the catalogue's 32 GiB.
        assert_eq!(devices[1].memory_mib, 32768);
    }
}
