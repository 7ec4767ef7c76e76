//! The fleet: three clusters, interconnect groups of 32 nodes of one model, four groups to a
//! rack, every node one model with two link domains (PCIe-only cards: one domain per device),
//! and a few nodes of the first cluster dedicated to one department.

use tidepool_engine::{Cluster, ClusterId, Device, Group, GroupId, ModelId, Node, NodeId, TenantId};

use super::GenConfig;
use super::catalogue::MODELS;

/// Cluster names and their percent of the nodes.
pub(super) const CLUSTERS: [(&str, u32); 3] = [("shanghai-1", 50), ("beijing-1", 30), ("shenzhen-1", 20)];
/// Nodes per interconnect group.
const GROUP_NODES: usize = 32;
/// Interconnect groups per rack.
const GROUPS_PER_RACK: u32 = 4;
/// Percent of the first cluster's nodes dedicated to one tenant (taken from its first model).
const DEDICATED_PERCENT: u32 = 2;

/// Clusters, groups and nodes, and the nodes of each (cluster, model).
pub(super) struct Fleet {
    pub clusters: Vec<Cluster>,
    pub groups: Vec<Group>,
    pub nodes: Vec<Node>,
    /// Nodes of each cluster and model, in node order: `pools[pool(cluster, model)]`.
    pub pools: Vec<Vec<NodeId>>,
    pub dedicated_nodes: u32,
}

/// Index of a (cluster, model) pool.
pub(super) fn pool(cluster: ClusterId, model: ModelId) -> usize {
    cluster.ix() * MODELS.len() + model.ix()
}

/// Splits `total` by percentages with the largest-remainder method (ties to the first), so the
/// parts always sum to `total`.
pub(super) fn apportion(total: u32, percents: &[u32]) -> Vec<u32> {
    let sum: u32 = percents.iter().sum();
    let mut parts: Vec<u32> =
        percents.iter().map(|p| (u64::from(total) * u64::from(*p) / u64::from(sum)) as u32).collect();
    let mut order: Vec<usize> = (0..percents.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(u64::from(total) * u64::from(percents[i]) % u64::from(sum)), i));
    let short = total - parts.iter().sum::<u32>();
    for &i in order.iter().take(short as usize) {
        parts[i] += 1;
    }
    parts
}

/// Builds the fleet; dedicated nodes go to `dedicated_to`.
pub(super) fn build(cfg: &GenConfig, dedicated_to: TenantId) -> Fleet {
    let devices = cfg.devices_per_node as usize;
    let percents: Vec<u32> = CLUSTERS.iter().map(|c| c.1).collect();
    let model_percents: Vec<u32> = MODELS.iter().map(|m| m.fleet_percent).collect();
    let mut fleet = Fleet {
        clusters: CLUSTERS.iter().map(|c| Cluster { name: c.0.to_owned() }).collect(),
        groups: Vec::new(),
        nodes: Vec::new(),
        pools: vec![Vec::new(); CLUSTERS.len() * MODELS.len()],
        dedicated_nodes: 0,
    };
    for (c, &in_cluster) in apportion(cfg.nodes, &percents).iter().enumerate() {
        let cluster = ClusterId(c as u32);
        let cluster_name = CLUSTERS[c].0;
        let first_group = fleet.groups.len();
        let mut node_in_cluster = 0;
        let dedicated = if c == 0 { (in_cluster * DEDICATED_PERCENT + 50) / 100 } else { 0 };
        for (m, &count) in apportion(in_cluster, &model_percents).iter().enumerate() {
            let model = ModelId(m as u32);
            let spec = &MODELS[m];
            for i in 0..count as usize {
                if i % GROUP_NODES == 0 {
                    let rack = (fleet.groups.len() - first_group) as u32 / GROUPS_PER_RACK;
                    let name = format!("{cluster_name}-{}-g{:03}", spec.name, i / GROUP_NODES);
                    fleet.groups.push(Group { name, cluster, rack });
                }
                let id = NodeId(fleet.nodes.len() as u32);
                let dedicated_to = (m == 0 && i >= (count - dedicated.min(count)) as usize).then_some(dedicated_to);
                fleet.dedicated_nodes += u32::from(dedicated_to.is_some());
                fleet.nodes.push(Node {
                    name: format!("{cluster_name}-n{node_in_cluster:05}"),
                    group: GroupId(fleet.groups.len() as u32 - 1),
                    schedulable: true,
                    dedicated_to,
                    devices: (0..devices)
                        .map(|d| Device {
                            id: format!("dev{d}"),
                            model,
                            link_domain: if spec.fast_link { (d * 2 / devices) as u8 } else { d as u8 },
                            healthy: true,
                        })
                        .collect(),
                });
                fleet.pools[pool(cluster, model)].push(id);
                node_in_cluster += 1;
            }
        }
    }
    fleet
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums_to_the_total() {
        assert_eq!(apportion(5000, &[50, 30, 20]), vec![2500, 1500, 1000]);
        assert_eq!(apportion(25, &[35, 15, 30, 10, 10]), vec![9, 4, 8, 2, 2]);
        for total in 0..200 {
            assert_eq!(apportion(total, &[35, 15, 30, 10, 10]).iter().sum::<u32>(), total);
        }
    }
}
