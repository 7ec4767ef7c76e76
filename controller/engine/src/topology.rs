//! Where devices are: clusters hold racks, racks hold interconnect groups of nodes (a switch
//! domain or supernode), nodes hold devices, and devices on a node are joined in link domains
//! (NVLink, HCCS, MLU-Link; a PCIe-only card is a domain of its own).

use crate::ids::{ClusterId, GroupId, ModelId, TenantId};

/// A Kubernetes cluster of the group cloud.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// Cluster name, as tenants' data-residency rules name it.
    pub name: String,
}

/// An interconnect group: nodes whose devices talk over one fast fabric.
#[derive(Clone, Debug)]
pub struct Group {
    /// Group name (for reasons and plans).
    pub name: String,
    /// Cluster it belongs to.
    pub cluster: ClusterId,
    /// Rack it sits in, numbered within the cluster.
    pub rack: u32,
}

/// A node and its devices.
#[derive(Clone, Debug)]
pub struct Node {
    /// Node name.
    pub name: String,
    /// Interconnect group (and through it, rack and cluster).
    pub group: GroupId,
    /// Whether new work may be placed here (false when cordoned or its agent is silent).
    pub schedulable: bool,
    /// Tenant the node is dedicated to, if any: no other tenant is placed on it.
    pub dedicated_to: Option<TenantId>,
    /// Devices, in device-index order.
    pub devices: Vec<Device>,
}

/// One accelerator device.
#[derive(Clone, Debug)]
pub struct Device {
    /// Device id as the device plugin names it.
    pub id: String,
    /// Its model.
    pub model: ModelId,
    /// Link domain on the node; devices of one domain talk over the fast link.
    pub link_domain: u8,
    /// Whether the device is healthy.
    pub healthy: bool,
}
