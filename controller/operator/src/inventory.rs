//! Per-node device inventories: as agents report them ([`NodeInventory`], filled by the agent
//! server), or derived from what vendor device plugins already publish — an extended resource in
//! the node's allocatable (`nvidia.com/gpu: 8`) and the model label beside it
//! (`nvidia.com/gpu.product: NVIDIA-H800`) — so Tidepool can run beside existing plugins.
//! It does not talk to agents or plugins.

use k8s_openapi::api::core::v1::Node;
use kube::ResourceExt;
use tidepool_crds::Catalogue;

/// One device on a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventoryDevice {
    /// Accelerator family (`nvidia`, `ascend`, ...).
    pub family: String,
    /// Catalogue model name.
    pub model: String,
    /// Device id as the device plugin names it.
    pub id: String,
    /// Whether the device is healthy.
    pub healthy: bool,
}

/// The devices of one node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInventory {
    /// Node name.
    pub node: String,
    /// Devices, in device-id order.
    pub devices: Vec<InventoryDevice>,
}

impl From<&crate::agents::NodeInventory> for NodeInventory {
    /// What an agent reported, in device-id order; a stale node's devices are all unavailable.
    fn from(report: &crate::agents::NodeInventory) -> Self {
        let mut devices: Vec<InventoryDevice> = report
            .devices
            .iter()
            .map(|device| InventoryDevice {
                family: device.family.as_str().to_owned(),
                model: device.model.clone(),
                id: device.id.clone(),
                healthy: device.healthy && !report.stale,
            })
            .collect();
        devices.sort_by(|a, b| a.id.cmp(&b.id));
        NodeInventory { node: report.node.clone(), devices }
    }
}

/// The inventory a vendor device plugin publishes for `node`: the first catalogue model whose
/// resource name is in the node's allocatable and whose node labels the node carries. Models
/// with labels win over models without, so a shared resource name (`nvidia.com/gpu`) resolves to
/// the labelled product. Device ids are `0..count`; all are taken as healthy (the plugin removes
/// unhealthy ones from allocatable). `None` when the node has no known accelerator.
pub fn from_vendor_plugins(node: &Node, catalogue: &Catalogue) -> Option<NodeInventory> {
    let allocatable = node.status.as_ref()?.allocatable.as_ref()?;
    let labels = node.labels();
    let mut best: Option<(usize, &tidepool_crds::AcceleratorModel, u32)> = None;
    for model in catalogue.iter() {
        let s = &model.spec;
        if !s.node_labels.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            continue;
        }
        let count = s
            .resource_names
            .iter()
            .filter_map(|r| allocatable.get(r))
            .filter_map(|q| q.0.parse::<u32>().ok())
            .find(|&n| n > 0);
        if let Some(count) = count {
            let specificity = s.node_labels.len();
            if best.as_ref().is_none_or(|(b, _, _)| specificity > *b) {
                best = Some((specificity, model, count));
            }
        }
    }
    let (_, model, count) = best?;
    let family = model.spec.family.as_str().to_owned();
    Some(NodeInventory {
        node: node.name_any(),
        devices: (0..count)
            .map(|i| InventoryDevice {
                family: family.clone(),
                model: model.name_any(),
                id: i.to_string(),
                healthy: true,
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::NodeStatus;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    #[test]
    fn an_agent_report_becomes_an_inventory_and_a_stale_node_has_nothing_usable() {
        let device = |id: &str, healthy: bool| crate::agents::InventoryDevice {
            family: tidepool_crds::Family::Ascend,
            model: "ascend-910b".into(),
            id: id.into(),
            healthy,
            reason: None,
        };
        let mut report = crate::agents::NodeInventory {
            node: "n1".into(),
            devices: vec![device("ascend-1", false), device("ascend-0", true)],
            stale: false,
        };
        let inventory = NodeInventory::from(&report);
        let seen: Vec<(&str, &str, bool)> =
            inventory.devices.iter().map(|d| (d.family.as_str(), d.id.as_str(), d.healthy)).collect();
        assert_eq!(seen, [("ascend", "ascend-0", true), ("ascend", "ascend-1", false)]);
        report.stale = true;
        assert!(NodeInventory::from(&report).devices.iter().all(|d| !d.healthy));
    }

    use super::*;

    fn node(labels: &[(&str, &str)], allocatable: &[(&str, &str)]) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some("n1".into());
        n.metadata.labels = Some(labels.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect());
        n.status = Some(NodeStatus {
            allocatable: Some(
                allocatable.iter().map(|(k, v)| ((*k).into(), Quantity((*v).into()))).collect::<BTreeMap<_, _>>(),
            ),
            ..Default::default()
        });
        n
    }

    #[test]
    fn the_gpu_product_label_picks_the_model() {
        let cat = Catalogue::builtin();
        let n = node(&[("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB")], &[("nvidia.com/gpu", "8"), ("cpu", "64")]);
        let inv = from_vendor_plugins(&n, &cat).unwrap();
        assert_eq!(inv.devices.len(), 8);
        assert_eq!(inv.devices[0].model, "nvidia-a100-80g");
        assert_eq!(inv.devices[0].family, "nvidia");
        assert_eq!(inv.devices[7].id, "7");
    }

    #[test]
    fn a_node_without_accelerators_has_no_inventory() {
        let cat = Catalogue::builtin();
        assert!(from_vendor_plugins(&node(&[], &[("cpu", "64")]), &cat).is_none());
        let zero = node(&[("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-80GB")], &[("nvidia.com/gpu", "0")]);
        assert!(from_vendor_plugins(&zero, &cat).is_none());
    }
}
