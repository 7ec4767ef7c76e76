//! Free capacity during a cycle, indexed for fast placement.
//!
//! Nodes are partitioned by (cluster, model, dedicated tenant); within a partition, nodes are
//! bucketed by their number of free devices, so best fit is a scan over at most 65 buckets, and
//! free totals are kept per partition and per interconnect group, so a gang that cannot fit is
//! rejected without looking at a node. Devices lent by inference services are kept apart: only
//! their lender and preemptible (tidal) work may use them.
//!
//! The index is rebuilt every cycle on fleets of thousands of nodes, and changes thousands of
//! times a cycle while preemption and backfill release and restore running work, so it is made
//! of flat, dense vectors filled in a pass or two in node order rather than of trees: a bucket is
//! a bit set over its partition's nodes (a move flips two bits; a scan goes in node order), a
//! partition's groups are a sorted list with their free counts and nodes side by side, and each
//! node knows its place in its partition and its group's slot there.

use std::collections::BTreeMap;

use crate::holdings::Held;
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
    /// The partition's nodes by free devices.
    by_free: Buckets,
    pub total_free: u32,
    /// The interconnect groups of the partition's nodes.
    pub groups: Groups,
}

/// A partition's nodes by free devices: bucket `k`, the nodes with exactly `k` free devices, is a
/// bit set over the partition's nodes (bit `i` stands for `nodes[i]`), so moving a node between
/// buckets flips two bits, and a bucket lists its nodes in node order.
struct Buckets {
    /// The partition's nodes, ascending.
    nodes: Vec<NodeId>,
    /// Words in a bucket's bit set.
    words: usize,
    /// Bucket `k` is `bits[k * words..(k + 1) * words]`; as many buckets as the largest node
    /// here has devices, plus one.
    bits: Vec<u64>,
    /// Nodes in bucket `k`.
    sizes: Vec<u32>,
}

impl Buckets {
    /// Buckets `0..=max` of a partition's nodes, given in node order; records each node's place
    /// among them in `index_of`.
    fn new(members: &[Member], max: usize, index_of: &mut [u32]) -> Self {
        let words = members.len().div_ceil(64);
        let mut buckets = Buckets {
            nodes: Vec::with_capacity(members.len()),
            words,
            bits: vec![0; (max + 1) * words],
            sizes: vec![0; max + 1],
        };
        for (i, m) in members.iter().enumerate() {
            index_of[m.node.ix()] = i as u32;
            buckets.nodes.push(m.node);
            buckets.bits[m.free as usize * words + i / 64] |= 1 << (i % 64);
            buckets.sizes[m.free as usize] += 1;
        }
        buckets
    }

    /// Buckets there are: `0..count()`.
    fn count(&self) -> usize {
        self.bits.len() / self.words
    }

    /// The nodes of bucket `k`, ascending.
    fn bucket(&self, k: usize) -> impl Iterator<Item = NodeId> + '_ {
        let bits = &self.bits[k * self.words..(k + 1) * self.words];
        bits.iter().enumerate().flat_map(move |(w, &word)| Ones(word).map(move |b| self.nodes[w * 64 + b]))
    }

    /// Moves the `i`-th node from bucket `from` to bucket `to`.
    fn rebucket(&mut self, i: usize, from: usize, to: usize) {
        if to >= self.count() {
            self.bits.resize((to + 1) * self.words, 0);
            self.sizes.resize(to + 1, 0);
        }
        self.bits[from * self.words + i / 64] &= !(1 << (i % 64));
        self.bits[to * self.words + i / 64] |= 1 << (i % 64);
        self.sizes[from] -= 1;
        self.sizes[to] += 1;
    }
}

/// Positions of the set bits of a word, ascending.
struct Ones(u64);

impl Iterator for Ones {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.0 == 0 {
            return None;
        }
        let bit = self.0.trailing_zeros() as usize;
        self.0 &= self.0 - 1;
        Some(bit)
    }
}

/// The interconnect groups of one partition, ascending by id, each in a slot with its free
/// devices (in this partition) and its nodes.
pub(crate) struct Groups {
    /// Free devices of the group in slot `i`.
    pub free: Vec<u32>,
    /// The nodes of slot `i` are `nodes[start[i]..start[i + 1]]`, ascending.
    start: Vec<u32>,
    nodes: Vec<NodeId>,
}

impl Groups {
    /// Groups a partition's nodes and records each node's slot in `slot_of`.
    fn new(mut members: Vec<Member>, slot_of: &mut [u32]) -> Self {
        members.sort_unstable(); // usually sorted already: nodes come group by group
        let count = members.chunk_by(|a, b| a.group == b.group).count();
        let mut groups = Groups {
            free: Vec::with_capacity(count),
            start: Vec::with_capacity(count + 1),
            nodes: Vec::with_capacity(members.len()),
        };
        let mut last = None;
        for m in members {
            if last != Some(m.group) {
                last = Some(m.group);
                groups.start.push(groups.nodes.len() as u32);
                groups.free.push(0);
            }
            let slot = groups.free.len() - 1;
            groups.free[slot] += m.free;
            slot_of[m.node.ix()] = slot as u32;
            groups.nodes.push(m.node);
        }
        groups.start.push(groups.nodes.len() as u32);
        groups
    }

    /// Nodes of the group in `slot`, ascending.
    pub fn nodes(&self, slot: usize) -> &[NodeId] {
        &self.nodes[self.start[slot] as usize..self.start[slot + 1] as usize]
    }
}

/// A node of a partition, while the partition's index is built.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Member {
    group: GroupId,
    node: NodeId,
    free: u32,
}

/// A lent device and its lender.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LentDevice {
    pub node: NodeId,
    pub device: u16,
    pub lender: WorkloadId,
}

/// Free devices, lent devices and their indices.
pub(crate) struct Capacity {
    /// Per node: free, healthy, unlent devices (bit i = device i).
    pub free: Vec<u64>,
    /// Per node: free, healthy devices lent by an inference service.
    pub lent_free: Vec<u64>,
    /// Per node: every device lent by an inference service, free or not.
    lent_mask: Vec<u64>,
    /// Lent devices by (node, device), each with its lender (the last the snapshot names).
    pub lent: Vec<LentDevice>,
    /// Workloads that lent devices, ascending.
    lenders: Vec<WorkloadId>,
    /// Partition of each schedulable node with devices.
    pub partition_of: Vec<Option<PartitionId>>,
    /// Per node in a partition: its place among the partition's nodes.
    index_in_partition: Vec<u32>,
    /// Per node in a partition: the slot of its group in the partition's [`Groups`].
    group_slot: Vec<u32>,
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
    /// Free capacity of a snapshot whose allocations are `held`.
    pub fn new(s: &Snapshot, held: &[Held]) -> Self {
        let n = s.nodes.len();
        let mut free: Vec<u64> = s
            .nodes
            .iter()
            .map(|node| node.devices.iter().enumerate().fold(0, |m, (i, d)| m | u64::from(d.healthy) << i))
            .collect();
        let mut lent_free = vec![0u64; n];
        for h in held {
            free[h.node.ix()] &= !h.mask;
        }
        let mut lent_mask = vec![0u64; n];
        for l in &s.lent {
            let bit = 1u64 << l.device;
            lent_mask[l.node.ix()] |= bit;
            if free[l.node.ix()] & bit != 0 {
                free[l.node.ix()] &= !bit;
                lent_free[l.node.ix()] |= bit;
            }
        }
        let lent = lent_devices(s);
        let mut lenders: Vec<WorkloadId> = lent.iter().map(|l| l.lender).collect();
        lenders.sort_unstable();
        lenders.dedup();

        // Which partition each node is in, numbered in order of first appearance.
        let mut keys: BTreeMap<PartitionKey, PartitionId> = BTreeMap::new();
        let mut last: Option<(PartitionKey, PartitionId)> = None;
        let mut found: Vec<(PartitionKey, usize, usize)> = Vec::new(); // key, nodes, most devices
        let mut partition_of = vec![None; n];
        let mut by_model = vec![Vec::new(); s.catalogue.models.len()];
        for (i, node) in s.nodes.iter().enumerate() {
            let Some(first) = node.devices.first() else { continue };
            if !node.schedulable {
                free[i] = 0;
                lent_free[i] = 0;
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
                        found.push((key, 0, 0));
                        by_model[first.model.ix()].push(found.len() - 1);
                        found.len() - 1
                    });
                    last = Some((key, p));
                    p
                }
            };
            partition_of[i] = Some(p);
            found[p].1 += 1;
            found[p].2 = found[p].2.max(node.devices.len());
        }
        let mut members: Vec<Vec<Member>> = found.iter().map(|&(_, nodes, _)| Vec::with_capacity(nodes)).collect();
        for (i, p) in partition_of.iter().enumerate() {
            if let Some(p) = *p {
                members[p].push(Member { group: s.nodes[i].group, node: NodeId(i as u32), free: mask_count(free[i]) });
            }
        }
        let mut free_per_model = vec![0u32; s.catalogue.models.len()];
        let mut index_in_partition = vec![0u32; n];
        let mut group_slot = vec![0u32; n];
        let partitions: Vec<Partition> = found
            .into_iter()
            .zip(members)
            .map(|((key, _, most), members)| {
                let total_free: u32 = members.iter().map(|m| m.free).sum();
                free_per_model[key.model.ix()] += total_free;
                Partition {
                    key,
                    by_free: Buckets::new(&members, most, &mut index_in_partition),
                    total_free,
                    groups: Groups::new(members, &mut group_slot),
                }
            })
            .collect();
        Capacity {
            free,
            lent_free,
            lent_mask,
            lent,
            lenders,
            partition_of,
            index_in_partition,
            group_slot,
            partitions,
            by_model,
            free_per_model,
        }
    }

    fn reindex(&mut self, node: NodeId, before: u64) {
        let Some(p) = self.partition_of[node.ix()] else { return };
        let after = self.free[node.ix()];
        let (b, a) = (mask_count(before), mask_count(after));
        if a == b {
            return;
        }
        let part = &mut self.partitions[p];
        part.by_free.rebucket(self.index_in_partition[node.ix()] as usize, b as usize, a as usize);
        part.total_free = part.total_free + a - b;
        let g = &mut part.groups.free[self.group_slot[node.ix()] as usize];
        *g = *g + a - b;
        let m = part.key.model.ix();
        self.free_per_model[m] = self.free_per_model[m] + a - b;
    }

    /// Marks devices used. Lent devices in `mask` are taken from the lent pool.
    pub fn take(&mut self, node: NodeId, mask: u64) {
        let before = self.free[node.ix()];
        self.lent_free[node.ix()] &= !mask;
        self.free[node.ix()] &= !mask;
        self.reindex(node, before);
    }

    /// Marks devices free again (a victim's, during preemption search). Lent devices return to
    /// the lent pool.
    pub fn give(&mut self, node: NodeId, mask: u64) {
        if self.partition_of[node.ix()].is_none() {
            return; // cordoned: freed devices stay unusable
        }
        let before = self.free[node.ix()];
        let lent = self.lent_mask[node.ix()];
        self.lent_free[node.ix()] |= mask & lent;
        self.free[node.ix()] |= mask & !lent;
        self.reindex(node, before);
    }

    /// Free devices on a node.
    pub fn free_count(&self, node: NodeId) -> u32 {
        mask_count(self.free[node.ix()])
    }

    /// Whether a workload lent devices.
    pub fn is_lender(&self, w: WorkloadId) -> bool {
        self.lenders.binary_search(&w).is_ok()
    }

    /// Replicas of `devices` each that the partition's free devices hold, counting every node:
    /// more than a placement there can use when some nodes are not usable to it.
    pub fn replica_slots(&self, p: PartitionId, devices: u32) -> u32 {
        let sizes = &self.partitions[p].by_free.sizes;
        sizes.iter().enumerate().map(|(k, &n)| n * (k as u32 / devices)).sum()
    }

    /// Nodes with at least `want` free devices, fullest-fitting first (best fit) or emptiest first.
    pub fn nodes_with(&self, p: PartitionId, want: u32, spread: bool) -> impl Iterator<Item = NodeId> + '_ {
        let buckets = &self.partitions[p].by_free;
        let (lo, hi) = ((want as usize).min(buckets.count()), buckets.count());
        (0..hi - lo).map(move |i| if spread { hi - 1 - i } else { lo + i }).flat_map(move |k| buckets.bucket(k))
    }
}

/// The snapshot's lent devices by (node, device); where it names a device twice, the last wins.
fn lent_devices(s: &Snapshot) -> Vec<LentDevice> {
    let mut all: Vec<LentDevice> =
        s.lent.iter().map(|l| LentDevice { node: l.node, device: l.device, lender: l.lender }).collect();
    all.sort_by_key(|l| (l.node, l.device)); // stable: repeats stay in snapshot order
    let mut out: Vec<LentDevice> = Vec::with_capacity(all.len());
    for l in all {
        match out.last_mut() {
            Some(prev) if (prev.node, prev.device) == (l.node, l.device) => *prev = l,
            _ => out.push(l),
        }
    }
    out
}
