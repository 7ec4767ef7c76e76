//! `GetPreferredAllocation`'s choice: which `size` devices out of those kubelet offers, keeping a
//! container's devices close together.
//!
//! In order of preference:
//! 1. all inside one interconnect group (a connected component of the devices' `peers` links:
//!    NVLink, HCCS, MLU-Link, ...), the smallest group that fits, so large groups stay whole for
//!    large requests; inside it, devices with the most links to those already chosen;
//! 2. all on one NUMA node, the smallest that fits;
//! 3. otherwise as few groups as possible, largest first.
//!
//! Must-include devices are always in the answer, and a group or NUMA node only fits if it holds
//! all of them. Pure: no I/O; the caller maps kubelet's ids to devices and checks the request.

use std::collections::{BTreeMap, HashMap};

use crate::device::Device;

/// `size` devices from `available` including all of `must_include`, ordered by index. Fewer when
/// there are not enough; never a device outside `available` ∪ `must_include`.
pub fn preferred<'a>(available: &[&'a Device], must_include: &[&'a Device], size: usize) -> Vec<&'a Device> {
    // The pool: every offered device once, must-include ones first.
    let mut pool: Vec<&Device> = Vec::new();
    for device in must_include.iter().chain(available) {
        if pool.iter().all(|seen| seen.id() != device.id()) {
            pool.push(device);
        }
    }
    let must = pool.len().min(must_include.len());
    let chosen = if size <= must {
        (0..size).collect()
    } else if let Some(group) = interconnect_groups(&pool).and_then(|groups| best_fit(groups, must, size)) {
        fill_connected(&pool, &group, must, size)
    } else if let Some(group) = best_fit(numa_groups(&pool), must, size) {
        fill_in_order(&group, must, size)
    } else {
        spread(&pool, must, size)
    };
    let mut devices: Vec<&Device> = chosen.into_iter().map(|position| pool[position]).collect();
    devices.sort_by_key(|device| device.index);
    devices
}

fn linked(a: &Device, b: &Device) -> bool {
    a.peers.contains(&b.index) || b.peers.contains(&a.index)
}

/// Connected components of the `peers` links (positions in `pool`); `None` when no device has
/// links, so that NUMA decides.
fn interconnect_groups(pool: &[&Device]) -> Option<Vec<Vec<usize>>> {
    if pool.iter().all(|device| device.peers.is_empty()) {
        return None;
    }
    let mut component: Vec<usize> = (0..pool.len()).collect();
    fn root(component: &mut [usize], mut at: usize) -> usize {
        while component[at] != at {
            component[at] = component[component[at]];
            at = component[at];
        }
        at
    }
    for a in 0..pool.len() {
        for b in a + 1..pool.len() {
            if linked(pool[a], pool[b]) {
                let (ra, rb) = (root(&mut component, a), root(&mut component, b));
                component[ra.max(rb)] = ra.min(rb);
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for position in 0..pool.len() {
        let r = root(&mut component, position);
        groups.entry(r).or_default().push(position);
    }
    Some(groups.into_values().collect())
}

/// Devices per NUMA node (positions in `pool`); devices with no NUMA node are in none.
fn numa_groups(pool: &[&Device]) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (position, device) in pool.iter().enumerate() {
        if let Some(node) = device.numa_node {
            groups.entry(node).or_default().push(position);
        }
    }
    groups.into_values().collect()
}

/// The smallest group holding every must-include device (positions `0..must`) and `size` devices.
fn best_fit(groups: Vec<Vec<usize>>, must: usize, size: usize) -> Option<Vec<usize>> {
    groups
        .into_iter()
        .filter(|group| group.len() >= size && (0..must).all(|position| group.contains(&position)))
        .min_by_key(|group| (group.len(), group.iter().min().copied()))
}

/// Must-include devices, then repeatedly the device of `group` with most links to those chosen.
fn fill_connected(pool: &[&Device], group: &[usize], must: usize, size: usize) -> Vec<usize> {
    let mut chosen: Vec<usize> = (0..must).collect();
    while chosen.len() < size {
        let next = group.iter().copied().filter(|position| !chosen.contains(position)).max_by_key(|&candidate| {
            let links = chosen.iter().filter(|&&c| linked(pool[c], pool[candidate])).count();
            (links, std::cmp::Reverse(pool[candidate].index))
        });
        match next {
            Some(position) => chosen.push(position),
            None => break,
        }
    }
    chosen
}

fn fill_in_order(group: &[usize], must: usize, size: usize) -> Vec<usize> {
    let mut chosen: Vec<usize> = (0..must).collect();
    chosen.extend(group.iter().copied().filter(|position| *position >= must).take(size - must));
    chosen
}

/// No single group fits: must-include devices, then whole groups, those already used and the
/// largest first, so the container spans as few groups as it can.
fn spread(pool: &[&Device], must: usize, size: usize) -> Vec<usize> {
    let groups = interconnect_groups(pool).unwrap_or_else(|| {
        // Without links, NUMA nodes are the groups; devices with no NUMA node form one more.
        let mut groups = numa_groups(pool);
        let placed: Vec<usize> = groups.iter().flatten().copied().collect();
        groups.push((0..pool.len()).filter(|position| !placed.contains(position)).collect());
        groups
    });
    let group_of: HashMap<usize, usize> =
        groups.iter().enumerate().flat_map(|(g, members)| members.iter().map(move |&p| (p, g))).collect();
    let used = |g: usize| (0..must).any(|position| group_of.get(&position) == Some(&g));
    let mut rest: Vec<usize> = (must..pool.len()).collect();
    rest.sort_by_key(|&position| {
        let g = group_of.get(&position).copied().unwrap_or(usize::MAX);
        let size_of = groups.get(g).map_or(0, Vec::len);
        (!used(g), std::cmp::Reverse(size_of), g, pool[position].index)
    });
    (0..must).chain(rest).take(size).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use tidepool_crds::{Catalogue, Family};

    use super::*;

    /// Devices 0..n with the given links (both ways) and NUMA nodes.
    fn node(n: u32, links: &[(u32, u32)], numa: impl Fn(u32) -> Option<u32>) -> Vec<Device> {
        let catalogue = Catalogue::builtin();
        (0..n)
            .map(|i| {
                let mut device = Device::new(Family::Nvidia, i, "NVIDIA H100", 81920, &catalogue);
                device.peers =
                    links.iter().filter_map(|&(a, b)| (a == i).then_some(b).or((b == i).then_some(a))).collect();
                device.numa_node = numa(i);
                device
            })
            .collect()
    }

    fn mesh(members: &[u32]) -> Vec<(u32, u32)> {
        members.iter().flat_map(|&a| members.iter().filter(move |&&b| b > a).map(move |&b| (a, b))).collect()
    }

    fn pick(devices: &[Device], available: &[u32], must: &[u32], size: usize) -> Vec<u32> {
        let by_index = |i: &u32| &devices[*i as usize];
        let available: Vec<&Device> = available.iter().map(by_index).collect();
        let must: Vec<&Device> = must.iter().map(by_index).collect();
        preferred(&available, &must, size).iter().map(|device| device.index).collect()
    }

    #[test]
    fn stays_inside_one_interconnect_group_with_the_must_include_device() {
        let links = [mesh(&[0, 1, 2, 3]), mesh(&[4, 5, 6, 7])].concat();
        let devices = node(8, &links, |i| Some(i / 4));
        let all: Vec<u32> = (0..8).collect();
        assert_eq!(pick(&devices, &all, &[5], 4), [4, 5, 6, 7]);
        assert_eq!(pick(&devices, &all, &[], 2), [0, 1]);
        assert_eq!(pick(&devices, &[0, 1, 4, 5, 6], &[], 3), [4, 5, 6]);
    }

    #[test]
    fn prefers_the_smallest_group_that_fits() {
        let links = [mesh(&[0, 1]), mesh(&[2, 3, 4, 5])].concat();
        let devices = node(6, &links, |_| Some(0));
        let all: Vec<u32> = (0..6).collect();
        assert_eq!(pick(&devices, &all, &[], 2), [0, 1]);
        assert_eq!(pick(&devices, &all, &[], 3), [2, 3, 4]);
    }

    #[test]
    fn inside_a_group_picks_the_best_linked_devices() {
        // A ring 0-1-2-3-0 plus a chord 0-2. With 0 required, 1, 2 and 3 each have one link to
        // it (1 wins on index); then 2, linked to both 0 and 1, beats 3, linked to 0 only.
        let links = [(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)];
        let devices = node(4, &links, |_| None);
        assert_eq!(pick(&devices, &[0, 1, 2, 3], &[0], 3), [0, 1, 2]);
    }

    #[test]
    fn without_links_keeps_to_one_numa_node() {
        let devices = node(8, &[], |i| Some(i / 4));
        assert_eq!(pick(&devices, &[0, 4, 5, 6], &[], 2), [4, 5]);
        assert_eq!(pick(&devices, &[0, 4, 5, 6], &[], 1), [0]);
        assert_eq!(pick(&devices, &[0, 1, 4, 5, 6], &[1], 2), [0, 1]);
    }

    #[test]
    fn spreads_over_as_few_groups_as_possible_when_nothing_fits() {
        let links = [mesh(&[0, 1, 2, 3]), mesh(&[4, 5, 6, 7])].concat();
        let devices = node(8, &links, |i| Some(i / 4));
        assert_eq!(pick(&devices, &[0, 4], &[0, 4], 2), [0, 4]);
        assert_eq!(pick(&devices, &[0, 4, 5, 6], &[0], 3), [0, 4, 5]);
        assert_eq!(pick(&devices, &[0, 1, 4, 5, 6], &[], 4), [0, 4, 5, 6]);
    }

    proptest! {
        #[test]
        fn answers_are_the_right_size_and_honour_must_include(
            links in prop::collection::vec((0u32..8, 0u32..8), 0..12),
            numa in prop::collection::vec(prop::option::of(0u32..2), 8),
            offered in prop::collection::btree_set(0u32..8, 1..=8),
            must_count in 0usize..3,
            extra in 0usize..8,
        ) {
            let devices = node(8, &links, |i| numa[i as usize]);
            let offered: Vec<u32> = offered.into_iter().collect();
            let must: Vec<u32> = offered.iter().copied().take(must_count).collect();
            let size = (must.len() + extra).clamp(1, offered.len()).max(must.len());
            let answer = pick(&devices, &offered, &must, size);
            prop_assert_eq!(answer.len(), size);
            prop_assert!(must.iter().all(|m| answer.contains(m)));
            prop_assert!(answer.iter().all(|a| offered.contains(a)));
            let mut unique = answer.clone();
            unique.dedup();
            prop_assert_eq!(unique.len(), answer.len());
        }
    }
}
