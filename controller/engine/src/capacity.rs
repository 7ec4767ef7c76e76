//! Free capacity during a cycle, indexed for fast placement.
//!
//! Over the fleet's partitions (`fleet_index`), nodes are bucketed by their number of free
//! devices, so best fit is a scan over at most 65 buckets, and free totals are kept per partition
//! and per interconnect group, so a gang that cannot fit is rejected without looking at a node.
//! Devices lent by inference services are kept apart: only their lender and preemptible (tidal)
//! work may use them.
//!
//! The free counts are laid afresh every cycle over the fleet's fixed layout, and change
//! thousands of times a cycle while preemption and backfill release and restore running work, so
//! they are flat, dense vectors filled in one pass in node order rather than trees: a bucket is a
//! bit set over its partition's nodes (a move flips two bits; a scan goes in node order), and a
//! partition's groups have their free counts in the layout's slot order.

use crate::fleet_index::{FleetIndex, Layout};
pub(crate) use crate::fleet_index::{PartitionId, PartitionKey};
use crate::ids::{ModelId, NodeId, WorkloadId};
use crate::snapshot::Snapshot;

/// A partition's free devices.
pub(crate) struct Partition<'f> {
    pub layout: &'f Layout,
    /// The partition's nodes by free devices.
    by_free: Buckets,
    pub total_free: u32,
    /// Free devices of each of the partition's interconnect groups, by slot.
    pub group_free: Vec<u32>,
}

impl Partition<'_> {
    pub fn key(&self) -> PartitionKey {
        self.layout.key
    }
}

/// A partition's nodes by free devices: bucket `k`, the nodes with exactly `k` free devices, is a
/// bit set over the partition's nodes (bit `i` stands for `layout.nodes[i]`), so moving a node
/// between buckets flips two bits, and a bucket lists its nodes in node order.
#[derive(Clone, Debug, PartialEq)]
struct Buckets {
    /// Words in a bucket's bit set.
    words: usize,
    /// Bucket `k` is `bits[k * words..(k + 1) * words]`; as many buckets as the largest node
    /// here has devices, plus one.
    bits: Vec<u64>,
    /// Nodes in bucket `k`.
    sizes: Vec<u32>,
}

impl Buckets {
    /// Buckets `0..=max` of a partition's nodes, given their free devices in node order.
    fn new(free: impl Iterator<Item = u32>, nodes: usize, max: usize) -> Self {
        let words = nodes.div_ceil(64);
        let mut buckets = Buckets { words, bits: vec![0; (max + 1) * words], sizes: vec![0; max + 1] };
        for (i, f) in free.enumerate() {
            buckets.bits[f as usize * words + i / 64] |= 1 << (i % 64);
            buckets.sizes[f as usize] += 1;
        }
        buckets
    }

    /// Buckets there are: `0..count()`.
    fn count(&self) -> usize {
        self.bits.len() / self.words
    }

    /// The nodes of bucket `k`, ascending.
    fn bucket<'a>(&'a self, k: usize, nodes: &'a [NodeId]) -> impl Iterator<Item = NodeId> + 'a {
        let bits = &self.bits[k * self.words..(k + 1) * self.words];
        bits.iter().enumerate().flat_map(move |(w, &word)| Ones(word).map(move |b| nodes[w * 64 + b]))
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

/// A lent device and its lender.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LentDevice {
    pub node: NodeId,
    pub device: u16,
    pub lender: WorkloadId,
}

/// Free capacity as a cycle begins, apart from the fleet's index it is laid over: what a cycle
/// cache keeps between cycles and changes as work starts and stops ([`Capacity::into_base`]).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Base {
    free: Vec<u64>,
    lent_free: Vec<u64>,
    lent_mask: Vec<u64>,
    lent: Vec<LentDevice>,
    lenders: Vec<WorkloadId>,
    /// Per partition: its nodes by free devices, its free devices, and its groups' free devices.
    partitions: Vec<(Buckets, u32, Vec<u32>)>,
    free_per_model: Vec<u32>,
}

impl Base {
    /// Whether it was made with the lent devices `s` names.
    pub fn lends_as(&self, s: &Snapshot) -> bool {
        self.lent == lent_devices(s)
    }
}

/// What [`Capacity::give_undoably`] changed since [`Capacity::undo_point`]: each node's masks,
/// each partition's counts and the free devices per model as they were.
pub(crate) struct Undo {
    nodes: Vec<(NodeId, u64, u64)>,
    partitions: Vec<(PartitionId, Buckets, u32, Vec<u32>)>,
    free_per_model: Vec<u32>,
}

/// Free devices, lent devices and their indices.
pub(crate) struct Capacity<'f> {
    /// The fleet's partitions and each node's place in them.
    fleet: &'f FleetIndex,
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
    pub partitions: Vec<Partition<'f>>,
    /// Free devices per model, over every partition (quota lending checks).
    pub free_per_model: Vec<u32>,
}

pub(crate) fn mask_count(mask: u64) -> u32 {
    mask.count_ones()
}

impl<'f> Capacity<'f> {
    /// Free capacity of a snapshot whose allocations hold `held` devices per node, on its
    /// fleet's index.
    pub fn new(s: &Snapshot, fleet: &'f FleetIndex, held: &[u64]) -> Self {
        let n = s.nodes.len();
        let mut free: Vec<u64> = fleet.usable.iter().zip(held).map(|(usable, held)| usable & !held).collect();
        let mut lent_free = vec![0u64; n];
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

        let mut free_per_model = vec![0u32; s.catalogue.models.len()];
        let partitions: Vec<Partition> = fleet
            .partitions
            .iter()
            .map(|layout| {
                let count = |node: &NodeId| mask_count(free[node.ix()]);
                let mut group_free = vec![0u32; layout.group_count()];
                for (slot, g) in group_free.iter_mut().enumerate() {
                    *g = layout.group_nodes(slot).iter().map(count).sum();
                }
                let total_free: u32 = group_free.iter().sum();
                free_per_model[layout.key.model.ix()] += total_free;
                let by_free = Buckets::new(layout.nodes.iter().map(count), layout.nodes.len(), layout.most_devices);
                Partition { layout, by_free, total_free, group_free }
            })
            .collect();
        Capacity { fleet, free, lent_free, lent_mask, lent, lenders, partitions, free_per_model }
    }

    /// The capacity `base` describes, on the fleet's index it was made on.
    pub fn from_base(base: Base, fleet: &'f FleetIndex) -> Self {
        let partitions = (base.partitions.into_iter().zip(&fleet.partitions))
            .map(|((by_free, total_free, group_free), layout)| Partition { layout, by_free, total_free, group_free })
            .collect();
        let Base { free, lent_free, lent_mask, lent, lenders, free_per_model, .. } = base;
        Capacity { fleet, free, lent_free, lent_mask, lent, lenders, partitions, free_per_model }
    }

    /// This capacity apart from its fleet's index.
    pub fn into_base(self) -> Base {
        let partitions = self.partitions.into_iter().map(|p| (p.by_free, p.total_free, p.group_free)).collect();
        let Capacity { free, lent_free, lent_mask, lent, lenders, free_per_model, .. } = self;
        Base { free, lent_free, lent_mask, lent, lenders, partitions, free_per_model }
    }

    /// The partition a node is in: none when it is cordoned or has no devices.
    pub fn partition_of(&self, node: NodeId) -> Option<PartitionId> {
        self.fleet.partition_of(node)
    }

    /// A model's partitions.
    pub fn by_model(&self, m: ModelId) -> &'f [PartitionId] {
        &self.fleet.by_model[m.ix()]
    }

    fn reindex(&mut self, node: NodeId, before: u64) {
        let Some(p) = self.partition_of(node) else { return };
        let after = self.free[node.ix()];
        let (b, a) = (mask_count(before), mask_count(after));
        if a == b {
            return;
        }
        let part = &mut self.partitions[p];
        part.by_free.rebucket(self.fleet.index_in_partition[node.ix()] as usize, b as usize, a as usize);
        part.total_free = part.total_free + a - b;
        let g = &mut part.group_free[self.fleet.group_slot[node.ix()] as usize];
        *g = *g + a - b;
        let m = part.layout.key.model.ix();
        self.free_per_model[m] = self.free_per_model[m] + a - b;
    }

    /// Marks devices used. Lent devices in `mask` are taken from the lent pool.
    pub fn take(&mut self, node: NodeId, mask: u64) {
        let before = self.free[node.ix()];
        self.lent_free[node.ix()] &= !mask;
        self.free[node.ix()] &= !mask;
        self.reindex(node, before);
    }

    /// Marks devices free again (a victim's, during preemption search), those that are usable:
    /// a device that failed under running work stays out. Lent devices return to the lent pool.
    pub fn give(&mut self, node: NodeId, mask: u64) {
        if self.partition_of(node).is_none() {
            return; // cordoned: freed devices stay unusable
        }
        let mask = mask & self.fleet.usable[node.ix()];
        let before = self.free[node.ix()];
        let lent = self.lent_mask[node.ix()];
        self.lent_free[node.ix()] |= mask & lent;
        self.free[node.ix()] |= mask & !lent;
        self.reindex(node, before);
    }

    /// [`Capacity::give`], noted in `undo` so that [`Capacity::undo`] puts everything back at
    /// once: cheaper than taking the devices back one node at a time when a search has freed
    /// dozens of workloads' devices only to see where a gang would fit.
    pub fn give_undoably(&mut self, node: NodeId, mask: u64, undo: &mut Undo) {
        undo.nodes.push((node, self.free[node.ix()], self.lent_free[node.ix()]));
        if let Some(p) = self.partition_of(node)
            && !undo.partitions.iter().any(|(q, ..)| *q == p)
        {
            let part = &self.partitions[p];
            undo.partitions.push((p, part.by_free.clone(), part.total_free, part.group_free.clone()));
        }
        self.give(node, mask);
    }

    /// A point to come back to with [`Capacity::undo`].
    pub fn undo_point(&self) -> Undo {
        Undo { nodes: Vec::new(), partitions: Vec::new(), free_per_model: self.free_per_model.clone() }
    }

    /// Puts back what was given since `undo` was made.
    pub fn undo(&mut self, undo: Undo) {
        for &(node, free, lent_free) in undo.nodes.iter().rev() {
            (self.free[node.ix()], self.lent_free[node.ix()]) = (free, lent_free);
        }
        for (p, by_free, total_free, group_free) in undo.partitions {
            let part = &mut self.partitions[p];
            (part.by_free, part.total_free, part.group_free) = (by_free, total_free, group_free);
        }
        self.free_per_model = undo.free_per_model;
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
        let part = &self.partitions[p];
        let buckets = &part.by_free;
        let (lo, hi) = ((want as usize).min(buckets.count()), buckets.count());
        (0..hi - lo)
            .map(move |i| if spread { hi - 1 - i } else { lo + i })
            .flat_map(move |k| buckets.bucket(k, &part.layout.nodes))
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
