//! The `fake` backend: devices from an inventory file, for development and tests.
//!
//! The file is YAML (JSON is YAML too): a list of devices, or an object with a `devices` list, in
//! the shape `tidepool-agent discover --json` prints. `model` may be left out and is then resolved
//! from `product_name` against the catalogue. The file is read again on every call, so editing it
//! (marking a device `Unhealthy`, say) is how tests change what the node has.

use std::path::PathBuf;

use serde::Deserialize;
use tidepool_crds::{Catalogue, Family};

use super::{Backend, BackendError, Presence, Source};
use crate::device::{Device, Health, resolve_model};

/// The backend's name.
pub const NAME: &str = "fake";

/// Devices from an inventory file.
pub struct FakeBackend {
    path: Option<PathBuf>,
    catalogue: Catalogue,
}

impl FakeBackend {
    /// A fake backend reading `source` (it has nothing to read on a node without a file).
    pub fn new(source: Source, catalogue: Catalogue) -> Self {
        let path = match source {
            Source::File(path) => Some(path),
            Source::Node => None,
        };
        FakeBackend { path, catalogue }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InventoryFile {
    List(Vec<FakeDevice>),
    Object { devices: Vec<FakeDevice> },
}

/// A device as written in an inventory file: [`Device`] with `model` and the flags optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FakeDevice {
    family: Family,
    index: u32,
    #[serde(default)]
    uuid: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    in_catalogue: Option<bool>,
    product_name: String,
    memory_mib: u64,
    #[serde(default)]
    memory_used_mib: Option<u64>,
    #[serde(default)]
    utilisation_percent: Option<u32>,
    #[serde(default)]
    pci_bus_id: Option<String>,
    #[serde(default)]
    numa_node: Option<u32>,
    #[serde(default)]
    peers: Vec<u32>,
    #[serde(default = "healthy")]
    health: Health,
    #[serde(default)]
    health_reason: Option<String>,
}

fn healthy() -> Health {
    Health::Healthy
}

impl FakeDevice {
    fn into_device(self, catalogue: &Catalogue) -> Device {
        let resolved = resolve_model(catalogue, self.family, &self.product_name);
        let in_catalogue = self.in_catalogue.unwrap_or(resolved.is_some());
        Device {
            family: self.family,
            index: self.index,
            uuid: self.uuid,
            model: self.model.or(resolved).unwrap_or_else(|| self.product_name.clone()),
            in_catalogue,
            product_name: self.product_name,
            memory_mib: self.memory_mib,
            memory_used_mib: self.memory_used_mib,
            utilisation_percent: self.utilisation_percent,
            pci_bus_id: self.pci_bus_id,
            numa_node: self.numa_node,
            peers: self.peers,
            health: self.health,
            health_reason: self.health_reason,
        }
    }
}

/// Parses an inventory file's text; `origin` names it in errors.
pub fn parse_inventory(text: &str, origin: &str, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let file: InventoryFile = serde_yaml::from_str(text).map_err(|error| BackendError::Parse {
        backend: NAME,
        origin: origin.to_owned(),
        line: error.location().map_or(0, |location| location.line()),
        problem: format!("not an inventory (a list of devices or an object with `devices`): {error}"),
    })?;
    let devices = match file {
        InventoryFile::List(devices) | InventoryFile::Object { devices } => devices,
    };
    Ok(devices.into_iter().map(|device| device.into_device(catalogue)).collect())
}

impl Backend for FakeBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn presence(&self) -> Presence {
        match &self.path {
            Some(path) if path.is_file() => Presence::Present(path.display().to_string()),
            Some(path) => Presence::Absent(format!("inventory file {}", path.display())),
            None => Presence::Absent("an inventory file (--from-file)".to_owned()),
        }
    }

    fn discover(&self) -> Result<Vec<Device>, BackendError> {
        let Some(path) = &self.path else {
            return Err(BackendError::Unavailable {
                backend: NAME,
                what: "inventory".to_owned(),
                problem: "the fake backend needs an inventory file (--from-file)".to_owned(),
            });
        };
        let text = std::fs::read_to_string(path).map_err(|error| BackendError::Unavailable {
            backend: NAME,
            what: path.display().to_string(),
            problem: error.to_string(),
        })?;
        parse_inventory(&text, &path.display().to_string(), &self.catalogue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_list_or_an_object_and_resolves_models() {
        let catalogue = Catalogue::builtin();
        let list = "- {family: ascend, index: 0, product_name: 910B2C, memory_mib: 65536}\n\
                    - {family: ascend, index: 1, product_name: 910B2C, memory_mib: 65536, health: Alarm,\n   \
                       health_reason: HBM ECC}\n";
        let devices = parse_inventory(list, "inv.yaml", &catalogue).unwrap();
        assert_eq!(devices.len(), 2);
        assert_eq!(devices[0].model, "ascend-910b");
        assert!(devices[0].health.is_healthy());
        assert_eq!(devices[1].health, Health::Unhealthy("Alarm".into()));

        let object = serde_json::json!({"devices": [devices[0]]}).to_string();
        assert_eq!(parse_inventory(&object, "inv.json", &catalogue).unwrap(), devices[..1]);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let error = parse_inventory("- {family: ascend, index: 0}\n- nonsense: [\n", "inv.yaml", &Catalogue::builtin())
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("fake: inv.yaml:"), "{error}");
    }
}
