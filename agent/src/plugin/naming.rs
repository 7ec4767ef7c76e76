//! Which extended resource name each device is served under, and the socket file of each name.
//!
//! Two modes:
//! - `vendor`: the names the vendors' own device plugins publish, so pods written for them run
//!   unchanged: the catalogue model's first `resourceNames` entry (`nvidia.com/gpu`,
//!   `cambricon.com/mlu`, `hygon.com/dcunum`, ...). Ascend is named per variant, as Huawei's plugin
//!   does: the most specific `huawei.com/Ascend<variant>` of the model whose variant starts the
//!   product name (`910B3` → `huawei.com/Ascend910B3`, `310P3` → `huawei.com/Ascend310P`). Devices
//!   outside the catalogue get their family's usual name (facts §3).
//! - `tidepool`: one name per catalogue model, `tidepool.dev/<model>` (`tidepool.dev/ascend-910b`),
//!   so one node can offer several models of one vendor as separate resources. A device outside the
//!   catalogue is named after its product (`tidepool.dev/nvidia-a10g`).
//!
//! This module only names; it neither serves nor registers.

use std::fmt;
use std::str::FromStr;

use tidepool_crds::{Catalogue, Family};

use crate::device::Device;

/// The domain of `tidepool` resource names.
pub const TIDEPOOL_DOMAIN: &str = "tidepool.dev";

/// How devices are named to kubelet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NamingMode {
    /// The vendors' own resource names.
    #[default]
    Vendor,
    /// `tidepool.dev/<catalogue model>`.
    Tidepool,
}

impl NamingMode {
    /// The mode's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            NamingMode::Vendor => "vendor",
            NamingMode::Tidepool => "tidepool",
        }
    }
}

impl fmt::Display for NamingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NamingMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "vendor" => Ok(NamingMode::Vendor),
            "tidepool" => Ok(NamingMode::Tidepool),
            other => Err(format!("unknown naming mode {other:?}; known: vendor, tidepool")),
        }
    }
}

/// Names devices in one mode against one catalogue.
#[derive(Clone, Debug)]
pub struct Naming {
    mode: NamingMode,
    catalogue: Catalogue,
}

impl Naming {
    /// Names in `mode`, looking models up in `catalogue`.
    pub fn new(mode: NamingMode, catalogue: Catalogue) -> Self {
        Naming { mode, catalogue }
    }

    /// The extended resource name `device` is served under.
    pub fn resource_name(&self, device: &Device) -> String {
        match self.mode {
            NamingMode::Vendor => self.vendor_name(device),
            NamingMode::Tidepool => tidepool_name(device),
        }
    }

    fn vendor_name(&self, device: &Device) -> String {
        let model_names: &[String] = match self.catalogue.get(&device.model) {
            Some(model) if device.in_catalogue => &model.spec.resource_names,
            _ => &[],
        };
        if device.family == Family::Ascend {
            // Outside the catalogue, any Ascend variant name the catalogue knows may fit.
            let known: Vec<&String> = if model_names.is_empty() {
                self.catalogue
                    .iter()
                    .filter(|model| model.spec.family == Family::Ascend)
                    .flat_map(|model| &model.spec.resource_names)
                    .collect()
            } else {
                model_names.iter().collect()
            };
            if let Some(name) = ascend_variant(&known, &device.product_name) {
                return name.clone();
            }
        }
        model_names.first().cloned().unwrap_or_else(|| family_default(device.family).to_owned())
    }
}

/// The resource name a family's vendor plugin uses by default (facts §3).
pub fn family_default(family: Family) -> &'static str {
    match family {
        Family::Nvidia => "nvidia.com/gpu",
        Family::Ascend => "huawei.com/npu",
        Family::Cambricon => "cambricon.com/mlu",
        Family::Hygon => "hygon.com/dcunum",
        Family::Kunlunxin => "kunlunxin.com/xpu",
        Family::Iluvatar => "iluvatar.com/gpu",
        Family::Metax => "metax-tech.com/gpu",
        Family::Mthreads => "mthreads.com/vgpu",
        Family::Enflame => "enflame.com/gcu",
    }
}

/// The longest `huawei.com/Ascend<variant>` whose variant starts the product name.
fn ascend_variant<'a>(names: &[&'a String], product_name: &str) -> Option<&'a String> {
    let product = product_name.to_ascii_uppercase().replace(' ', "");
    let product = product.strip_prefix("ASCEND").unwrap_or(&product);
    names
        .iter()
        .filter_map(|name| Some((*name, name.strip_prefix("huawei.com/Ascend")?.to_ascii_uppercase())))
        .filter(|(_, variant)| !variant.is_empty() && product.starts_with(variant.as_str()))
        .max_by_key(|(_, variant)| variant.len())
        .map(|(name, _)| name)
}

/// `tidepool.dev/<model>`, the model made a valid resource name (lowercase letters, digits, `-`
/// and `.`, at most 63 characters, starting and ending with a letter or digit).
fn tidepool_name(device: &Device) -> String {
    let mut model = sanitise(&device.model);
    let family = device.family.as_str();
    if !device.in_catalogue && !model.starts_with(family) {
        model = format!("{family}-{model}");
    }
    let model: String = model.chars().take(63).collect();
    format!("{TIDEPOOL_DOMAIN}/{}", model.trim_end_matches(['-', '.']))
}

fn sanitise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches(['-', '.']);
    if trimmed.is_empty() { "unknown".to_owned() } else { trimmed.to_owned() }
}

/// The socket file (in the device-plugin directory) that serves `resource`:
/// `tidepool-<resource with / as _>.sock`, e.g. `tidepool-nvidia.com_gpu.sock`.
pub fn socket_file_name(resource: &str) -> String {
    format!("tidepool-{}.sock", resource.replace('/', "_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(mode: NamingMode, family: Family, product: &str) -> String {
        let catalogue = Catalogue::builtin();
        let device = Device::new(family, 0, product, 1024, &catalogue);
        Naming::new(mode, catalogue).resource_name(&device)
    }

    #[test]
    fn vendor_names_follow_the_vendor_plugins() {
        use Family::*;
        assert_eq!(named(NamingMode::Vendor, Nvidia, "NVIDIA A100-SXM4-80GB"), "nvidia.com/gpu");
        assert_eq!(named(NamingMode::Vendor, Nvidia, "NVIDIA A10G"), "nvidia.com/gpu");
        assert_eq!(named(NamingMode::Vendor, Ascend, "910B3"), "huawei.com/Ascend910B3");
        assert_eq!(named(NamingMode::Vendor, Ascend, "910B4"), "huawei.com/Ascend910B4");
        assert_eq!(named(NamingMode::Vendor, Ascend, "Ascend 910B2C"), "huawei.com/Ascend910B2");
        assert_eq!(named(NamingMode::Vendor, Ascend, "xxx"), "huawei.com/npu");
        assert_eq!(named(NamingMode::Vendor, Cambricon, "MLU370-X8"), "cambricon.com/mlu");
        assert_eq!(named(NamingMode::Vendor, Hygon, "K100_AI"), "hygon.com/dcunum");
        assert_eq!(named(NamingMode::Vendor, Enflame, "S60"), "enflame.com/gcu");
        assert_eq!(named(NamingMode::Vendor, Metax, "MXC500"), "metax-tech.com/gpu");
    }

    #[test]
    fn tidepool_names_are_catalogue_models_or_sanitised_products() {
        assert_eq!(
            named(NamingMode::Tidepool, Family::Nvidia, "NVIDIA A100-SXM4-80GB"),
            "tidepool.dev/nvidia-a100-80g"
        );
        assert_eq!(named(NamingMode::Tidepool, Family::Ascend, "910B3"), "tidepool.dev/ascend-910b");
        assert_eq!(named(NamingMode::Tidepool, Family::Nvidia, "NVIDIA  A10G!"), "tidepool.dev/nvidia-a10g");
        assert_eq!(named(NamingMode::Tidepool, Family::Enflame, "S60"), "tidepool.dev/enflame-s60");
        assert_eq!(named(NamingMode::Tidepool, Family::Ascend, "***"), "tidepool.dev/ascend-unknown");
        let long = named(NamingMode::Tidepool, Family::Nvidia, &"x".repeat(200));
        assert!(long.len() <= TIDEPOOL_DOMAIN.len() + 1 + 63, "{long}");
    }

    #[test]
    fn modes_parse_and_sockets_are_per_resource() {
        assert_eq!("tidepool".parse(), Ok(NamingMode::Tidepool));
        assert!("other".parse::<NamingMode>().is_err());
        assert_eq!(socket_file_name("nvidia.com/gpu"), "tidepool-nvidia.com_gpu.sock");
    }
}
