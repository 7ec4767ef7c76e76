//! Free capacity during a cycle, indexed for fast placement.
//!
//! Nodes are partitioned by (cluster, model, dedicated tenant); within a partition, nodes are
//! bucketed by their number of free devices, so best fit is a scan over at most 64 buckets, and
//! free totals are kept per partition and per interconnect group, so a gang that cannot fit is
//! rejected without looking at a node. Devices lent by inference services are kept apart: only
//! their lender and preemptible (tidal) work may use them.

use std::collections::{BTreeMap, BTreeSet};

use crate::ids::{ClusterId, GroupId, ModelId, NodeId, TenantId, WorkloadId};
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

pub(crate) struct Partition {
    pub key: PartitionKey,
    /// `by_free[k]`: nodes with exactly `k` free devices (k ≥ 1).
    by_free: Vec<BTreeSet<NodeId>>,
    pub total_free: u32,
    /// Free devices per interconnect group in this partition.
    pub group_free: BTreeMap<GroupId, u32>,
    /// Nodes per group, in node order.
    pub group_nodes: BTreeMap<GroupId, Vec<NodeId>>,
}

/// Free devices, lent devices and their indices.
pub(crate) struct Capacity {
    /// Per node: free, healthy, unlent devices (bit i = device i).
    pub free: Vec<u64>,
    /// Per node: free, healthy devices lent by an inference service.
    pub lent_free: Vec<u64>,
    /// Lender of each lent device: (node, device) → lender.
    pub lender: BTreeMap<(NodeId, u16), WorkloadId>,
    /// Workloads that lent devices.
    pub lenders: BTreeSet<WorkloadId>,
    /// Partition of each schedulable node with devices.
    pub partition_of: Vec<Option<PartitionId>>,
    pub partitions: Vec<Partition>,
    /// Partitions by model.
    pub by_model: Vec<Vec<PartitionId>>,
    /// Free devices per model, over every partition (quota lending checks).
    pub free_per_model: Vec<u32>,
}

pub(crate) fn mask_count(mask: u64) -> u32 {
    mask.count_ones()
}

impl Capacity {
    pub fn new(s: &Snapshot) -> Self {
        let n = s.nodes.len();
        let mut free = vec![0u64; n];
        let mut lent_free = vec![0u64; n];
        for (i, node) in s.nodes.iter().enumerate() {
            for (d, dev) in node.devices.iter().enumerate() {
                if dev.healthy {
                    free[i] |= 1 << d;
                }
            }
        }
        for a in &s.allocations {
            for &d in &a.devices {
                free[a.node.ix()] &= !(1u64 << d);
            }
        }
        let mut lender = BTreeMap::new();
        for l in &s.lent {
            let bit = 1u64 << l.device;
            lender.insert((l.node, l.device), l.lender);
            if free[l.node.ix()] & bit != 0 {
                free[l.node.ix()] &= !bit;
                lent_free[l.node.ix()] |= bit;
            }
        }

        let mut keys: BTreeMap<PartitionKey, PartitionId> = BTreeMap::new();
        let mut partitions: Vec<Partition> = Vec::new();
        let mut partition_of = vec![None; n];
        let mut by_model = vec![Vec::new(); s.catalogue.models.len()];
        let mut free_per_model = vec![0u32; s.catalogue.models.len()];
        for (i, node) in s.nodes.iter().enumerate() {
            let Some(first) = node.devices.first() else { continue };
            if !node.schedulable {
                free[i] = 0;
                lent_free[i] = 0;
                continue;
            }
            let id = NodeId(i as u32);
            let key = PartitionKey { cluster: s.cluster_of(id), model: first.model, dedicated: node.dedicated_to };
            let p = *keys.entry(key).or_insert_with(|| {
                partitions.push(Partition {
                    key,
                    by_free: vec![BTreeSet::new(); 65],
                    total_free: 0,
                    group_free: BTreeMap::new(),
                    group_nodes: BTreeMap::new(),
                });
                by_model[first.model.ix()].push(partitions.len() - 1);
                partitions.len() - 1
            });
            partition_of[i] = Some(p);
            let part = &mut partitions[p];
            let count = mask_count(free[i]);
            part.by_free[count as usize].insert(id);
            part.total_free += count;
            *part.group_free.entry(node.group).or_insert(0) += count;
            part.group_nodes.entry(node.group).or_default().push(id);
            free_per_model[first.model.ix()] += count;
        }
        let lenders = lender.values().copied().collect();
        Capacity { free, lent_free, lender, lenders, partition_of, partitions, by_model, free_per_model }
    }

    fn reindex(&mut self, s: &Snapshot, node: NodeId, before: u64) {
        let Some(p) = self.partition_of[node.ix()] else { return };
        let after = self.free[node.ix()];
        let (b, a) = (mask_count(before), mask_count(after));
        if a == b {
            return;
        }
        let part = &mut self.partitions[p];
        part.by_free[b as usize].remove(&node);
        part.by_free[a as usize].insert(node);
        part.total_free = part.total_free + a - b;
        let g = part.group_free.entry(s.nodes[node.ix()].group).or_insert(0);
        *g = *g + a - b;
        let m = part.key.model.ix();
        self.free_per_model[m] = self.free_per_model[m] + a - b;
    }

    /// Marks devices used. Lent devices in `mask` are taken from the lent pool.
    pub fn take(&mut self, s: &Snapshot, node: NodeId, mask: u64) {
        let before = self.free[node.ix()];
        self.lent_free[node.ix()] &= !mask;
        self.free[node.ix()] &= !mask;
        self.reindex(s, node, before);
    }

    /// Marks devices free again (a victim's, during preemption search). Lent devices return to
    /// the lent pool.
    pub fn give(&mut self, s: &Snapshot, node: NodeId, mask: u64) {
        if self.partition_of[node.ix()].is_none() {
            return; // cordoned: freed devices stay unusable
        }
        let before = self.free[node.ix()];
        for d in 0..64u16 {
            if mask & (1 << d) != 0 {
                if self.lender.contains_key(&(node, d)) {
                    self.lent_free[node.ix()] |= 1 << d;
                } else {
                    self.free[node.ix()] |= 1 << d;
                }
            }
        }
        self.reindex(s, node, before);
    }

    /// Free devices on a node.
    pub fn free_count(&self, node: NodeId) -> u32 {
        mask_count(self.free[node.ix()])
    }

    /// Nodes with at least `want` free devices, fullest-fitting first (best fit) or emptiest first.
    pub fn nodes_with(&self, p: PartitionId, want: u32, spread: bool) -> impl Iterator<Item = NodeId> + '_ {
        let buckets = &self.partitions[p].by_free;
        let range: Box<dyn Iterator<Item = usize>> = if spread {
            Box::new((want as usize..buckets.len()).rev())
        } else {
            Box::new(want as usize..buckets.len())
        };
        range.flat_map(move |k| buckets[k].iter().copied())
    }
}
