//! What the engine derives from a fleet's nodes alone — each node's usable devices, the
//! partitions of nodes by (cluster, model, dedicated tenant) with their nodes in order and their
//! interconnect groups, and each family's total capability — so a caller whose nodes do not
//! change (the simulator) builds it once, not every cycle. What runs where is not here: a cycle
//! lays its free capacity over this (`capacity`).

use std::collections::BTreeMap;

use crate::ids::{ClusterId, ModelId, NodeId, TenantId};
use crate::snapshot::Snapshot;

/// A set of nodes with the same cluster, model and dedication.
pub(crate) type PartitionId = usize;

/// Identity of a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PartitionKey {
    pub cluster: ClusterId,
    pub model: ModelId,
    pub dedicated: Option<TenantId>,
}

/// A partition's nodes, in node order and group by group.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Layout {
    pub key: PartitionKey,
    /// The partition's nodes, ascending.
    pub nodes: Vec<NodeId>,
    /// Devices on its largest node.
    pub most_devices: usize,
    /// Its interconnect groups ascending by id, one slot each: the nodes of slot `i` are
    /// `group_nodes[group_start[i]..group_start[i + 1]]`, ascending.
    group_start: Vec<u32>,
    group_nodes: Vec<NodeId>,
}

impl Layout {
    /// Interconnect groups among the partition's nodes.
    pub fn group_count(&self) -> usize {
        self.group_start.len() - 1
    }

    /// Nodes of the group in `slot`, ascending.
    pub fn group_nodes(&self, slot: usize) -> &[NodeId] {
        &self.group_nodes[self.group_start[slot] as usize..self.group_start[slot + 1] as usize]
    }
}

/// The node-derived part of a snapshot, for [`crate::schedule_on`]. Built from a snapshot's
/// catalogue, groups and nodes; valid for every snapshot whose catalogue, groups and nodes are the
/// same (their workloads, allocations and lent devices may differ).
#[derive(Clone, Debug, PartialEq)]
pub struct FleetIndex {
    /// Per node: its healthy devices when it is schedulable (bit i = device i), else none.
    pub(crate) usable: Vec<u64>,
    /// Partition of each schedulable node with devices.
    pub(crate) partition_of: Vec<Option<PartitionId>>,
    /// Per node in a partition: its place among the partition's nodes.
    pub(crate) index_in_partition: Vec<u32>,
    /// Per node in a partition: the slot of its group in the partition's layout.
    pub(crate) group_slot: Vec<u32>,
    pub(crate) partitions: Vec<Layout>,
    /// Partitions by model.
    pub(crate) by_model: Vec<Vec<PartitionId>>,
    /// What one device of each model is worth in fair shares.
    pub(crate) capability: Vec<f64>,
    /// Capability of the fleet's healthy devices per family (fair-share denominators).
    pub(crate) total_capability: Vec<f64>,
}

impl FleetIndex {
    /// Partitions: the schedulable nodes with devices of one cluster and model with the same
    /// dedication, numbered `0..partition_count()` in node order of first appearance.
    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    /// The partition a node is in: none when it is cordoned or has no devices.
    pub fn partition_of(&self, node: NodeId) -> Option<usize> {
        self.partition_of[node.ix()]
    }

    /// A partition's cluster, model and the tenant its nodes are dedicated to.
    pub fn partition_key(&self, p: usize) -> (ClusterId, ModelId, Option<TenantId>) {
        let k = self.partitions[p].key;
        (k.cluster, k.model, k.dedicated)
    }

    /// A partition's nodes, ascending.
    pub fn partition_nodes(&self, p: usize) -> &[NodeId] {
        &self.partitions[p].nodes
    }

    /// Indexes a snapshot's nodes. The snapshot must pass [`Snapshot::check`].
    pub fn new(s: &Snapshot) -> Self {
        let n = s.nodes.len();
        let mut usable: Vec<u64> = s
            .nodes
            .iter()
            .map(|node| node.devices.iter().enumerate().fold(0, |m, (i, d)| m | u64::from(d.healthy) << i))
            .collect();
        // Which partition each node is in, numbered in order of first appearance.
        let mut keys: BTreeMap<PartitionKey, PartitionId> = BTreeMap::new();
        let mut last: Option<(PartitionKey, PartitionId)> = None;
        let mut partitions: Vec<Layout> = Vec::new();
        let mut partition_of = vec![None; n];
        let mut by_model = vec![Vec::new(); s.catalogue.models.len()];
        for (i, node) in s.nodes.iter().enumerate() {
            let Some(first) = node.devices.first() else { continue };
            if !node.schedulable {
                usable[i] = 0;
                continue;
            }
            let key = PartitionKey {
                cluster: s.cluster_of(NodeId(i as u32)),
                model: first.model,
                dedicated: node.dedicated_to,
            };
            // Runs of nodes share a partition: look the key up only when it changes.
            let p = match last {
                Some((k, p)) if k == key => p,
                _ => {
                    let p = *keys.entry(key).or_insert_with(|| {
                        partitions.push(Layout {
                            key,
                            nodes: Vec::new(),
                            most_devices: 0,
                            group_start: Vec::new(),
                            group_nodes: Vec::new(),
                        });
                        by_model[first.model.ix()].push(partitions.len() - 1);
                        partitions.len() - 1
                    });
                    last = Some((key, p));
                    p
                }
            };
            partition_of[i] = Some(p);
            partitions[p].nodes.push(NodeId(i as u32));
            partitions[p].most_devices = partitions[p].most_devices.max(node.devices.len());
        }
        let mut index_in_partition = vec![0u32; n];
        let mut group_slot = vec![0u32; n];
        for part in &mut partitions {
            for (i, node) in part.nodes.iter().enumerate() {
                index_in_partition[node.ix()] = i as u32;
            }
            let mut by_group = part.nodes.clone();
            by_group.sort_by_key(|&node| (s.group_of(node), node)); // usually sorted already
            for (i, &node) in by_group.iter().enumerate() {
                if i == 0 || s.group_of(by_group[i - 1]) != s.group_of(node) {
                    part.group_start.push(i as u32);
                }
                group_slot[node.ix()] = part.group_start.len() as u32 - 1;
            }
            part.group_start.push(by_group.len() as u32);
            part.group_nodes = by_group;
        }
        let capability = capability(s);
        FleetIndex {
            total_capability: total_capability(s, &capability),
            capability,
            usable,
            partition_of,
            index_in_partition,
            group_slot,
            partitions,
            by_model,
        }
    }
}

/// What one device of a model is worth in fair shares: its mean relative throughput over the
/// classes the catalogue gives figures for (1 without figures).
fn capability(s: &Snapshot) -> Vec<f64> {
    s.catalogue
        .models
        .iter()
        .map(|m| {
            let figures = m.throughput.iter().flatten().count();
            if figures == 0 { 1.0 } else { m.throughput.iter().flatten().sum::<f64>() / figures as f64 }
        })
        .collect()
}

/// Capability of the fleet's healthy devices per family. Summed device by device in node order,
/// as a share must not depend on how it is computed; every device of a node is of its first
/// device's model.
fn total_capability(s: &Snapshot, capability: &[f64]) -> Vec<f64> {
    let mut total = vec![0.0; s.catalogue.families.len()];
    for node in &s.nodes {
        let Some(first) = node.devices.first() else { continue };
        let (f, c) = (s.catalogue.model(first.model).family.ix(), capability[first.model.ix()]);
        let mut sum = total[f];
        for _ in node.devices.iter().filter(|d| d.healthy) {
            sum += c;
        }
        total[f] = sum;
    }
    total
}
