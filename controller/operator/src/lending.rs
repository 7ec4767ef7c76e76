//! Tidal lending, operator side: which devices each inference service lends this pass. The engine
//! places preemptible work on lent devices (as `Tidal`, outside quota) and lets the lender take
//! them back, with the borrowers' grace, when its demand returns; it leaves to its caller which
//! devices are lent.
//!
//! Nothing is stored: a device stays lent while a borrower runs on it (its pod's
//! `tidepool.dev/lender` annotation names the service), and each pass a service that may lend
//! (`tidal.mayLend`, with the policy's tidal lending on) also offers free devices of the model it
//! runs, on its own nodes first, until it lends what [`crate::demand::lendable_replicas`] allows.
//! A lent device nobody borrowed is simply free again next pass.

use tidepool_engine::mask::devices_of;
use tidepool_engine::{Lent, ModelId, NodeId, Snapshot, WorkloadId};

/// A service that may lend this pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lender {
    /// The service.
    pub workload: WorkloadId,
    /// The model it runs.
    pub model: ModelId,
    /// Devices it may lend in all.
    pub devices: u32,
}

/// The devices lent this pass: those under borrowers (`borrowed`: allocation index and its
/// lender), then free devices offered by `lenders`, sorted by node and device.
pub fn lent(s: &Snapshot, borrowed: &[(usize, WorkloadId)], lenders: &[Lender]) -> Vec<Lent> {
    let mut held = vec![0u64; s.nodes.len()];
    for a in &s.allocations {
        held[a.node.ix()] |= a.devices;
    }
    let mut out: Vec<Lent> = Vec::new();
    let mut lent_mask = vec![0u64; s.nodes.len()];
    for &(i, lender) in borrowed {
        let a = &s.allocations[i];
        for device in devices_of(a.devices) {
            out.push(Lent { node: a.node, device, lender });
        }
        lent_mask[a.node.ix()] |= a.devices;
    }
    for l in lenders {
        let mut left = l.devices.saturating_sub(out.iter().filter(|x| x.lender == l.workload).count() as u32);
        let own = |n: &NodeId| s.allocations.iter().any(|a| a.workload == l.workload && a.node == *n);
        let mut nodes: Vec<NodeId> = (0..s.nodes.len() as u32).map(NodeId).collect();
        nodes.sort_by_key(|n| (!own(n), *n));
        for n in nodes {
            let node = &s.nodes[n.ix()];
            if !node.schedulable {
                continue;
            }
            for (i, device) in node.devices.iter().enumerate() {
                let bit = 1u64 << i;
                if left == 0 {
                    break;
                }
                if device.model == l.model && device.healthy && (held[n.ix()] | lent_mask[n.ix()]) & bit == 0 {
                    out.push(Lent { node: n, device: i as u16, lender: l.workload });
                    lent_mask[n.ix()] |= bit;
                    left -= 1;
                }
            }
        }
    }
    out.sort_by_key(|l| (l.node, l.device));
    out
}
