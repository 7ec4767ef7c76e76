//! The engine's rules, one test each, written to read as the policy's documentation: given a
//! small group cloud, what Tidepool does and says.

mod support;

use rust_decimal::Decimal;
use support::*;
use tidepool_engine::*;

fn cost_policy() -> Policy {
    Policy { objective: Objective::Cost, ..Policy::default() }
}

/// One cluster, one group, `n` nodes of 8 devices for each of the three models.
fn fleet(b: &mut Builder, n: usize) -> (Vec<NodeId>, Vec<NodeId>, Vec<NodeId>) {
    let c = b.cluster("sh");
    let g = b.group(c);
    (b.nodes(g, A100, n, 8), b.nodes(g, ASCEND, n, 8), b.nodes(g, MLU, n, 8))
}

#[test]
fn selection_picks_the_cheapest_chip_per_unit_of_work() {
    // Per reference-device-hour: A100 14.00 / 1.0 = 14.00; 910B 9.00 / 0.6 = 15.00; MLU 5.60 / 0.3 = 18.67.
    let mut b = Builder::new();
    fleet(&mut b, 2);
    let t = b.tenant("bank", None, &[(A100, 16, None, None), (ASCEND, 16, None, None), (MLU, 16, None, None)]);
    let job = b.job("bank/llm", t, &[A100, ASCEND, MLU], 1, 8);
    let plan = b.schedule(&cost_policy(), 0);
    assert_eq!(binds_of(&plan, job)[0].model, A100);
    let sel = &plan.selections[0];
    assert_eq!(sel.alternatives.len(), 3, "every feasible model is recorded");
    assert!(sel.reason.contains("nvidia-a100"), "{}", sel.reason);
    let ascend = sel.alternatives.iter().find(|a| a.model == ASCEND).unwrap();
    assert!(ascend.rejected.as_deref().unwrap().contains("costs more"), "{ascend:?}");
    // 100 reference-device-hours on 8 A100s: 12.5 h × 8 × 14.00 = 1400.00.
    let a100 = sel.alternatives.iter().find(|a| a.model == A100).unwrap();
    assert_eq!(a100.cost, Some(Decimal::new(140000, 2)));

    // Cut the 910B's price to 7.20: 12.00 per unit of work, now the cheapest.
    b.s.catalogue.models[ASCEND.ix()].price_per_hour = Decimal::new(720, 2);
    assert_eq!(binds_of(&b.schedule(&cost_policy(), 0), job)[0].model, ASCEND);
}

#[test]
fn a_chip_that_misses_the_deadline_is_not_chosen() {
    let mut b = Builder::new();
    fleet(&mut b, 1);
    let t = b.tenant("bank", None, &[(A100, 8, None, None), (ASCEND, 8, None, None)]);
    let job = b.job("bank/llm", t, &[A100, ASCEND], 1, 8);
    b.s.catalogue.models[ASCEND.ix()].price_per_hour = Decimal::new(500, 2);
    // 100 h of work on 8 devices: A100 12.5 h, 910B 20.8 h. Deadline in 15 h.
    b.workload(job).deadline = Some(Seconds(15 * 3600));
    let plan = b.schedule(&cost_policy(), 0);
    assert_eq!(binds_of(&plan, job)[0].model, A100);
    let ascend = plan.selections[0].alternatives.iter().find(|a| a.model == ASCEND).unwrap();
    assert_eq!(ascend.rejected.as_deref(), Some("would miss the deadline"));
}

#[test]
fn speed_objective_takes_the_fastest_and_balanced_trades_within_the_slack() {
    let mut b = Builder::new();
    fleet(&mut b, 1);
    let t = b.tenant("bank", None, &[(A100, 8, None, None), (ASCEND, 8, None, None)]);
    let job = b.job("bank/llm", t, &[A100, ASCEND], 1, 8);
    b.s.catalogue.models[ASCEND.ix()].price_per_hour = Decimal::new(500, 2); // 8.33 per unit of work
    let speed = Policy { objective: Objective::Speed, ..Policy::default() };
    assert_eq!(binds_of(&b.schedule(&speed, 0), job)[0].model, A100);
    // Balanced: the 910B takes 20.8 h against 12.5 h: more than 1.25× — too slow.
    assert_eq!(binds_of(&b.schedule(&Policy::default(), 0), job)[0].model, A100);
    // With a slack of 2×, the cheaper 910B is within reach.
    let lenient = Policy { balanced_slack: 2.0, ..Policy::default() };
    assert_eq!(binds_of(&b.schedule(&lenient, 0), job)[0].model, ASCEND);
}

#[test]
fn models_without_memory_or_outside_residency_are_not_considered() {
    let mut b = Builder::new();
    let sh = b.cluster("sh");
    let bj = b.cluster("bj");
    let (g_sh, g_bj) = (b.group(sh), b.group(bj));
    b.nodes(g_sh, ASCEND, 1, 8);
    b.nodes(g_bj, A100, 1, 8);
    let t = b.tenant("bank", None, &[(A100, 8, None, None), (ASCEND, 8, None, None)]);
    b.s.tenants[t.ix()].allowed_clusters = Some(vec![sh]);
    let job = b.job("bank/llm", t, &[A100, ASCEND], 1, 8);
    b.workload(job).accepts[1].min_memory_gib = 80; // the 64 GiB 910B is too small
    let plan = b.schedule(&cost_policy(), 0);
    assert!(plan.binds.is_empty());
    let reason = pending_reason(&plan, job).unwrap();
    assert!(reason.contains("has 64 GiB, needs 80"), "{reason}");
    assert!(reason.contains("no cluster or node pool tenant bank may use"), "{reason}");
}

#[test]
fn a_gang_starts_whole_or_not_at_all() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    b.nodes(g, A100, 3, 8);
    let t = b.tenant("bank", None, &[(A100, 64, None, None)]);
    let job = b.job("bank/llm", t, &[A100], 4, 8);
    let plan = b.schedule(&Policy::default(), 0);
    assert!(plan.binds.is_empty(), "3 nodes cannot hold 4 × 8");
    let reason = pending_reason(&plan, job).unwrap();
    assert!(reason.starts_with("waiting for capacity: needs 4 × 8 devices of nvidia-a100"), "{reason}");
    assert!(reason.contains("free now: 24 nvidia-a100"), "{reason}");
}

#[test]
fn a_gang_goes_to_one_interconnect_group_on_the_fewest_nodes() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let (g0, g1) = (b.group(c), b.group(c));
    let small = b.nodes(g0, A100, 2, 8);
    let big = b.nodes(g1, A100, 3, 8);
    let t = b.tenant("bank", None, &[(A100, 64, None, None)]);
    let other = b.job("bank/other", t, &[A100], 1, 4);
    b.running(other, small[0], &[0, 1, 2, 3], UsageClass::Guaranteed, 0);
    // 6 replicas × 4 devices = 24: group 0 has 12 free, group 1 has 24: only group 1 holds it.
    let job = b.job("bank/llm", t, &[A100], 6, 4);
    let plan = b.schedule(&Policy::default(), 0);
    let binds = binds_of(&plan, job);
    assert_eq!(binds.len(), 6);
    assert!(binds.iter().all(|bd| big.contains(&bd.node)), "all in group 1");
    // 2 replicas of 4 per node, 3 nodes.
    let mut nodes: Vec<_> = binds.iter().map(|bd| bd.node).collect();
    nodes.dedup();
    assert_eq!(nodes.len(), 3);
}

#[test]
fn best_fit_keeps_whole_nodes_free_and_devices_stay_in_one_link_domain() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    let n = b.nodes(g, A100, 2, 8);
    let t = b.tenant("bank", None, &[(A100, 16, None, None)]);
    let other = b.job("bank/other", t, &[A100], 1, 4);
    b.running(other, n[0], &[0, 1, 2, 3], UsageClass::Guaranteed, 0);
    let job = b.job("bank/small", t, &[A100], 1, 4);
    let plan = b.schedule(&Policy::default(), 0);
    let bind = binds_of(&plan, job)[0];
    assert_eq!(bind.node, n[0], "the half-used node, not the empty one");
    assert_eq!(bind.devices, vec![4, 5, 6, 7], "the free link domain");
    let spread = Policy { packing: Packing::Spread, ..Policy::default() };
    assert_eq!(binds_of(&b.schedule(&spread, 0), job)[0].node, n[1]);
}

#[test]
fn non_preemptible_work_runs_only_within_guaranteed_quota() {
    let mut b = Builder::new();
    fleet(&mut b, 2);
    let t = b.tenant("bank", None, &[(A100, 8, None, None)]);
    let job = b.job("bank/llm", t, &[A100], 2, 8);
    let plan = b.schedule(&Policy::default(), 0);
    assert!(plan.binds.is_empty());
    let reason = pending_reason(&plan, job).unwrap();
    assert!(
        reason.contains("tenant bank has 0/8 guaranteed nvidia-a100 in use and the workload is not preemptible"),
        "{reason}"
    );
    // Preemptible, it borrows: 8 within nominal are not enough, so the whole gang is Borrowed.
    b.workload(job).preemptible = true;
    let plan = b.schedule(&Policy::default(), 0);
    assert!(binds_of(&plan, job).iter().all(|bd| bd.usage == UsageClass::Borrowed));
}

#[test]
fn borrowing_stops_at_the_borrowing_limit() {
    let mut b = Builder::new();
    fleet(&mut b, 4);
    let t = b.tenant("bank", None, &[(A100, 8, Some(8), None)]);
    let j1 = b.job("bank/a", t, &[A100], 1, 8);
    let j2 = b.job("bank/b", t, &[A100], 1, 8);
    let j3 = b.job("bank/c", t, &[A100], 1, 8);
    for j in [j1, j2, j3] {
        b.workload(j).preemptible = true;
    }
    let plan = b.schedule(&Policy::default(), 0);
    assert_eq!(plan.binds.len(), 2, "8 guaranteed + 8 borrowed");
    assert_eq!(binds_of(&plan, j1)[0].usage, UsageClass::Guaranteed);
    assert_eq!(binds_of(&plan, j2)[0].usage, UsageClass::Borrowed);
    let reason = pending_reason(&plan, j3).unwrap();
    assert!(reason.contains("its limit is 8 guaranteed + 8 borrowable"), "{reason}");
}

#[test]
fn lending_limits_keep_part_of_an_idle_quota_for_its_owner() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    b.nodes(g, A100, 4, 8); // 32 devices
    let root = b.tenant("group", None, &[]);
    let _bank = b.tenant("bank", Some(root), &[(A100, 24, None, Some(8))]); // keeps 16 of its 24
    let ins = b.tenant("insurer", Some(root), &[(A100, 8, None, None)]);
    let job = b.job("insurer/big", ins, &[A100], 3, 8);
    b.workload(job).preemptible = true;
    let plan = b.schedule(&Policy::default(), 0);
    assert!(plan.binds.is_empty(), "24 would leave 8 free, but the bank keeps 16");
    assert!(pending_reason(&plan, job).unwrap().contains("held back by other tenants' lending limits (16 kept"));
    b.workload(job).replicas_min = 2; // 16 = 8 own + 8 of the bank's lendable 8
    b.workload(job).replicas_wanted = 2;
    assert_eq!(b.schedule(&Policy::default(), 0).binds.len(), 2);
}

#[test]
fn a_tenant_within_nominal_reclaims_borrowed_devices_with_grace_and_minimal_victims() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    let n = b.nodes(g, A100, 2, 8);
    let root = b.tenant("group", None, &[]);
    let bank = b.tenant("bank", Some(root), &[(A100, 8, None, None)]);
    let ins = b.tenant("insurer", Some(root), &[(A100, 8, None, None)]);
    // The insurer uses all 16: 8 guaranteed, 8 borrowed in two 4-device jobs.
    let own = b.job("insurer/own", ins, &[A100], 1, 8);
    b.running(own, n[0], &[0, 1, 2, 3, 4, 5, 6, 7], UsageClass::Guaranteed, 0);
    let recent = b.job("insurer/recent", ins, &[A100], 1, 4);
    let old = b.job("insurer/old", ins, &[A100], 1, 4);
    for (j, devs, started) in [(recent, [0u16, 1, 2, 3], 3000), (old, [4, 5, 6, 7], 0)] {
        b.workload(j).preemptible = true;
        b.workload(j).checkpoint = Some(Checkpoint { interval: 3600, grace: 90 });
        b.running(j, n[1], &devs, UsageClass::Borrowed, started);
    }
    // The bank needs 4 of its guaranteed 8.
    let job = b.job("bank/risk", bank, &[A100], 1, 4);
    let plan = b.schedule(&Policy::default(), 3600);
    assert_eq!(plan.preemptions.len(), 1, "one 4-device victim is enough");
    let p = &plan.preemptions[0];
    assert_eq!((p.victim, p.for_workload, p.why, p.grace_seconds), (recent, job, VictimReason::BorrowedReclaim, 90));
    let bind = binds_of(&plan, job)[0];
    assert!(bind.after_preemption && bind.usage == UsageClass::Guaranteed);
    assert_eq!(bind.devices, vec![0, 1, 2, 3], "the victim's devices");
    // With reclaim switched off, the bank waits.
    let no_reclaim = Policy { reclaim_borrowed: false, ..Policy::default() };
    assert!(b.schedule(&no_reclaim, 3600).preemptions.is_empty());
}

/// One node of eight A100s, all held by the bank's `bank/low` at priority 0, the bank's quota
/// `quota` A100s: (builder, node, bank, low).
fn one_node_held_by_low_priority_work(quota: u32) -> (Builder, NodeId, TenantId, WorkloadId) {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    let n = b.nodes(g, A100, 1, 8)[0];
    let t = b.tenant("bank", None, &[(A100, quota, None, None)]);
    let low = b.job("bank/low", t, &[A100], 1, 8);
    b.running(low, n, &[0, 1, 2, 3, 4, 5, 6, 7], UsageClass::Guaranteed, 0);
    (b, n, t, low)
}

#[test]
fn higher_priority_preempts_lower_in_the_same_tenant_by_the_gap_only() {
    let (mut b, _, t, low) = one_node_held_by_low_priority_work(8);
    let high = b.job("bank/high", t, &[A100], 1, 8);
    b.workload(high).priority = 50;
    let plan = b.schedule(&Policy { min_priority_gap: 100, ..Policy::default() }, 10);
    assert!(plan.preemptions.is_empty(), "a gap of 50 is below the policy's 100");
    let plan = b.schedule(&Policy::default(), 10);
    assert_eq!(plan.preemptions[0].why, VictimReason::LowerPriority);
    assert_eq!(plan.preemptions[0].victim, low);
}

#[test]
fn a_device_that_failed_under_running_work_is_not_freed_by_preempting_it() {
    let (mut b, n, t, _) = one_node_held_by_low_priority_work(8);
    b.s.nodes[n.ix()].devices[3].healthy = false;
    let high = b.job("bank/high", t, &[A100], 1, 8);
    b.workload(high).priority = 500;
    let plan = b.schedule(&Policy::default(), 10);
    assert!(plan.preemptions.is_empty(), "stopping it would free 7 healthy devices, not 8: {plan:?}");
    assert!(binds_of(&plan, high).is_empty());
}

#[test]
fn nothing_is_preempted_for_a_workload_that_would_still_not_fit() {
    let (mut b, _, t, _) = one_node_held_by_low_priority_work(16);
    let high = b.job("bank/high", t, &[A100], 2, 8); // 16 devices; the fleet has 8
    b.workload(high).priority = 500;
    let plan = b.schedule(&Policy::default(), 10);
    assert!(plan.preemptions.is_empty() && plan.binds.is_empty());
    assert!(pending_reason(&plan, high).is_some());
}

#[test]
fn a_gang_stops_as_many_small_victims_as_it_needs_and_none_when_they_are_spread_too_thin() {
    // Two A100 nodes of one tenant: eight one-device jobs at priority 0, placed by `node_of`
    // (device `d` on node `node_of(d)`, at the node's next free device), a job at priority 1000
    // filling the rest, and a gang of eight at priority 500.
    let plan_for = |node_of: fn(u16) -> usize| {
        let mut b = Builder::new();
        let c = b.cluster("sh");
        let g = b.group(c);
        let n = b.nodes(g, A100, 2, 8);
        let t = b.tenant("bank", None, &[(A100, 16, None, None)]);
        let mut next = [0u16; 2];
        let mut small = Vec::new();
        for d in 0..8u16 {
            let w = b.job(&format!("bank/small-{d}"), t, &[A100], 1, 1);
            let node = node_of(d);
            b.running(w, n[node], &[next[node]], UsageClass::Guaranteed, 0);
            next[node] += 1;
            small.push(w);
        }
        let kept = b.job("bank/kept", t, &[A100], 2, 1);
        b.workload(kept).priority = 1000;
        for (node, &from) in next.iter().enumerate() {
            for d in from..8 {
                b.running(kept, n[node], &[d], UsageClass::Guaranteed, 0);
            }
        }
        let gang = b.job("bank/gang", t, &[A100], 1, 8);
        b.workload(gang).priority = 500;
        (b.schedule(&Policy::default(), 10), small, gang)
    };

    let (plan, small, gang) = plan_for(|_| 0);
    let mut victims: Vec<WorkloadId> = plan.preemptions.iter().map(|p| p.victim).collect();
    victims.sort();
    assert_eq!(victims, small, "all eight one-device jobs on the node the gang needs whole");
    assert_eq!(binds_of(&plan, gang).len(), 1);

    // Four on each node, beside the high-priority job: eight devices could be freed, but no node
    // would be whole.
    let (plan, _, gang) = plan_for(|d| usize::from(d % 2));
    assert!(plan.preemptions.is_empty() && binds_of(&plan, gang).is_empty(), "{:?}", plan.preemptions);
}

#[test]
fn preemptible_work_runs_on_lent_inference_devices_and_the_lender_takes_them_back() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    let n = b.nodes(g, A100, 1, 8);
    let t = b.tenant("bank", None, &[(A100, 8, None, None)]);
    let ins = b.tenant("insurer", None, &[]);
    let chat = b.job("bank/chat", t, &[A100], 1, 4);
    b.workload(chat).kind = WorkloadKind::Inference;
    b.running(chat, n[0], &[0, 1, 2, 3], UsageClass::Guaranteed, 0);
    for d in 4..8 {
        b.s.lent.push(Lent { node: n[0], device: d, lender: chat });
    }
    let train = b.job("insurer/vit", ins, &[A100], 1, 4);
    b.workload(train).preemptible = true;
    let plan = b.schedule(&Policy::default(), 0);
    let bind = binds_of(&plan, train)[0];
    assert_eq!((bind.usage, bind.devices.clone()), (UsageClass::Tidal, vec![4, 5, 6, 7]));

    // Night is over: the chatbot wants its second replica back.
    b.running(train, n[0], &[4, 5, 6, 7], UsageClass::Tidal, 0);
    b.workload(chat).replicas_wanted = 2;
    let plan = b.schedule(&Policy::default(), 100);
    assert_eq!(plan.preemptions[0].why, VictimReason::TidalReclaim);
    assert_eq!(binds_of(&plan, chat)[0].devices, vec![4, 5, 6, 7]);
}

#[test]
fn backfill_uses_reserved_nodes_only_for_work_that_ends_before_the_blocked_gang_starts() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    let n = b.nodes(g, A100, 2, 8);
    let t = b.tenant("bank", None, &[(A100, 32, None, None)]);
    // Half of node 1 runs a job expected to end at t = 12.5 h (100 ref-device-hours on 8 A100s).
    let running = b.job("bank/running", t, &[A100], 1, 8);
    b.running(running, n[1], &[0, 1, 2, 3, 4, 5, 6, 7], UsageClass::Guaranteed, 0);
    let gang = b.job("bank/gang", t, &[A100], 2, 8);
    b.workload(gang).priority = 10;
    // Two small jobs after it: one ends in 1 h, the other in 100 h.
    let short = b.job("bank/short", t, &[A100], 1, 8);
    b.workload(short).expected_work = Some(8.0);
    let long = b.job("bank/long", t, &[A100], 1, 8);
    b.workload(long).expected_work = Some(800.0);
    let plan = b.schedule(&Policy { preemption: false, ..Policy::default() }, 0);
    assert!(binds_of(&plan, gang).is_empty());
    assert!(pending_reason(&plan, gang).unwrap().contains("capacity is reserved for it from t=45000"));
    assert_eq!(binds_of(&plan, short)[0].node, n[0], "ends before the reservation");
    assert!(binds_of(&plan, long).is_empty(), "would delay the gang");
    let no_backfill = Policy { preemption: false, backfill: false, ..Policy::default() };
    let plan = b.schedule(&no_backfill, 0);
    assert_eq!(plan.binds.len(), 1, "without reservations the first small job takes the node");
}

#[test]
fn one_gang_reserves_per_partition_of_nodes_in_a_cycle() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    let a100 = b.nodes(g, A100, 2, 8);
    let ascend = b.nodes(g, ASCEND, 1, 8);
    let t = b.tenant("bank", None, &[(A100, 32, None, None), (ASCEND, 16, None, None)]);
    // Every node is busy: the A100s until t = 12.5 h and 25 h, the Ascend node for a while.
    for (node, work) in [(a100[0], 100.0), (a100[1], 200.0), (ascend[0], 100.0)] {
        let model = if node == ascend[0] { ASCEND } else { A100 };
        let running = b.job(&format!("bank/running-{}", node.0), t, &[model], 1, 8);
        b.workload(running).expected_work = Some(work);
        b.running(running, node, &[0, 1, 2, 3, 4, 5, 6, 7], UsageClass::Guaranteed, 0);
    }
    let first = b.job("bank/first", t, &[A100], 1, 8);
    b.workload(first).priority = 10;
    let second = b.job("bank/second", t, &[A100], 1, 8);
    b.workload(second).priority = 5;
    let elsewhere = b.job("bank/elsewhere", t, &[ASCEND], 1, 8);
    let plan = b.schedule(&Policy { preemption: false, ..Policy::default() }, 0);
    let reserved_from = |w| plan.pending.iter().find(|p| p.workload == w).and_then(|p| p.reserved_from);
    assert_eq!(reserved_from(first), Some(Seconds(45000)), "the first gang blocked on the A100s reserves");
    assert_eq!(reserved_from(second), None, "the A100s are reserved already: it waits behind the first");
    assert!(reserved_from(elsewhere).is_some(), "the Ascend nodes are another partition");
}

#[test]
fn a_blocked_gang_expects_running_gangs_to_end_at_their_scaling_efficiency() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let (g1, g2) = (b.group(c), b.group(c));
    let n1 = b.nodes(g1, A100, 2, 8);
    let n2 = b.nodes(g2, A100, 1, 8);
    let t = b.tenant("bank", None, &[(A100, 48, None, None)]);
    // A gang across two interconnect groups runs at 85 % of its devices' speed: 170
    // ref-device-hours on 16 A100s take 170 / (16 × 0.85) = 12.5 h, not 10.6 h.
    let running = b.job("bank/running", t, &[A100], 2, 8);
    b.workload(running).expected_work = Some(170.0);
    b.running(running, n1[0], &[0, 1, 2, 3, 4, 5, 6, 7], UsageClass::Guaranteed, 0);
    b.running(running, n2[0], &[0, 1, 2, 3, 4, 5, 6, 7], UsageClass::Guaranteed, 0);
    let gang = b.job("bank/gang", t, &[A100], 3, 8);
    let plan = b.schedule(&Policy { preemption: false, ..Policy::default() }, 0);
    assert!(binds_of(&plan, gang).is_empty());
    let reason = pending_reason(&plan, gang).unwrap();
    assert!(reason.contains("capacity is reserved for it from t=45000"), "{reason}");
}

#[test]
fn tenants_take_turns_by_weighted_dominant_share() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    b.nodes(g, A100, 3, 8);
    let root = b.tenant("group", None, &[]);
    let bank = b.tenant("bank", Some(root), &[(A100, 24, None, None)]);
    let ins = b.tenant("insurer", Some(root), &[(A100, 24, None, None)]);
    b.s.tenants[bank.ix()].weight = 2;
    let bank_jobs: Vec<_> = (0..3).map(|i| b.job(&format!("bank/{i}"), bank, &[A100], 1, 8)).collect();
    let ins_jobs: Vec<_> = (0..3).map(|i| b.job(&format!("insurer/{i}"), ins, &[A100], 1, 8)).collect();
    let plan = b.schedule(&Policy::default(), 0);
    let placed = |jobs: &[WorkloadId]| jobs.iter().filter(|j| !binds_of(&plan, **j).is_empty()).count();
    assert_eq!((placed(&bank_jobs), placed(&ins_jobs)), (2, 1), "weight 2 : 1 over 3 nodes");
}

#[test]
fn the_same_snapshot_gives_the_same_plan() {
    let mut b = Builder::new();
    fleet(&mut b, 3);
    let t = b.tenant("bank", None, &[(A100, 16, None, None), (ASCEND, 16, None, None)]);
    for i in 0..10 {
        b.job(&format!("bank/{i}"), t, &[A100, ASCEND, MLU], 1 + i % 3, 4);
    }
    assert_eq!(b.schedule(&Policy::default(), 5), b.schedule(&Policy::default(), 5));
}

#[test]
fn elastic_replicas_grow_only_on_what_every_gang_left() {
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    b.nodes(g, A100, 4, 8);
    let bank = b.tenant("bank", None, &[(A100, 32, None, None)]);
    let elastic = b.job("bank/elastic", bank, &[A100], 1, 8);
    b.workload(elastic).replicas_wanted = 4;
    let gang = b.job("bank/gang", bank, &[A100], 2, 8);
    b.workload(gang).priority = -5; // considered after the elastic job's gang
    let plan = b.schedule(&Policy::default(), 0);
    assert_eq!(binds_of(&plan, gang).len(), 2, "the gang is not starved by elastic growth");
    assert_eq!(binds_of(&plan, elastic).len(), 2, "one gang replica plus one elastic on the last node");
}

#[test]
fn baseline_knobs_first_acceptable_chip_and_fifo_admission() {
    let mut b = Builder::new();
    fleet(&mut b, 1);
    let t = b.tenant("bank", None, &[(A100, 8, None, None), (MLU, 8, None, None)]);
    // Listed MLU first: FirstAcceptable takes it although the A100 is cheaper per unit of work.
    let job = b.job("bank/llm", t, &[MLU, A100], 1, 8);
    let first = Policy { objective: Objective::FirstAcceptable, ..Policy::default() };
    assert_eq!(binds_of(&b.schedule(&first, 0), job)[0].model, MLU);
    assert_eq!(binds_of(&b.schedule(&cost_policy(), 0), job)[0].model, A100);

    // FIFO: the older job goes first whatever the priorities.
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    b.nodes(g, A100, 1, 8);
    let t = b.tenant("bank", None, &[(A100, 8, None, None)]);
    let old = b.job("bank/old", t, &[A100], 1, 8);
    let urgent = b.job("bank/urgent", t, &[A100], 1, 8);
    b.workload(urgent).priority = 900;
    let fifo = Policy { admission: Admission::Fifo, preemption: false, ..Policy::default() };
    assert_eq!(binds_of(&b.schedule(&fifo, 0), old).len(), 1);
    assert_eq!(binds_of(&b.schedule(&Policy::default(), 0), urgent).len(), 1);
}

#[test]
fn a_gang_preempts_node_by_node_when_the_cheapest_victims_are_spread_across_the_fleet() {
    // Twenty A100 nodes full of one-device jobs at priority 0; the later a job started, the less it
    // would lose, and the latest are spread one per node. A gang of eight at priority 500 needs a
    // whole node: the 64 cheapest jobs overall leave none whole, so it stops the eight on the node
    // whose jobs lose least together — node 0, whose jobs started last device for device.
    let mut b = Builder::new();
    let c = b.cluster("sh");
    let g = b.group(c);
    let n = b.nodes(g, A100, 20, 8);
    let t = b.tenant("bank", None, &[(A100, 160, None, None)]);
    let mut on_first = Vec::new();
    for (k, &node) in n.iter().enumerate() {
        for d in 0..8u16 {
            let w = b.job(&format!("bank/small-{k}-{d}"), t, &[A100], 1, 1);
            b.running(w, node, &[d], UsageClass::Guaranteed, 1000 - (i64::from(d) * 20 + k as i64));
            if k == 0 {
                on_first.push(w);
            }
        }
    }
    let gang = b.job("bank/gang", t, &[A100], 1, 8);
    b.workload(gang).priority = 500;
    let plan = b.schedule(&Policy::default(), 2000);
    let mut victims: Vec<WorkloadId> = plan.preemptions.iter().map(|p| p.victim).collect();
    victims.sort();
    assert_eq!(victims, on_first);
    let binds = binds_of(&plan, gang);
    assert_eq!(binds.len(), 1);
    assert_eq!(binds[0].node, n[0]);
}
