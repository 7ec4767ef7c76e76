//! The NUMA node of a PCI device, from sysfs.
//!
//! Few vendor tools print NUMA affinity, but the kernel knows it for every PCI device:
//! `/sys/bus/pci/devices/<address>/numa_node` (`-1` when the machine has no NUMA). Backends
//! reading the node itself use this for devices whose tool showed a PCI address; captured files
//! are never completed from this machine's sysfs.

use std::path::Path;

use super::values;
use crate::device::Device;

/// Where the kernel lists PCI devices.
const PCI_DEVICES: &str = "/sys/bus/pci/devices";

/// The NUMA node of the PCI device at `pci_bus_id`, if the kernel knows one.
pub fn numa_node(pci_bus_id: &str) -> Option<u32> {
    numa_node_in(Path::new(PCI_DEVICES), pci_bus_id)
}

fn numa_node_in(root: &Path, pci_bus_id: &str) -> Option<u32> {
    let address = values::canonical_pci(pci_bus_id)?;
    let text = std::fs::read_to_string(root.join(address).join("numa_node")).ok()?;
    text.trim().parse::<i64>().ok().and_then(|node| u32::try_from(node).ok())
}

/// Sets the NUMA node of every device that has a PCI address and no NUMA node yet.
pub fn fill(devices: &mut [Device]) {
    for device in devices {
        if device.numa_node.is_none() {
            device.numa_node = device.pci_bus_id.as_deref().and_then(numa_node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_kernels_numa_node() {
        let root = std::env::temp_dir().join(format!("tidepool-numa-{}", std::process::id()));
        let device = root.join("0000:3b:00.0");
        std::fs::create_dir_all(&device).unwrap();
        std::fs::write(device.join("numa_node"), "1\n").unwrap();
        assert_eq!(numa_node_in(&root, "00000000:3B:00.0"), Some(1));
        std::fs::write(device.join("numa_node"), "-1\n").unwrap();
        assert_eq!(numa_node_in(&root, "0000:3b:00.0"), None);
        assert_eq!(numa_node_in(&root, "0000:3c:00.0"), None);
        assert_eq!(numa_node_in(&root, "not an address"), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
