//! What a container gets for its devices: per family, the environment variable the vendor's
//! container runtime reads, the device nodes, and mounts (facts §3).
//!
//! | family | env var (value) | per-device nodes | shared nodes |
//! |---|---|---|---|
//! | nvidia | `NVIDIA_VISIBLE_DEVICES` (uuids, else indices) | `/dev/nvidiaN` | `/dev/nvidiactl`, `/dev/nvidia-uvm` |
//! | ascend | `ASCEND_VISIBLE_DEVICES` (indices) | `/dev/davinciN` | `/dev/davinci_manager`, `/dev/devmm_svm`, `/dev/hisi_hdc` |
//! | cambricon | `CAMBRICON_VISIBLE_DEVICES` (indices) | `/dev/cambricon_devN` | `/dev/cambricon_ctl` |
//! | hygon | `HIP_VISIBLE_DEVICES` (indices) | the device's `/dev/dri/cardN`, `/dev/dri/renderDN` | `/dev/kfd` |
//! | kunlunxin | `XPU_VISIBLE_DEVICES` (indices) | `/dev/xpuN` | `/dev/xpuctrl` |
//! | iluvatar | `IX_VISIBLE_DEVICES` (indices) | `/dev/iluvatarN` | `/dev/itrctl` |
//! | metax | none known | the device's `/dev/dri/cardN`, `/dev/dri/renderDN` | `/dev/mxcd` |
//! | mthreads | `MTHREADS_VISIBLE_DEVICES` (indices) | unknown | unknown |
//! | enflame | unknown | unknown | unknown |
//!
//! Where the facts say *unknown*, nothing is made up: Moore Threads containers get only the env
//! var and Enflame containers nothing vendor-specific, so those families still need their vendor's
//! container runtime hook to see the devices. DRM nodes (`cardN`, `renderDN`) are numbered by the
//! kernel, not by the vendor's index, so they are looked up in sysfs by PCI bus id
//! (`/sys/bus/pci/devices/<bus id>/drm/`); a device whose bus id is unknown or not in sysfs gets no
//! DRM nodes (and a warning) rather than a guessed one. The facts name no mounts for any family,
//! so none are returned: driver libraries are the runtime hook's business.
//!
//! Every container also gets `TIDEPOOL_VISIBLE_DEVICES`: the allocated devices' ids, comma-separated.
//!
//! The application-level variables (`CUDA_VISIBLE_DEVICES`, `MLU_VISIBLE_DEVICES`, ...) are left to
//! the runtime and the workload: inside the container devices are renumbered from zero.

use std::path::{Path, PathBuf};

use tidepool_crds::Family;
use tidepool_proto::deviceplugin::{ContainerAllocateResponse, DeviceSpec};
use tracing::warn;

use crate::device::Device;

/// The variable every allocation sets to the allocated devices' ids.
pub const TIDEPOOL_VISIBLE_DEVICES: &str = "TIDEPOOL_VISIBLE_DEVICES";

/// Where allocation looks things up on the node.
#[derive(Clone, Debug)]
pub struct AllocateConfig {
    /// The sysfs mount (`/sys`), for DRM device nodes.
    pub sysfs_root: PathBuf,
}

impl Default for AllocateConfig {
    fn default() -> Self {
        AllocateConfig { sysfs_root: PathBuf::from("/sys") }
    }
}

/// How a family's runtime is told which devices to expose.
struct FamilyRules {
    env: Option<&'static str>,
    /// Whether the env var lists uuids (where known) rather than indices.
    env_uuids: bool,
    per_device: PerDevice,
    shared: &'static [&'static str],
}

enum PerDevice {
    /// `<prefix><index>`.
    Indexed(&'static str),
    /// The device's DRM nodes, found in sysfs.
    Drm,
    /// Not known.
    Unknown,
}

fn rules(family: Family) -> FamilyRules {
    use PerDevice::*;
    let (env, env_uuids, per_device, shared): (_, _, _, &'static [&'static str]) = match family {
        Family::Nvidia => {
            (Some("NVIDIA_VISIBLE_DEVICES"), true, Indexed("/dev/nvidia"), &["/dev/nvidiactl", "/dev/nvidia-uvm"])
        }
        Family::Ascend => (
            Some("ASCEND_VISIBLE_DEVICES"),
            false,
            Indexed("/dev/davinci"),
            &["/dev/davinci_manager", "/dev/devmm_svm", "/dev/hisi_hdc"],
        ),
        Family::Cambricon => {
            (Some("CAMBRICON_VISIBLE_DEVICES"), false, Indexed("/dev/cambricon_dev"), &["/dev/cambricon_ctl"])
        }
        Family::Hygon => (Some("HIP_VISIBLE_DEVICES"), false, Drm, &["/dev/kfd"]),
        Family::Kunlunxin => (Some("XPU_VISIBLE_DEVICES"), false, Indexed("/dev/xpu"), &["/dev/xpuctrl"]),
        Family::Iluvatar => (Some("IX_VISIBLE_DEVICES"), false, Indexed("/dev/iluvatar"), &["/dev/itrctl"]),
        Family::Metax => (None, false, Drm, &["/dev/mxcd"]),
        Family::Mthreads => (Some("MTHREADS_VISIBLE_DEVICES"), false, Unknown, &[]),
        Family::Enflame => (None, false, Unknown, &[]),
    };
    FamilyRules { env, env_uuids, per_device, shared }
}

/// The response for one container given `devices` (all of one family, as one resource is).
pub fn container_response(devices: &[&Device], config: &AllocateConfig) -> ContainerAllocateResponse {
    let mut response = ContainerAllocateResponse::default();
    let ids: Vec<String> = devices.iter().map(|device| device.id()).collect();
    response.envs.insert(TIDEPOOL_VISIBLE_DEVICES.to_owned(), ids.join(","));

    let mut families: Vec<Family> = Vec::new();
    for device in devices {
        if !families.contains(&device.family) {
            families.push(device.family);
        }
    }
    for family in families {
        let rules = rules(family);
        let members: Vec<&Device> = devices.iter().copied().filter(|device| device.family == family).collect();
        if let Some(env) = rules.env {
            let values: Vec<String> = members
                .iter()
                .map(|device| match &device.uuid {
                    Some(uuid) if rules.env_uuids && !uuid.is_empty() => uuid.clone(),
                    _ => device.index.to_string(),
                })
                .collect();
            response.envs.insert(env.to_owned(), values.join(","));
        }
        for device in &members {
            for path in per_device_nodes(&rules.per_device, device, &config.sysfs_root) {
                push_node(&mut response.devices, path);
            }
        }
        for path in rules.shared {
            push_node(&mut response.devices, (*path).to_owned());
        }
    }
    response
}

fn per_device_nodes(per_device: &PerDevice, device: &Device, sysfs_root: &Path) -> Vec<String> {
    match per_device {
        PerDevice::Indexed(prefix) => vec![format!("{prefix}{}", device.index)],
        PerDevice::Drm => {
            let nodes = device.pci_bus_id.as_deref().map(|bus| drm_nodes(sysfs_root, bus)).unwrap_or_default();
            if nodes.is_empty() {
                warn!(
                    device = %device.id(),
                    pci_bus_id = device.pci_bus_id.as_deref().unwrap_or("unknown"),
                    "no DRM device nodes found for the device; the container gets none"
                );
            }
            nodes
        }
        PerDevice::Unknown => Vec::new(),
    }
}

/// The `/dev/dri` nodes of the PCI device `bus_id`, from `<sysfs>/bus/pci/devices/<bus>/drm/`.
pub fn drm_nodes(sysfs_root: &Path, bus_id: &str) -> Vec<String> {
    let dir = sysfs_root.join("bus/pci/devices").join(sysfs_bus_id(bus_id)).join("drm");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut nodes: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| is_drm_node(name))
        .map(|name| format!("/dev/dri/{name}"))
        .collect();
    nodes.sort();
    nodes
}

fn is_drm_node(name: &str) -> bool {
    let digits = name.strip_prefix("card").or_else(|| name.strip_prefix("renderD"));
    digits.is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

/// A bus id as sysfs names it: lowercase, four-digit domain (`00000000:3B:00.0` → `0000:3b:00.0`).
fn sysfs_bus_id(bus_id: &str) -> String {
    let lower = bus_id.trim().to_ascii_lowercase();
    if lower.matches(':').count() < 2 {
        // No domain (`3b:00.0`): domain 0.
        return format!("0000:{lower}");
    }
    match lower.split_once(':') {
        Some((domain, rest)) if domain.len() > 4 => match domain.get(domain.len() - 4..) {
            Some(tail) => format!("{tail}:{rest}"),
            None => lower.clone(),
        },
        _ => lower.clone(),
    }
}

fn push_node(nodes: &mut Vec<DeviceSpec>, path: String) {
    if nodes.iter().all(|node| node.host_path != path) {
        nodes.push(DeviceSpec { container_path: path.clone(), host_path: path, permissions: "rw".to_owned() });
    }
}

#[cfg(test)]
mod tests {
    use tidepool_crds::Catalogue;

    use super::*;

    fn device(family: Family, index: u32, uuid: Option<&str>) -> Device {
        let mut device = Device::new(family, index, "product", 1024, &Catalogue::builtin());
        device.uuid = uuid.map(str::to_owned);
        device
    }

    fn paths(response: &ContainerAllocateResponse) -> Vec<&str> {
        response.devices.iter().map(|spec| spec.host_path.as_str()).collect()
    }

    #[test]
    fn nvidia_gets_uuids_and_its_nodes() {
        let a = device(Family::Nvidia, 0, Some("GPU-a"));
        let b = device(Family::Nvidia, 3, None);
        let response = container_response(&[&a, &b], &AllocateConfig::default());
        assert_eq!(response.envs["NVIDIA_VISIBLE_DEVICES"], "GPU-a,3");
        assert_eq!(response.envs[TIDEPOOL_VISIBLE_DEVICES], "GPU-a,nvidia-3");
        assert_eq!(paths(&response), ["/dev/nvidia0", "/dev/nvidia3", "/dev/nvidiactl", "/dev/nvidia-uvm"]);
        assert!(response.devices.iter().all(|spec| spec.permissions == "rw" && spec.container_path == spec.host_path));
        assert!(response.mounts.is_empty());
    }

    #[test]
    fn ascend_cambricon_kunlunxin_iluvatar_use_indices() {
        let cases = [
            (Family::Ascend, "ASCEND_VISIBLE_DEVICES", "/dev/davinci5", "/dev/davinci_manager"),
            (Family::Cambricon, "CAMBRICON_VISIBLE_DEVICES", "/dev/cambricon_dev5", "/dev/cambricon_ctl"),
            (Family::Kunlunxin, "XPU_VISIBLE_DEVICES", "/dev/xpu5", "/dev/xpuctrl"),
            (Family::Iluvatar, "IX_VISIBLE_DEVICES", "/dev/iluvatar5", "/dev/itrctl"),
        ];
        for (family, env, node, shared) in cases {
            let d = device(family, 5, Some("serial-5"));
            let response = container_response(&[&d], &AllocateConfig::default());
            assert_eq!(response.envs[env], "5", "{family:?}");
            assert_eq!(&paths(&response)[..2], [node, shared], "{family:?}");
        }
    }

    #[test]
    fn drm_nodes_come_from_sysfs_by_bus_id() {
        let sysfs = tempfile::tempdir().unwrap();
        let drm = sysfs.path().join("bus/pci/devices/0000:3b:00.0/drm");
        for name in ["card2", "renderD130", "controlD66x", "version"] {
            std::fs::create_dir_all(drm.join(name)).unwrap();
        }
        let config = AllocateConfig { sysfs_root: sysfs.path().to_owned() };
        let mut dcu = device(Family::Hygon, 1, None);
        dcu.pci_bus_id = Some("00000000:3B:00.0".into());
        let response = container_response(&[&dcu], &config);
        assert_eq!(response.envs["HIP_VISIBLE_DEVICES"], "1");
        assert_eq!(paths(&response), ["/dev/dri/card2", "/dev/dri/renderD130", "/dev/kfd"]);

        // Unknown bus id: only what is known.
        dcu.pci_bus_id = None;
        assert_eq!(paths(&container_response(&[&dcu], &config)), ["/dev/kfd"]);
        let mut metax = device(Family::Metax, 0, None);
        metax.pci_bus_id = Some("3b:00.0".into());
        let response = container_response(&[&metax], &config);
        assert_eq!(paths(&response), ["/dev/dri/card2", "/dev/dri/renderD130", "/dev/mxcd"]);
        assert_eq!(response.envs.len(), 1);
    }

    #[test]
    fn unknown_facts_give_only_what_is_known() {
        let mt = device(Family::Mthreads, 2, None);
        let response = container_response(&[&mt], &AllocateConfig::default());
        assert_eq!(response.envs["MTHREADS_VISIBLE_DEVICES"], "2");
        assert!(response.devices.is_empty());
        let gcu = device(Family::Enflame, 0, None);
        let response = container_response(&[&gcu], &AllocateConfig::default());
        assert_eq!(response.envs.keys().collect::<Vec<_>>(), [TIDEPOOL_VISIBLE_DEVICES]);
        assert!(response.devices.is_empty());
    }
}
