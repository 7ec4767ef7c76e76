//! Gang placement inside one partition: all replicas or none, in one interconnect group when they
//! fit there, on the fewest nodes, best fit, with each replica's devices inside one link domain
//! when it can.

use crate::capacity::{Capacity, PartitionId, mask_count};
use crate::ids::{GroupId, NodeId};
use crate::mask::lowest_bits;
use crate::policy::Packing;
use crate::snapshot::Snapshot;

/// Where each replica of a gang goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Placement {
    /// One entry per replica: node and device mask.
    pub replicas: Vec<(NodeId, u64)>,
    /// Distinct nodes used.
    pub nodes: u32,
    /// Distinct interconnect groups used.
    pub groups: u32,
}

impl Placement {
    /// The [`scaling_efficiency`] of this placement.
    pub fn scaling_efficiency(&self) -> f64 {
        scaling_efficiency(self.nodes, self.groups)
    }
}

/// Scaling efficiency the engine assumes for a gang on `nodes` nodes in `groups` interconnect
/// groups, in its runtime estimates: on one node it talks over the device link, in one group over
/// one fabric, across groups over the data-centre network.
pub fn scaling_efficiency(nodes: u32, groups: u32) -> f64 {
    match (nodes, groups) {
        (0 | 1, _) => 1.0,
        (_, 1) => 0.95,
        _ => 0.85,
    }
}

/// Finds a placement of `replicas` × `devices` in partition `p`, using only nodes `usable` accepts.
pub(crate) fn place(
    s: &Snapshot,
    cap: &Capacity,
    p: PartitionId,
    replicas: u32,
    devices: u32,
    packing: Packing,
    usable: &dyn Fn(NodeId) -> bool,
) -> Option<Placement> {
    let part = &cap.partitions[p];
    // Refused without looking at a node when even every node together cannot hold the gang
    // (preemption and backfill ask again after each workload they release).
    if part.total_free < replicas * devices || cap.replica_slots(p, devices) < replicas {
        return None;
    }
    let spread = packing == Packing::Spread;
    if replicas == 1 {
        let node = cap.nodes_with(p, devices, spread).find(|n| usable(*n))?;
        let mask = pick_devices(s, node, cap.free[node.ix()], devices);
        return Some(Placement { replicas: vec![(node, mask)], nodes: 1, groups: 1 });
    }
    let slots = |n: NodeId| if usable(n) { cap.free_count(n) / devices } else { 0 };

    // One interconnect group when some group can hold the whole gang: the best-fitting one (the
    // first in group order among equals).
    let mut best: Option<(u32, usize)> = None;
    for (slot, &free) in part.group_free.iter().enumerate() {
        if free < replicas * devices {
            continue;
        }
        let total: u32 = part.layout.group_nodes(slot).iter().map(|&n| slots(n)).sum();
        if total < replicas {
            continue;
        }
        let leftover = free - replicas * devices;
        let better = match best {
            None => true,
            Some((l, _)) => {
                if spread {
                    leftover > l
                } else {
                    leftover < l
                }
            }
        };
        if better {
            best = Some((leftover, slot));
        }
    }
    let candidates: Vec<NodeId> = match best {
        Some((_, slot)) => part.layout.group_nodes(slot).iter().copied().filter(|&n| slots(n) > 0).collect(),
        None => cap.nodes_with(p, devices, spread).filter(|&n| slots(n) > 0).collect(),
    };
    let chosen = fewest_nodes(candidates, replicas, &slots)?;

    let mut out = Vec::with_capacity(replicas as usize);
    let mut remaining = replicas;
    let mut groups: Vec<GroupId> = Vec::new();
    for &node in &chosen {
        let mut free = cap.free[node.ix()];
        let here = slots(node).min(remaining);
        for _ in 0..here {
            let mask = pick_devices(s, node, free, devices);
            free &= !mask;
            out.push((node, mask));
        }
        remaining -= here;
        let g = s.group_of(node);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    Some(Placement { replicas: out, nodes: chosen.len() as u32, groups: groups.len() as u32 })
}

/// The fewest nodes whose slots cover `replicas`, the last one the smallest that still covers the
/// remainder (best fit). `None` when all of them together are too few.
fn fewest_nodes(mut nodes: Vec<NodeId>, replicas: u32, slots: &dyn Fn(NodeId) -> u32) -> Option<Vec<NodeId>> {
    nodes.sort_by_key(|&n| (std::cmp::Reverse(slots(n)), n));
    let mut covered = 0;
    let mut take = 0;
    while covered < replicas {
        covered += slots(*nodes.get(take)?);
        take += 1;
    }
    let before_last = covered - slots(nodes[take - 1]);
    let need = replicas - before_last;
    let last = nodes[take - 1..].iter().copied().filter(|&n| slots(n) >= need).min_by_key(|&n| (slots(n), n))?;
    let mut chosen = nodes[..take - 1].to_vec();
    chosen.push(last);
    Some(chosen)
}

/// Chooses `want` devices from `free` on a node: inside the link domain with the fewest free
/// devices that still fit them (best fit); otherwise from the domains with the most free first.
pub(crate) fn pick_devices(s: &Snapshot, node: NodeId, free: u64, want: u32) -> u64 {
    let devices = &s.nodes[node.ix()].devices;
    let mut domains: Vec<(u8, u64)> = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        if free & (1 << i) == 0 {
            continue;
        }
        match domains.iter_mut().find(|(id, _)| *id == d.link_domain) {
            Some((_, m)) => *m |= 1 << i,
            None => domains.push((d.link_domain, 1 << i)),
        }
    }
    if let Some((_, m)) =
        domains.iter().filter(|(_, m)| mask_count(*m) >= want).min_by_key(|(id, m)| (mask_count(*m), *id))
    {
        return lowest_bits(*m, want);
    }
    domains.sort_by_key(|(id, m)| (std::cmp::Reverse(mask_count(*m)), *id));
    let mut mask = 0;
    let mut left = want;
    for (_, m) in domains {
        let take = left.min(mask_count(m));
        mask |= lowest_bits(m, take);
        left -= take;
        if left == 0 {
            break;
        }
    }
    mask
}
