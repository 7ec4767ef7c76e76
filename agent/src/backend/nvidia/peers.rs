//! NVLink peers from each GPU's active links.
//!
//! NVML tells, for each active link, the PCI address at its other end: another GPU (a direct
//! link) or an NVSwitch. Two GPUs are peers when one links to the other, or when both link to the
//! same NVSwitch (every GPU of an HGX board reaches every other through its switches). This module
//! only computes; reading the links is the NVML backend's.

use super::super::values;
use crate::device::Device;

/// One GPU's PCI address and the addresses at the far end of its active links, canonical.
struct Ends {
    own: Option<String>,
    far: Vec<String>,
}

/// Sets `devices[i].peers` from `remotes[i]`, the PCI addresses at the far end of device `i`'s
/// active links.
pub fn assign(devices: &mut [Device], remotes: &[Vec<String>]) {
    let ends: Vec<Ends> = devices
        .iter()
        .enumerate()
        .map(|(at, device)| Ends {
            own: device.pci_bus_id.as_deref().and_then(values::canonical_pci),
            far: remotes
                .get(at)
                .map_or_else(Vec::new, |far| far.iter().filter_map(|a| values::canonical_pci(a)).collect()),
        })
        .collect();
    let is_gpu = |address: &String| ends.iter().any(|end| end.own.as_ref() == Some(address));
    let reaches = |from: &Ends, to: &Ends| to.own.as_ref().is_some_and(|address| from.far.contains(address));
    let linked = |a: &Ends, b: &Ends| {
        reaches(a, b) || reaches(b, a) || a.far.iter().any(|address| !is_gpu(address) && b.far.contains(address))
    };
    let indices: Vec<u32> = devices.iter().map(|device| device.index).collect();
    for (at, device) in devices.iter_mut().enumerate() {
        let mut peers: Vec<u32> = ends
            .iter()
            .zip(&indices)
            .enumerate()
            .filter(|(other, (end, _))| *other != at && ends.get(at).is_some_and(|mine| linked(mine, end)))
            .map(|(_, (_, index))| *index)
            .collect();
        peers.sort_unstable();
        peers.dedup();
        device.peers = peers;
    }
}

#[cfg(test)]
mod tests {
    use tidepool_crds::{Catalogue, Family};

    use super::*;

    fn gpu(index: u32, bus: &str) -> Device {
        let mut device = Device::new(Family::Nvidia, index, "NVIDIA H100 80GB HBM3", 81559, &Catalogue::builtin());
        device.pci_bus_id = Some(bus.to_owned());
        device
    }

    #[test]
    fn direct_links_and_shared_switches_make_peers() {
        let mut devices = vec![
            gpu(0, "00000000:01:00.0"),
            gpu(1, "00000000:02:00.0"),
            gpu(2, "00000000:03:00.0"),
            gpu(3, "0000:04:00.0"),
        ];
        let remotes = vec![
            vec!["00000000:02:00.0".to_owned()],         // 0 -> 1 directly
            vec![],                                      // 1 says nothing: still 0's peer
            vec!["00000000:C0:00.0".to_owned()],         // 2 -> switch C0
            vec!["0000:c0:00.0".to_owned(), "x".into()], // 3 -> the same switch
        ];
        assign(&mut devices, &remotes);
        let peers: Vec<Vec<u32>> = devices.iter().map(|device| device.peers.clone()).collect();
        assert_eq!(peers, [vec![1], vec![0], vec![3], vec![2]]);
    }
}
