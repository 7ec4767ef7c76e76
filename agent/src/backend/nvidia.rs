//! NVIDIA GPUs through NVML, or a captured `nvidia-smi -q -x`.
//!
//! On the node the backend loads `libnvidia-ml.so` at run time through `nvml-wrapper`; a node
//! without the library (or without a loaded driver) reports [`Presence::Absent`], not an error.
//! For each GPU it reads the index, uuid, name, memory total and used, utilisation, PCI address,
//! NUMA node (NVML's, else sysfs) and NVLink peers (module `peers`). A GPU whose name or memory cannot
//! be read, or that has retired pages pending (it needs a reset), is `Unhealthy` with NVML's
//! words as the reason; XID events are out of reach without an event loop and are not watched.
//! From a file it reads `nvidia-smi -q -x` XML (module `smi_xml`).

mod peers;
mod smi_xml;

use nvml_wrapper::Nvml;
use tidepool_crds::{Catalogue, Family};

use super::output::Output;
use super::{Backend, BackendError, Presence, Source, inventory, numa};
use crate::device::{Device, Health};

/// The backend's name.
pub const NAME: &str = "nvidia";

const MIB: u64 = 1024 * 1024;

/// NVML's `NVML_NVLINK_MAX_LINKS`: links are numbered below it (the loop stops at the first error).
const NVLINK_MAX_LINKS: u32 = 18;

/// NVIDIA GPUs from NVML or a captured `nvidia-smi -q -x`.
pub struct NvidiaBackend {
    source: Source,
    catalogue: Catalogue,
}

impl NvidiaBackend {
    /// The backend reading `source`.
    pub fn new(source: Source, catalogue: Catalogue) -> Self {
        NvidiaBackend { source, catalogue }
    }
}

impl Backend for NvidiaBackend {
    fn name(&self) -> &'static str {
        NAME
    }

    fn presence(&self) -> Presence {
        match &self.source {
            Source::File(path) if path.is_file() => Presence::Present(path.display().to_string()),
            Source::File(path) => Presence::Absent(format!("captured output {}", path.display())),
            Source::Node => match Nvml::init() {
                Ok(nvml) => {
                    let driver =
                        nvml.sys_driver_version().map_or(String::new(), |version| format!(", driver {version}"));
                    Presence::Present(format!("NVML (libnvidia-ml.so){driver}"))
                }
                Err(error) => Presence::Absent(format!("NVML (libnvidia-ml.so): {error}")),
            },
        }
    }

    fn discover(&self) -> Result<Vec<Device>, BackendError> {
        match &self.source {
            Source::File(path) => parse(&Output::from_file(NAME, path)?, &self.catalogue),
            Source::Node => discover_nvml(&self.catalogue),
        }
    }
}

/// Parses a captured `nvidia-smi -q -x` output.
pub fn parse(output: &Output, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    if !smi_xml::is_xml(output) {
        return Err(output.unrecognised("nvidia-smi -q -x XML"));
    }
    smi_xml::parse(output, catalogue)
}

fn discover_nvml(catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    let unavailable = |problem: String| BackendError::Unavailable { backend: NAME, what: "NVML".to_owned(), problem };
    let nvml = Nvml::init().map_err(|error| unavailable(error.to_string()))?;
    let count = nvml.device_count().map_err(|error| unavailable(format!("device count: {error}")))?;
    let mut devices = Vec::new();
    let mut remotes = Vec::new();
    for index in 0..count {
        let (device, links) = match nvml.device_by_index(index) {
            Ok(gpu) => read_gpu(&gpu, index, catalogue),
            Err(error) => {
                let mut device = Device::new(Family::Nvidia, index, "", 0, catalogue);
                device.health = Health::Unhealthy("Unhealthy".to_owned());
                device.health_reason = Some(format!("NVML device_by_index: {error}"));
                (device, Vec::new())
            }
        };
        devices.push(device);
        remotes.push(links);
    }
    peers::assign(&mut devices, &remotes);
    numa::fill(&mut devices);
    Ok(inventory::finish(devices, catalogue))
}

/// One GPU as NVML shows it, and the PCI addresses at the far end of its active NVLinks.
fn read_gpu(gpu: &nvml_wrapper::Device<'_>, index: u32, catalogue: &Catalogue) -> (Device, Vec<String>) {
    let mut problems = Vec::new();
    let name = gpu.name().unwrap_or_else(|error| {
        problems.push(format!("name: {error}"));
        String::new()
    });
    let memory = gpu.memory_info().map_err(|error| problems.push(format!("memory: {error}"))).ok();
    let mut device =
        Device::new(Family::Nvidia, index, &name, memory.as_ref().map_or(0, |memory| memory.total / MIB), catalogue);
    device.memory_used_mib = memory.as_ref().map(|memory| memory.used / MIB);
    device.uuid = gpu.uuid().ok();
    device.utilisation_percent = gpu.utilization_rates().ok().map(|rates| rates.gpu);
    device.pci_bus_id = gpu.pci_info().ok().map(|pci| pci.bus_id);
    device.numa_node = gpu.numa_node_id().ok();
    if gpu.are_pages_pending_retired().is_ok_and(|pending| pending) {
        problems.push("retired pages pending (the GPU needs a reset)".to_owned());
    }
    if !problems.is_empty() {
        device.health = Health::Unhealthy("Unhealthy".to_owned());
        device.health_reason = Some(format!("NVML {}", problems.join("; ")));
    }
    let mut links = Vec::new();
    for link in 0..NVLINK_MAX_LINKS {
        let wrapper = gpu.link_wrapper_for(link);
        match wrapper.is_active() {
            Ok(true) => links.extend(wrapper.remote_pci_info().ok().map(|pci| pci.bus_id)),
            Ok(false) => {}
            // Past the GPU's last link, or no NVLink at all.
            Err(_) => break,
        }
    }
    (device, links)
}
