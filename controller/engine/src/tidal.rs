//! Tidal co-location, engine side: preemptible work may run on devices an inference service lent
//! (as `Tidal`, outside any quota), and the lender takes them back — preempting the borrowers with
//! their grace — when its demand returns. Which devices are lent is decided by the caller from the
//! service's demand forecast.

use crate::allocation::UsageClass;
use crate::cycle::Cycle;
use crate::ids::{NodeId, WorkloadId};
use crate::place::{Placement, pick_devices};
use crate::plan::VictimReason;
use crate::select::Candidate;

/// Places a gang on free lent devices of the candidate's model, fewest nodes first.
pub(crate) fn place_on_lent(cx: &Cycle, c: &Candidate, replicas: u32, devices: u32) -> Option<Placement> {
    if cx.cap.lent.is_empty() {
        return None;
    }
    let all: Vec<(u32, NodeId)> = lent_nodes(cx)
        .filter(|n| cx.cap.partition_of(*n).is_some_and(|p| c.partitions.contains(&p)))
        .map(|n| (cx.cap.lent_free[n.ix()].count_ones() / devices, n))
        .filter(|(slots, _)| *slots > 0)
        .collect();
    let mut clusters: Vec<_> = all.iter().map(|&(_, n)| cx.s.cluster_of(n)).collect();
    clusters.sort();
    clusters.dedup();
    clusters.into_iter().find_map(|cluster| {
        let mut nodes: Vec<(u32, NodeId)> =
            all.iter().copied().filter(|&(_, n)| cx.s.cluster_of(n) == cluster).collect();
        nodes.sort_by_key(|&(slots, n)| (std::cmp::Reverse(slots), n));
        fewest_lent_nodes(cx, nodes, replicas, devices)
    })
}

/// Fills replicas onto lent nodes, most lent slots first, within one cluster.
fn fewest_lent_nodes(cx: &Cycle, nodes: Vec<(u32, NodeId)>, replicas: u32, devices: u32) -> Option<Placement> {
    let mut out = Vec::new();
    let mut groups = Vec::new();
    for (used, (slots, node)) in (1..).zip(nodes) {
        let mut free = cx.cap.lent_free[node.ix()];
        for _ in 0..slots.min(replicas - out.len() as u32) {
            let mask = pick_devices(cx.s, node, free, devices);
            free &= !mask;
            out.push((node, mask));
        }
        let g = cx.s.group_of(node);
        if !groups.contains(&g) {
            groups.push(g);
        }
        if out.len() as u32 == replicas {
            return Some(Placement { replicas: out, nodes: used, groups: groups.len() as u32 });
        }
    }
    None
}

/// Nodes with lent devices, ascending.
fn lent_nodes<'a>(cx: &'a Cycle) -> impl Iterator<Item = NodeId> + 'a {
    let lent = &cx.cap.lent;
    lent.iter().enumerate().filter(|&(i, l)| i == 0 || lent[i - 1].node != l.node).map(|(_, l)| l.node)
}

/// Devices on a node lent by `lender`.
fn lent_by(cx: &Cycle, node: NodeId, lender: WorkloadId) -> u64 {
    let lent = &cx.cap.lent;
    let from = lent.partition_point(|l| l.node < node);
    lent[from..]
        .iter()
        .take_while(|l| l.node == node)
        .filter(|l| l.lender == lender)
        .fold(0, |m, l| m | (1 << l.device))
}

/// For a lender that wants one more replica: use a free device it lent, or preempt the tidal
/// work on devices it lent. Returns whether a replica was added.
pub(crate) fn reclaim_one(cx: &mut Cycle, w: WorkloadId, c: &Candidate) -> bool {
    if !cx.cap.is_lender(w) {
        return false;
    }
    let wl = &cx.s.workloads[w.ix()];
    let d = wl.devices_per_replica;
    let Ok(class) = cx.usage.admit(cx.s, &cx.cap, wl.tenant, c.model, d, wl.preemptible) else { return false };
    let nodes: Vec<NodeId> =
        lent_nodes(cx).filter(|n| cx.cap.partition_of(*n).is_some_and(|p| c.partitions.contains(&p))).collect();
    for &node in &nodes {
        let mine = lent_by(cx, node, w) & cx.cap.lent_free[node.ix()];
        if mine.count_ones() >= d {
            let mask = pick_devices(cx.s, node, mine, d);
            let p = Placement { replicas: vec![(node, mask)], nodes: 1, groups: 1 };
            cx.commit(w, c.model, &p, class, false);
            return true;
        }
    }
    if !cx.policy.preemption || !cx.policy.reclaim_tidal {
        return false;
    }
    // Tidal work on devices this service lent, the least work lost first.
    let mut victims: Vec<(i64, WorkloadId)> = Vec::new();
    for &v in cx.running().holders(c.model) {
        // Work placed on these devices earlier in this cycle is not taken back in the same cycle.
        if v == w || cx.preempted[v.ix()] || cx.preemptor[v.ix()] || cx.bound[v.ix()] {
            continue;
        }
        let on_mine = cx.held[v].iter().any(|h| h.usage == UsageClass::Tidal && h.mask & lent_by(cx, h.node, w) != 0);
        if on_mine {
            victims.push((crate::preempt::lost_work(cx, v), v));
        }
    }
    victims.sort();
    for (_, v) in victims {
        let held = cx.release(v);
        for &node in &nodes {
            let mine = lent_by(cx, node, w) & cx.cap.lent_free[node.ix()];
            if mine.count_ones() >= d {
                let mask = pick_devices(cx.s, node, mine, d);
                let p = Placement { replicas: vec![(node, mask)], nodes: 1, groups: 1 };
                cx.commit(w, c.model, &p, class, true);
                crate::preempt::finish_victim(cx, v, w, VictimReason::TidalReclaim, &held);
                return true;
            }
        }
        cx.restore(v, held);
    }
    false
}
