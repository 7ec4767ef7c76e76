//! Capacity planning: the smallest fleet that meets a service level under each policy.
//!
//! The scenario's fleet is scaled by a factor — every node pool's node count (rounded up), and
//! every quota by how much its family or model grew (rounded down) — and the workload replayed; the service level is met when every
//! tenant's p95 queueing delay (jobs still waiting at the end counted with their delay so far) is
//! at most the target. The smallest factor is found by bisection between 0.1 and 4, to 0.05
//! (assuming more devices never make delays worse). Monthly cost is what the fleet itself costs at
//! transfer prices over 730 hours, used or not.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::compare::run_policy;
use crate::scenario::Scenario;
use crate::sim::fleet::Fleet;
use crate::sim::job::SimJob;
use crate::sim::policies::PolicyKind;

/// The smallest fleet meeting the service level under one policy.
#[derive(Clone, Debug, Serialize)]
pub struct Sizing {
    /// Policy name.
    pub policy: String,
    /// Scale factor of the scenario's fleet; `None` when even 4× misses the target.
    pub scale: Option<f64>,
    /// Devices in that fleet.
    pub devices: u32,
    /// The fleet's cost per month at transfer prices (730 h).
    pub monthly_cost: Decimal,
    /// Worst tenant p95 queueing delay there, hours.
    pub worst_p95_hours: f64,
}

/// The scenario with its fleet scaled by `factor` (node counts rounded up) and every quota scaled
/// by how much its family or model actually grew (rounded down), so quotas keep their share.
pub fn scaled(scenario: &Scenario, factor: f64) -> Scenario {
    let mut s = scenario.clone();
    let catalogue = tidepool_crds::Catalogue::builtin();
    let family_of = |model: &str| catalogue.get(model).map(|m| m.spec.family.as_str().to_owned());
    let mut before: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for pool in &mut s.node_pools {
        let old = pool.nodes * pool.devices_per_node;
        pool.nodes = (f64::from(pool.nodes) * factor).ceil() as u32;
        let new = pool.nodes * pool.devices_per_node;
        for key in [Some(pool.model.clone()), family_of(&pool.model)].into_iter().flatten() {
            let e = before.entry(key).or_default();
            e.0 += old;
            e.1 += new;
        }
    }
    for t in &mut s.tenants {
        for q in &mut t.quotas {
            let key = q.model.clone().or_else(|| q.family.clone()).unwrap_or_default();
            let ratio = before
                .get(&key)
                .filter(|(old, _)| *old > 0)
                .map_or(factor, |(old, new)| f64::from(*new) / f64::from(*old));
            let scale = |v: u32| scale_down(v, ratio);
            q.nominal = scale_down(q.nominal, ratio);
            q.borrowing_limit = q.borrowing_limit.map(scale);
            q.lending_limit = q.lending_limit.map(scale);
        }
    }
    s
}

fn scale_down(v: u32, ratio: f64) -> u32 {
    (f64::from(v) * ratio + 1e-9).floor() as u32
}

/// Sizes the fleet for every policy. `source` makes the jobs for a fleet (so generated jobs
/// follow the fleet's chips); `horizon` bounds each run.
pub fn size_fleet<S, I>(
    scenario: &Scenario,
    p95_hours: f64,
    horizon: Option<i64>,
    source: S,
) -> Result<Vec<Sizing>, String>
where
    S: Fn(&Fleet) -> I + Sync,
    I: IntoIterator<Item = SimJob>,
{
    let evaluate = |kind: PolicyKind, factor: f64| -> Result<(f64, Fleet), String> {
        let s = scaled(scenario, factor);
        let fleet = Fleet::build(&s)?;
        let report = run_policy(&s, &fleet, kind, horizon, None, source(&fleet));
        let worst = report.queueing_delay.values().map(|p| p.p95_hours).fold(0.0, f64::max);
        Ok((worst, fleet))
    };
    let results: Vec<Result<Sizing, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = PolicyKind::ALL
            .iter()
            .map(|&kind| {
                let evaluate = &evaluate;
                scope.spawn(move || -> Result<Sizing, String> {
                    let (mut lo, mut hi) = (0.1_f64, 4.0_f64);
                    let (worst_hi, _) = evaluate(kind, hi)?;
                    if worst_hi > p95_hours {
                        return Ok(Sizing {
                            policy: kind.name().into(),
                            scale: None,
                            devices: 0,
                            monthly_cost: Decimal::ZERO,
                            worst_p95_hours: worst_hi,
                        });
                    }
                    while hi - lo > 0.05 {
                        let mid = (lo + hi) / 2.0;
                        if evaluate(kind, mid)?.0 <= p95_hours { hi = mid } else { lo = mid }
                    }
                    let scale = (hi * 100.0).round() / 100.0;
                    let (worst, fleet) = evaluate(kind, scale)?;
                    let mut devices = 0;
                    let mut monthly = Decimal::ZERO;
                    for (m, n) in fleet.devices_per_model().iter().enumerate() {
                        devices += n;
                        monthly +=
                            fleet.base.catalogue.models[m].price_per_hour * Decimal::from(*n) * Decimal::from(730);
                    }
                    Ok(Sizing {
                        policy: kind.name().into(),
                        scale: Some(scale),
                        devices,
                        monthly_cost: monthly.round_dp(2),
                        worst_p95_hours: worst,
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a sizing run panicked".into()))).collect()
    });
    results.into_iter().collect()
}

/// Sizing results as a table.
pub fn table(sizings: &[Sizing], p95_hours: f64) -> String {
    let mut out = format!("\nsmallest fleet with every tenant's p95 queueing delay ≤ {p95_hours} h\n");
    out.push_str(&format!(
        "{:<11} {:>7} {:>8} {:>16} {:>12}\n",
        "policy", "scale", "devices", "CNY per month", "worst p95 h"
    ));
    for s in sizings {
        match s.scale {
            Some(scale) => out.push_str(&format!(
                "{:<11} {:>6.2}× {:>8} {:>16} {:>12.2}\n",
                s.policy,
                scale,
                s.devices,
                s.monthly_cost.to_string(),
                s.worst_p95_hours
            )),
            None => {
                out.push_str(&format!("{:<11} not met even at 4× (worst p95 {:.2} h)\n", s.policy, s.worst_p95_hours))
            }
        }
    }
    out
}
