//! A simple placer for the running load, standing in for the scheduler that placed it: most
//! single devices are packed onto the node a pool is filling, the rest go to a random node
//! (the fragmentation of a fleet that has run for a while); gangs take the nodes they need
//! from a random position onwards, which in node order keeps them in one interconnect group.

use rand::{Rng, RngExt};
use tidepool_engine::mask::lowest_bits;
use tidepool_engine::{Node, NodeId};

use super::profile::Shape;

/// Share of single-device replicas packed onto the filling node.
const PACKED: f64 = 0.85;

/// Free devices per node and the nodes of each pool.
pub(super) struct Placer {
    free: Vec<u64>,
    pools: Vec<Vec<NodeId>>,
    /// Per pool: position of the node being filled.
    filling: Vec<usize>,
}

impl Placer {
    /// Every device of every node free.
    pub fn new(nodes: &[Node], pools: Vec<Vec<NodeId>>) -> Self {
        let free = nodes.iter().map(|n| (0..n.devices.len()).fold(0u64, |m, d| m | (1 << d))).collect();
        let filling = vec![0; pools.len()];
        Placer { free, pools, filling }
    }

    /// Places a gang of `shape` in pool `pool` on nodes `eligible` accepts: node and device mask
    /// of each replica, or `None` (and nothing taken) when the pool has no room.
    pub fn place(
        &mut self,
        rng: &mut impl Rng,
        nodes: &[Node],
        pool: usize,
        shape: Shape,
        eligible: &dyn Fn(&Node) -> bool,
    ) -> Option<Vec<(NodeId, u64)>> {
        let list = &self.pools[pool];
        if list.is_empty() {
            return None;
        }
        let per = shape.devices_per_replica;
        let free = &self.free;
        let slots = |n: NodeId| if eligible(&nodes[n.ix()]) { free[n.ix()].count_ones() / per } else { 0 };
        let packed = shape == Shape::SINGLE && rng.random_bool(PACKED);
        let start = if packed { self.filling[pool] } else { rng.random_range(0..list.len()) };
        let mut out = Vec::with_capacity(shape.replicas as usize);
        for i in 0..list.len() {
            let at = (start + i) % list.len();
            let node = list[at];
            let here = slots(node).min(shape.replicas - out.len() as u32);
            let mut left = free[node.ix()];
            for _ in 0..here {
                let mask = lowest_bits(left, per);
                left &= !mask;
                out.push((node, mask));
            }
            if out.len() as u32 == shape.replicas {
                if packed {
                    self.filling[pool] = at;
                }
                for &(node, mask) in &out {
                    self.free[node.ix()] &= !mask;
                }
                return Some(out);
            }
        }
        None
    }
}
