//! The agent's devices as `tidepool.agent.v1` messages. Pure conversions, no I/O.

use tidepool_crds::Family;
use tidepool_proto::agent as api;

use crate::device::Device;
use crate::plugin::naming::Naming;

/// The wire family of `family`.
pub fn family(family: Family) -> api::Family {
    match family {
        Family::Nvidia => api::Family::Nvidia,
        Family::Ascend => api::Family::Ascend,
        Family::Cambricon => api::Family::Cambricon,
        Family::Hygon => api::Family::Hygon,
        Family::Kunlunxin => api::Family::Kunlunxin,
        Family::Iluvatar => api::Family::Iluvatar,
        Family::Metax => api::Family::Metax,
        Family::Mthreads => api::Family::Mthreads,
        Family::Enflame => api::Family::Enflame,
    }
}

/// The wire health of `device`.
pub fn health(device: &Device) -> api::Health {
    api::Health {
        healthy: device.health.is_healthy(),
        state: String::from(device.health.clone()),
        reason: device.health_reason.clone(),
    }
}

/// `device` on the wire; `naming` gives the resource name it is served under, when the agent
/// serves kubelet.
pub fn device(device: &Device, naming: Option<&Naming>) -> api::Device {
    api::Device {
        id: device.id(),
        family: family(device.family).into(),
        index: device.index,
        uuid: device.uuid.clone(),
        model: device.model.clone(),
        in_catalogue: device.in_catalogue,
        product_name: device.product_name.clone(),
        memory_mib: device.memory_mib,
        pci_bus_id: device.pci_bus_id.clone(),
        numa_node: device.numa_node,
        peers: device.peers.clone(),
        health: Some(health(device)),
        resource_name: naming.map(|naming| naming.resource_name(device)).unwrap_or_default(),
    }
}

/// The utilisation sample of `devices`: one entry per device that reports anything.
pub fn utilisation(devices: &[Device], observed_at_unix_ms: u64) -> api::UtilisationSample {
    api::UtilisationSample {
        observed_at_unix_ms,
        devices: devices
            .iter()
            .filter(|device| device.utilisation_percent.is_some() || device.memory_used_mib.is_some())
            .map(|device| api::DeviceUtilisation {
                device_id: device.id(),
                utilisation_percent: device.utilisation_percent,
                memory_used_mib: device.memory_used_mib,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use tidepool_crds::Catalogue;

    use super::*;
    use crate::device::Health;
    use crate::plugin::naming::NamingMode;

    #[test]
    fn devices_keep_their_identity_health_and_resource() {
        let catalogue = Catalogue::builtin();
        let mut d = Device::new(Family::Ascend, 2, "910B3", 65536, &catalogue);
        d.health = Health::Unhealthy("Alarm".into());
        d.health_reason = Some("HBM ECC".into());
        d.numa_node = Some(1);
        d.peers = vec![0, 1, 3];
        let naming = Naming::new(NamingMode::Tidepool, catalogue);
        let wire = device(&d, Some(&naming));
        assert_eq!(wire.id, "ascend-2");
        assert_eq!(wire.family(), api::Family::Ascend);
        assert_eq!((wire.model.as_str(), wire.in_catalogue, wire.memory_mib), ("ascend-910b", true, 65536));
        assert_eq!((wire.numa_node, wire.peers.as_slice()), (Some(1), &[0, 1, 3][..]));
        assert_eq!(
            wire.health,
            Some(api::Health { healthy: false, state: "Alarm".into(), reason: Some("HBM ECC".into()) })
        );
        assert_eq!(wire.resource_name, "tidepool.dev/ascend-910b");
        assert_eq!(device(&d, None).resource_name, "");
    }

    #[test]
    fn utilisation_lists_only_devices_that_report_it() {
        let catalogue = Catalogue::builtin();
        let mut busy = Device::new(Family::Nvidia, 0, "NVIDIA H100", 81920, &catalogue);
        busy.utilisation_percent = Some(97);
        let quiet = Device::new(Family::Nvidia, 1, "NVIDIA H100", 81920, &catalogue);
        let sample = utilisation(&[busy, quiet], 5);
        assert_eq!(sample.observed_at_unix_ms, 5);
        assert_eq!(sample.devices.len(), 1);
        assert_eq!(sample.devices[0].utilisation_percent, Some(97));
    }
}
