//! What the node has at one instant, and what changed between two instants.
//!
//! The sampler publishes a [`Snapshot`] after every read of the backends; the plugin servers and
//! the reporter each compare the snapshots they see with what they last sent, using [`diff`]. This
//! module holds no state and does no I/O.

use std::collections::HashMap;
use std::sync::Arc;

use crate::device::Device;

/// Every device on the node, as read at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// How many reads of the backends came before this one (0 for the first).
    pub sequence: u64,
    /// When the backends were read: milliseconds since the Unix epoch.
    pub observed_at_unix_ms: u64,
    /// The devices, in the order the backends list them.
    pub devices: Arc<[Device]>,
}

/// What changed from one device list to the next.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// A device appeared or disappeared, or something other than its health and utilisation
    /// changed: the whole inventory has to be sent again.
    pub inventory_changed: bool,
    /// Positions, in the new list, of devices present in both whose health (or its reason)
    /// changed.
    pub health_changed: Vec<usize>,
}

impl Diff {
    /// Whether nothing but utilisation changed.
    pub fn is_empty(&self) -> bool {
        !self.inventory_changed && self.health_changed.is_empty()
    }
}

/// Compares two device lists by [`Device::id`].
pub fn diff(old: &[Device], new: &[Device]) -> Diff {
    let mut result = Diff { inventory_changed: old.len() != new.len(), health_changed: Vec::new() };
    let before: HashMap<String, &Device> = old.iter().map(|device| (device.id(), device)).collect();
    for (position, device) in new.iter().enumerate() {
        match before.get(&device.id()).copied() {
            None => result.inventory_changed = true,
            Some(before) => {
                if !same_identity(before, device) {
                    result.inventory_changed = true;
                }
                if before.health != device.health || before.health_reason != device.health_reason {
                    result.health_changed.push(position);
                }
            }
        }
    }
    result
}

/// Whether two readings describe the same device the same way, health and utilisation aside.
fn same_identity(a: &Device, b: &Device) -> bool {
    a.family == b.family
        && a.index == b.index
        && a.uuid == b.uuid
        && a.model == b.model
        && a.in_catalogue == b.in_catalogue
        && a.product_name == b.product_name
        && a.memory_mib == b.memory_mib
        && a.pci_bus_id == b.pci_bus_id
        && a.numa_node == b.numa_node
        && a.peers == b.peers
}

#[cfg(test)]
mod tests {
    use tidepool_crds::{Catalogue, Family};

    use super::*;
    use crate::device::Health;

    fn devices(n: u32) -> Vec<Device> {
        let catalogue = Catalogue::builtin();
        (0..n).map(|i| Device::new(Family::Nvidia, i, "NVIDIA A100-SXM4-80GB", 81920, &catalogue)).collect()
    }

    #[test]
    fn utilisation_alone_is_no_change() {
        let old = devices(2);
        let mut new = old.clone();
        new[1].utilisation_percent = Some(90);
        new[1].memory_used_mib = Some(1000);
        assert!(diff(&old, &new).is_empty());
    }

    #[test]
    fn health_changes_name_the_device() {
        let old = devices(3);
        let mut new = old.clone();
        new[2].health = Health::Unhealthy("Unhealthy".into());
        assert_eq!(diff(&old, &new), Diff { inventory_changed: false, health_changed: vec![2] });
        let mut reason_only = new.clone();
        reason_only[2].health_reason = Some("XID 79".into());
        assert_eq!(diff(&new, &reason_only).health_changed, vec![2]);
    }

    #[test]
    fn added_removed_or_altered_devices_change_the_inventory() {
        let old = devices(2);
        assert!(diff(&old, &devices(3)).inventory_changed);
        assert!(diff(&old, &devices(1)).inventory_changed);
        let mut swapped = devices(2);
        swapped[1].uuid = Some("GPU-other".into());
        assert!(diff(&old, &swapped).inventory_changed);
        let mut moved = devices(2);
        moved[0].numa_node = Some(1);
        assert!(diff(&old, &moved).inventory_changed);
    }
}
