//! Words for people: why a model was chosen, why another was not, why a workload waits.

use std::fmt::Write;

use crate::cycle::Cycle;
use crate::ids::{ModelId, Seconds, WorkloadId};
use crate::policy::Objective;
use crate::quota::QuotaBlock;
use crate::schedule::Attempt;
use crate::select::Option_;
use crate::snapshot::Snapshot;
use crate::tenants::QuotaKey;

fn key_name(s: &Snapshot, key: QuotaKey) -> String {
    match key {
        QuotaKey::Family(f) => s.catalogue.families[f.ix()].clone(),
        QuotaKey::Model(m) => s.catalogue.model(m).name.clone(),
    }
}

/// A quota block in one clause.
pub(crate) fn block(s: &Snapshot, b: &QuotaBlock) -> String {
    match b {
        QuotaBlock::Limit { tenant, quota, used } => format!(
            "tenant {} has {used} {} devices in use, its limit is {} guaranteed + {} borrowable",
            s.tenants[tenant.ix()].name,
            key_name(s, quota.key),
            quota.nominal,
            quota.borrowing_limit.unwrap_or(0)
        ),
        QuotaBlock::NotPreemptible { tenant: Some((t, q, used)) } => format!(
            "tenant {} has {used}/{} guaranteed {} in use and the workload is not preemptible, so it cannot borrow",
            s.tenants[t.ix()].name,
            q.nominal,
            key_name(s, q.key)
        ),
        QuotaBlock::NotPreemptible { tenant: None } => {
            "its tenant has no quota for this accelerator and the workload is not preemptible, so it cannot borrow"
                .into()
        }
        QuotaBlock::HeldBack { held } => {
            format!("the free devices are held back by other tenants' lending limits ({held} kept for them)")
        }
    }
}

/// Why `pick` beat `other`.
pub(crate) fn why_not(s: &Snapshot, other: &Option_, pick: &Option_, objective: Objective) -> String {
    if pick.meets_deadline && !other.meets_deadline {
        return "would miss the deadline".into();
    }
    match objective {
        Objective::Speed => "slower".into(),
        Objective::FirstAcceptable => "listed later among the workload's accelerators".into(),
        _ if other.cost_per_work > pick.cost_per_work => format!(
            "costs more per unit of work than {} ({:.2} vs {:.2} per reference-device-hour)",
            s.catalogue.model(pick.model).name,
            other.cost_per_work,
            pick.cost_per_work
        ),
        _ => "cheaper, but finishes too late for the Balanced objective".into(),
    }
}

/// Why the chosen model won.
pub(crate) fn chosen(s: &Snapshot, pick: &Option_, options: usize, objective: Objective, has_deadline: bool) -> String {
    let name = &s.catalogue.model(pick.model).name;
    let run = match pick.hours {
        Some(h) => format!(" ({:.1} h, {} expected)", h, pick.cost),
        None => format!(" ({} per hour)", pick.cost),
    };
    let deadline = if has_deadline && !pick.meets_deadline { "; no option meets the deadline" } else { "" };
    let rule = match objective {
        Objective::Cost => "cheapest per unit of work",
        Objective::Speed => "fastest",
        Objective::FirstAcceptable => "first accepted",
        Objective::Balanced => "cheapest per unit of work among those finishing near the fastest",
    };
    format!("{name}: {rule} of {options} model(s) that can start now{run}{deadline}")
}

/// Why a workload waits, in one sentence a person can act on; `reserved_from`: when backfill
/// reserved capacity for it to start.
pub(crate) fn pending(
    cx: &Cycle,
    w: WorkloadId,
    attempt: &Attempt,
    replicas: u32,
    reserved_from: Option<Seconds>,
) -> String {
    let s = cx.s;
    let wl = &s.workloads[w.ix()];
    let tenant = &s.tenants[wl.tenant.ix()].name;
    if attempt.candidates.is_empty() {
        if attempt.excluded.is_empty() {
            return "none of its accepted accelerators is in the catalogue".into();
        }
        let why: Vec<String> =
            attempt.excluded.iter().take(3).map(|(m, why)| format!("{} {why}", s.catalogue.model(*m).name)).collect();
        return format!("no accepted accelerator can run it: {}", why.join("; "));
    }
    // Written straight into one string: a long queue asks for this for every waiting workload,
    // every cycle.
    let name = |m: &ModelId| s.catalogue.model(*m).name.as_str();
    let mut text = String::new();
    if !attempt.no_room.is_empty() {
        let _ = write!(text, "waiting for capacity: needs {replicas} × {} devices of ", wl.devices_per_replica);
        for (i, m) in attempt.no_room.iter().enumerate() {
            text.push_str(if i == 0 { "" } else { " or " });
            text.push_str(name(m));
        }
        let _ = write!(text, " together in one cluster tenant {tenant} may use (free now: ");
        for (i, m) in attempt.no_room.iter().enumerate() {
            let free: u32 = attempt
                .candidates
                .iter()
                .filter(|c| c.model == *m)
                .flat_map(|c| &c.partitions)
                .map(|&p| cx.cap.partitions[p].total_free)
                .sum();
            let _ = write!(text, "{}{free} {}", if i == 0 { "" } else { ", " }, name(m));
        }
        text.push(')');
        if let Some(at) = reserved_from {
            let _ = write!(text, "; capacity is reserved for it from t={}", at.0);
        }
    }
    for (m, b) in attempt.blocks.iter().take(2) {
        let _ = write!(text, "{}on {}: {}", if text.is_empty() { "" } else { "; " }, name(m), block(s, b));
    }
    text
}
