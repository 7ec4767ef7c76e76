//! The snapshot: everything the engine decides on, at one instant. Built by the controller from
//! the cluster, or by the simulator from its own state; the engine reads it and never changes it.

use crate::allocation::{Allocation, Lent};
use crate::catalogue::Catalogue;
use crate::ids::{ClusterId, GroupId, NodeId, TenantId, WorkloadId};
use crate::tenants::Tenant;
use crate::topology::{Cluster, Group, Node};
use crate::workload::{Target, Workload};

/// The state of a group cloud.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Models and families.
    pub catalogue: Catalogue,
    /// Clusters.
    pub clusters: Vec<Cluster>,
    /// Interconnect groups of nodes.
    pub groups: Vec<Group>,
    /// Nodes with their devices.
    pub nodes: Vec<Node>,
    /// Tenants; a parent comes before its children.
    pub tenants: Vec<Tenant>,
    /// Workloads, running or waiting.
    pub workloads: Vec<Workload>,
    /// Running allocations.
    pub allocations: Vec<Allocation>,
    /// Devices lent by inference services.
    pub lent: Vec<Lent>,
}

/// A snapshot whose references do not hold together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl std::fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SnapshotError {}

impl Snapshot {
    /// The cluster a node is in.
    pub fn cluster_of(&self, node: NodeId) -> ClusterId {
        self.groups[self.nodes[node.ix()].group.ix()].cluster
    }

    /// The group a node is in.
    pub fn group_of(&self, node: NodeId) -> GroupId {
        self.nodes[node.ix()].group
    }

    /// Ancestors of a tenant, itself first.
    pub fn tenant_path(&self, tenant: TenantId) -> impl Iterator<Item = TenantId> + '_ {
        std::iter::successors(Some(tenant), |t| self.tenants[t.ix()].parent)
    }

    /// Checks that every index points inside its table, parents come before children, devices
    /// fit in a node's mask, and no device is held twice. The engine assumes a checked snapshot.
    pub fn check(&self) -> Result<(), SnapshotError> {
        let err = |m: String| Err(SnapshotError(m));
        let models = self.catalogue.models.len();
        for (i, m) in self.catalogue.models.iter().enumerate() {
            if m.family.ix() >= self.catalogue.families.len() {
                return err(format!("model {i} ({}) has an unknown family", m.name));
            }
        }
        for g in &self.groups {
            if g.cluster.ix() >= self.clusters.len() {
                return err(format!("group {} is in an unknown cluster", g.name));
            }
        }
        for n in &self.nodes {
            if n.group.ix() >= self.groups.len() {
                return err(format!("node {} is in an unknown group", n.name));
            }
            if n.devices.len() > 64 {
                return err(format!("node {} has {} devices; at most 64 are supported", n.name, n.devices.len()));
            }
            if n.devices.iter().any(|d| d.model.ix() >= models) {
                return err(format!("node {} has a device of an unknown model", n.name));
            }
            if n.devices.windows(2).any(|w| w[0].model != w[1].model) {
                return err(format!("node {} mixes device models; one model per node is supported", n.name));
            }
            if n.dedicated_to.is_some_and(|t| t.ix() >= self.tenants.len()) {
                return err(format!("node {} is dedicated to an unknown tenant", n.name));
            }
        }
        for (i, t) in self.tenants.iter().enumerate() {
            if t.parent.is_some_and(|p| p.ix() >= i) {
                return err(format!("tenant {} must come after its parent", t.name));
            }
            if t.weight == 0 {
                return err(format!("tenant {} has weight 0", t.name));
            }
        }
        for w in &self.workloads {
            if w.tenant.ix() >= self.tenants.len() {
                return err(format!("workload {} has an unknown tenant", w.name));
            }
            if w.devices_per_replica == 0 || w.devices_per_replica > 64 {
                return err(format!("workload {} needs 1..64 devices per replica", w.name));
            }
            if w.replicas_min == 0 && w.replicas_wanted > 0 {
                return err(format!("workload {} wants replicas but has a gang of none (withdrawn)", w.name));
            }
            for a in &w.accepts {
                let ok = match a.target {
                    Target::Model(m) => m.ix() < models,
                    Target::Family(f) => f.ix() < self.catalogue.families.len(),
                };
                if !ok {
                    return err(format!("workload {} accepts an unknown model or family", w.name));
                }
            }
        }
        let mut held = vec![0u64; self.nodes.len()];
        for a in &self.allocations {
            if a.workload.ix() >= self.workloads.len() || a.node.ix() >= self.nodes.len() {
                return err(format!("allocation of replica {} points outside the snapshot", a.replica));
            }
            if self.workloads[a.workload.ix()].is_withdrawn() {
                return err(format!("withdrawn workload {} holds devices", self.workloads[a.workload.ix()].name));
            }
            let node = &self.nodes[a.node.ix()];
            for d in crate::mask::devices_of(a.devices) {
                let Some(device) = node.devices.get(usize::from(d)) else {
                    return err(format!("allocation on {} names device {d} it does not have", node.name));
                };
                if device.model != a.model {
                    return err(format!("allocation on {} device {d} has the wrong model", node.name));
                }
                let bit = 1u64 << d;
                if held[a.node.ix()] & bit != 0 {
                    return err(format!("device {d} of {} is held twice", node.name));
                }
                held[a.node.ix()] |= bit;
            }
        }
        for l in &self.lent {
            let ok = l.node.ix() < self.nodes.len()
                && usize::from(l.device) < self.nodes[l.node.ix()].devices.len()
                && l.lender.ix() < self.workloads.len();
            if !ok {
                return err("a lent device points outside the snapshot".into());
            }
        }
        Ok(())
    }

    /// Id of a workload by position.
    pub fn workload_ids(&self) -> impl Iterator<Item = WorkloadId> {
        (0..self.workloads.len() as u32).map(WorkloadId)
    }
}
