//! One accelerator as the agent reports it, and the node's inventory of them.
//!
//! The same shape is printed by `tidepool-agent discover --json`, read back by the `fake` backend,
//! served to kubelet and streamed to the controller. Fields a vendor tool does not show are `None`
//! (or empty, or 0 for memory), never guessed; the one fill-in is memory from the catalogue model
//! when the tool shows none (see [`Device::memory_mib`]).

use serde::{Deserialize, Serialize};
use tidepool_crds::{Catalogue, Family};

/// One accelerator device on this node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The vendor family, which decides resource names, env vars and device nodes.
    pub family: Family,
    /// The device's index as its vendor tool numbers it (the number in `/dev/davinciN`, the
    /// `NVIDIA_VISIBLE_DEVICES` index, ...).
    pub index: u32,
    /// The vendor's stable unique id (GPU UUID, serial number, ...) where the tool shows one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// The catalogue model name (`nvidia-a100-80g`) when the product is in the catalogue, otherwise
    /// the product name exactly as the tool shows it.
    pub model: String,
    /// Whether `model` is a catalogue entry.
    pub in_catalogue: bool,
    /// The product name exactly as the tool or library shows it (may be redacted, e.g. `xxx`).
    pub product_name: String,
    /// Total device memory in MiB, as the tool or library reports it. Where the tool shows no
    /// memory figure (hy-smi's table, `npu-smi info -m`, `npu-smi info -t board`), the
    /// catalogue model's `memoryGiB` × 1024 when the product resolves, else 0: unknown.
    pub memory_mib: u64,
    /// Device memory in use, in MiB, as reported (may exceed the total on some tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_used_mib: Option<u64>,
    /// Compute utilisation in percent, as reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utilisation_percent: Option<u32>,
    /// PCI bus id as the tool prints it (`0000:3B:00.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_bus_id: Option<String>,
    /// NUMA node the device is attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numa_node: Option<u32>,
    /// Indices of devices this one has a direct high-speed link to (NVLink, HCCS, MLU-Link, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<u32>,
    /// `Healthy`, or the vendor's unhealthy state (`Unhealthy`, `Alarm`, `Critical`, ...).
    pub health: Health,
    /// Why the device is unhealthy, in the vendor's words where it gives them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_reason: Option<String>,
}

/// A device's health. Serialised as the state's name: `Healthy` or e.g. `Warning`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Health {
    /// Usable.
    Healthy,
    /// Not usable; the vendor's name for the state.
    Unhealthy(String),
}

impl Health {
    /// Whether the device may be handed to workloads.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Health::Healthy)
    }
}

impl From<String> for Health {
    fn from(state: String) -> Self {
        if state.eq_ignore_ascii_case("healthy") || state.eq_ignore_ascii_case("ok") {
            Health::Healthy
        } else {
            Health::Unhealthy(state)
        }
    }
}

impl From<Health> for String {
    fn from(health: Health) -> Self {
        match health {
            Health::Healthy => "Healthy".to_owned(),
            Health::Unhealthy(state) => state,
        }
    }
}

impl Device {
    /// A healthy device of `family` with the tool's product name resolved against `catalogue`;
    /// backends fill in the rest of what their tool shows.
    pub fn new(family: Family, index: u32, product_name: &str, memory_mib: u64, catalogue: &Catalogue) -> Self {
        let resolved = resolve_model(catalogue, family, product_name);
        Device {
            family,
            index,
            uuid: None,
            in_catalogue: resolved.is_some(),
            model: resolved.unwrap_or_else(|| product_name.to_owned()),
            product_name: product_name.to_owned(),
            memory_mib,
            memory_used_mib: None,
            utilisation_percent: None,
            pci_bus_id: None,
            numa_node: None,
            peers: Vec::new(),
            health: Health::Healthy,
            health_reason: None,
        }
    }

    /// The id kubelet and the controller know this device by: the uuid where there is one,
    /// otherwise `<family>-<index>`. At most 63 characters, as the device-plugin API requires.
    pub fn id(&self) -> String {
        let id = match &self.uuid {
            Some(uuid) if !uuid.is_empty() => uuid.clone(),
            _ => format!("{}-{}", self.family.as_str(), self.index),
        };
        id.chars().take(63).collect()
    }
}

/// The catalogue model whose `productNames` include `product_name` (case and runs of blanks
/// ignored), among models of `family`.
pub fn resolve_model(catalogue: &Catalogue, family: Family, product_name: &str) -> Option<String> {
    let wanted = normalise(product_name);
    catalogue
        .iter()
        .filter(|model| model.spec.family == family)
        .find(|model| model.spec.product_names.iter().any(|name| normalise(name) == wanted))
        .and_then(|model| model.metadata.name.clone())
}

fn normalise(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn product_names_resolve_to_catalogue_models() {
        let catalogue = Catalogue::builtin();
        let a100 = Device::new(Family::Nvidia, 0, "NVIDIA  a100-SXM4-80GB", 81920, &catalogue);
        assert_eq!((a100.model.as_str(), a100.in_catalogue), ("nvidia-a100-80g", true));
        let unknown = Device::new(Family::Nvidia, 1, "NVIDIA A10G", 23028, &catalogue);
        assert_eq!((unknown.model.as_str(), unknown.in_catalogue), ("NVIDIA A10G", false));
        // A name is only matched within its family.
        assert_eq!(resolve_model(&catalogue, Family::Ascend, "NVIDIA A100-SXM4-80GB"), None);
    }

    #[test]
    fn health_round_trips_as_the_state_name() {
        let json = serde_json::to_string(&[Health::Healthy, Health::Unhealthy("Alarm".into())]).unwrap();
        assert_eq!(json, r#"["Healthy","Alarm"]"#);
        let back: Vec<Health> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, [Health::Healthy, Health::Unhealthy("Alarm".into())]);
    }

    #[test]
    fn ids_prefer_the_uuid_and_fit_kubelet() {
        let catalogue = Catalogue::builtin();
        let mut device = Device::new(Family::Ascend, 3, "910B2C", 65536, &catalogue);
        assert_eq!(device.id(), "ascend-3");
        device.uuid = Some("x".repeat(80));
        assert_eq!(device.id().len(), 63);
    }
}
