//! What the controller knows of a node's devices: the detailed records agents report, and the
//! narrow [`NodeInventory`] view snapshot assembly consumes.
//!
//! Pure types and conversions from the wire (`tidepool.agent.v1`); no I/O, no clock.

use tidepool_crds::Family;
use tidepool_proto::agent as api;

/// One node's devices as the scheduler should see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInventory {
    /// The Kubernetes node name.
    pub node: String,
    /// The node's devices, in the order its agent listed them.
    pub devices: Vec<InventoryDevice>,
    /// Whether the node's agent has been silent past the timeout; every device is then unavailable.
    pub stale: bool,
}

/// One device as the scheduler should see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryDevice {
    /// The vendor family.
    pub family: Family,
    /// The catalogue model name (`nvidia-h100-80g`), or the product name when not in the catalogue.
    pub model: String,
    /// The id kubelet knows the device by.
    pub id: String,
    /// Whether workloads may be placed on it (false when unhealthy or its node is stale).
    pub healthy: bool,
    /// Why it is unavailable; `None` when healthy.
    pub reason: Option<String>,
}

/// A device's health as its agent last reported it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceHealth {
    /// Whether the device may be handed to workloads.
    pub healthy: bool,
    /// The state's name (`Healthy`, or the vendor's name for the unhealthy state).
    pub state: String,
    /// Why it is unhealthy, in the vendor's words where given.
    pub reason: Option<String>,
}

/// A device's latest utilisation sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utilisation {
    /// Compute utilisation in percent, as the vendor reports it.
    pub percent: Option<u32>,
    /// Device memory in use, in MiB.
    pub memory_used_mib: Option<u64>,
    /// When the agent read it: milliseconds since the Unix epoch, by the agent's clock.
    pub observed_at_unix_ms: u64,
}

/// Everything the controller keeps about one device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceRecord {
    /// The id kubelet knows the device by.
    pub id: String,
    /// The vendor family.
    pub family: Family,
    /// The device's index as its vendor tool numbers it.
    pub index: u32,
    /// The catalogue model name, or the product name when not in the catalogue.
    pub model: String,
    /// Whether `model` is a catalogue entry.
    pub in_catalogue: bool,
    /// Total device memory in MiB.
    pub memory_mib: u64,
    /// NUMA node the device is attached to.
    pub numa_node: Option<u32>,
    /// Indices of devices with a direct high-speed link to this one.
    pub peers: Vec<u32>,
    /// The extended resource name the agent serves it under (empty when not serving kubelet).
    pub resource_name: String,
    /// Its health.
    pub health: DeviceHealth,
    /// Its latest utilisation, once sampled.
    pub utilisation: Option<Utilisation>,
}

impl DeviceRecord {
    /// The scheduler's view of this device on a node that is fresh.
    pub fn view(&self) -> InventoryDevice {
        let reason = if self.health.healthy {
            None
        } else {
            Some(self.health.reason.clone().unwrap_or_else(|| format!("device reported {}", self.health.state)))
        };
        InventoryDevice {
            family: self.family,
            model: self.model.clone(),
            id: self.id.clone(),
            healthy: self.health.healthy,
            reason,
        }
    }
}

/// A device the controller cannot use as sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// The family is unset or newer than this controller.
    #[error("device {id:?} has an unknown family ({family})")]
    UnknownFamily {
        /// The device's id.
        id: String,
        /// The family number sent.
        family: i32,
    },
    /// The id is empty.
    #[error("a device has an empty id")]
    EmptyId,
}

/// The crd family of a wire family; `None` for unset and unknown values.
pub fn family(wire: i32) -> Option<Family> {
    Some(match api::Family::try_from(wire).ok()? {
        api::Family::Unspecified => return None,
        api::Family::Nvidia => Family::Nvidia,
        api::Family::Ascend => Family::Ascend,
        api::Family::Cambricon => Family::Cambricon,
        api::Family::Hygon => Family::Hygon,
        api::Family::Kunlunxin => Family::Kunlunxin,
        api::Family::Iluvatar => Family::Iluvatar,
        api::Family::Metax => Family::Metax,
        api::Family::Mthreads => Family::Mthreads,
        api::Family::Enflame => Family::Enflame,
    })
}

/// A wire health; a missing one counts as unhealthy, since nobody vouched for the device.
pub fn health(wire: Option<&api::Health>) -> DeviceHealth {
    match wire {
        Some(health) => {
            DeviceHealth { healthy: health.healthy, state: health.state.clone(), reason: health.reason.clone() }
        }
        None => DeviceHealth { healthy: false, state: "Unknown".into(), reason: Some("no health reported".into()) },
    }
}

/// The record of a wire device, with no utilisation yet.
pub fn device(wire: &api::Device) -> Result<DeviceRecord, DeviceError> {
    if wire.id.is_empty() {
        return Err(DeviceError::EmptyId);
    }
    let family =
        family(wire.family).ok_or_else(|| DeviceError::UnknownFamily { id: wire.id.clone(), family: wire.family })?;
    Ok(DeviceRecord {
        id: wire.id.clone(),
        family,
        index: wire.index,
        model: wire.model.clone(),
        in_catalogue: wire.in_catalogue,
        memory_mib: wire.memory_mib,
        numa_node: wire.numa_node,
        peers: wire.peers.clone(),
        resource_name: wire.resource_name.clone(),
        health: health(wire.health.as_ref()),
        utilisation: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(id: &str, family: api::Family, health: Option<api::Health>) -> api::Device {
        api::Device {
            id: id.into(),
            family: family.into(),
            model: "nvidia-h100-80g".into(),
            memory_mib: 81920,
            peers: vec![1],
            health,
            ..api::Device::default()
        }
    }

    #[test]
    fn healthy_devices_convert_whole() {
        let healthy = api::Health { healthy: true, state: "Healthy".into(), reason: None };
        let record = device(&wire("GPU-0", api::Family::Nvidia, Some(healthy))).unwrap();
        assert_eq!((record.family, record.memory_mib, record.peers.as_slice()), (Family::Nvidia, 81920, &[1][..]));
        assert_eq!(
            record.view(),
            InventoryDevice {
                family: Family::Nvidia,
                model: "nvidia-h100-80g".into(),
                id: "GPU-0".into(),
                healthy: true,
                reason: None
            }
        );
    }

    #[test]
    fn unhealthy_devices_carry_a_reason() {
        let alarm = api::Health { healthy: false, state: "Alarm".into(), reason: None };
        let view = device(&wire("ascend-0", api::Family::Ascend, Some(alarm))).unwrap().view();
        assert_eq!((view.healthy, view.reason.as_deref()), (false, Some("device reported Alarm")));
        let silent = device(&wire("ascend-1", api::Family::Ascend, None)).unwrap().view();
        assert_eq!((silent.healthy, silent.reason.as_deref()), (false, Some("no health reported")));
    }

    #[test]
    fn unknown_families_and_empty_ids_are_errors() {
        assert_eq!(
            device(&wire("x", api::Family::Unspecified, None)),
            Err(DeviceError::UnknownFamily { id: "x".into(), family: 0 })
        );
        let mut newer = wire("y", api::Family::Nvidia, None);
        newer.family = 42;
        assert!(matches!(device(&newer), Err(DeviceError::UnknownFamily { family: 42, .. })));
        assert_eq!(device(&wire("", api::Family::Nvidia, None)), Err(DeviceError::EmptyId));
    }
}
