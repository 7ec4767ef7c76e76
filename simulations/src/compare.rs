//! One run per policy over the same jobs, side by side, and the outputs: a table, JSON keyed by
//! policy, CSV.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::scenario::Scenario;
use crate::sim::fleet::Fleet;
use crate::sim::job::SimJob;
use crate::sim::metrics::PolicyReport;
use crate::sim::policies::PolicyKind;
use crate::sim::run::Run;

/// Every policy's report for one scenario.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Scenario name.
    pub scenario: String,
    /// Reports keyed by policy name (`static`, `pooled`, `chip-aware`).
    #[serde(flatten)]
    pub policies: BTreeMap<String, PolicyReport>,
}

/// Runs each policy on the scenario's fleet over the jobs `source` makes (called once per policy,
/// so each run replays the same stream), up to `horizon` seconds (or until every job is done),
/// reporting simulated time to `progress` when given. Policies run on parallel threads; results do not depend
/// on it.
pub fn compare<S, I>(
    scenario: &Scenario,
    fleet: &Fleet,
    policies: &[PolicyKind],
    horizon: Option<i64>,
    progress: Option<&crate::progress::Progress>,
    source: S,
) -> Comparison
where
    S: Fn() -> I + Sync,
    I: IntoIterator<Item = SimJob>,
{
    let reports: Vec<PolicyReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = policies
            .iter()
            .map(|&kind| {
                let source = &source;
                scope.spawn(move || {
                    // One bar, on the chip-aware run; the others run alongside it.
                    let progress = progress.filter(|_| kind == PolicyKind::ChipAware);
                    run_policy(scenario, fleet, kind, horizon, progress, source())
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    Comparison {
        scenario: scenario.name.clone(),
        policies: reports.into_iter().map(|r| (r.policy.clone(), r)).collect(),
    }
}

/// One policy's run of the scenario's fleet over `jobs`, up to `horizon` seconds.
pub fn run_policy(
    scenario: &Scenario,
    fleet: &Fleet,
    kind: PolicyKind,
    horizon: Option<i64>,
    progress: Option<&crate::progress::Progress>,
    jobs: impl IntoIterator<Item = SimJob>,
) -> PolicyReport {
    let (snapshot, policy) = kind.prepare(fleet, scenario.engine_objective());
    let mut run = Run::new(fleet, snapshot, policy, scenario.cycle_seconds);
    if let Some(p) = progress {
        run = run.with_progress(p);
    }
    run.run(jobs, horizon, kind.name())
}

impl Comparison {
    /// The comparison as a table for people.
    pub fn table(&self) -> String {
        let mut out = format!("scenario {}\n\n", self.scenario);
        out.push_str(&format!(
            "{:<11} {:>14} {:>13} {:>13} {:>7} {:>9} {:>9} {:>11} {:>10}\n",
            "policy",
            "cost (CNY)",
            "work (ref-h)",
            "CNY per ref-h",
            "util",
            "done",
            "waiting",
            "preempted",
            "lost ref-h"
        ));
        for r in self.ordered() {
            out.push_str(&format!(
                "{:<11} {:>14} {:>13.1} {:>13.3} {:>6.1}% {:>9} {:>9} {:>11} {:>10.1}\n",
                r.policy,
                r.cost.to_string(),
                r.work,
                r.cost_per_work,
                r.utilisation_total * 100.0,
                r.jobs.completed,
                r.jobs.queued_at_end,
                r.preemptions,
                r.lost_work
            ));
        }
        out.push_str("\nqueueing delay, hours (p50 / p95) per tenant\n");
        for r in self.ordered() {
            let cells: Vec<String> =
                r.queueing_delay.iter().map(|(t, p)| format!("{t} {:.2} / {:.2}", p.p50_hours, p.p95_hours)).collect();
            out.push_str(&format!("{:<11} {}\n", r.policy, cells.join("   ")));
        }
        if let (Some(s), Some(c)) = (self.policies.get("static"), self.policies.get("chip-aware"))
            && s.cost_per_work > 0.0
        {
            out.push_str(&format!(
                "\ncost per unit of work, chip-aware / static: {:.3}",
                c.cost_per_work / s.cost_per_work
            ));
            if let Some(p) = self.policies.get("pooled") {
                out.push_str(&format!("; pooled / static: {:.3}", p.cost_per_work / s.cost_per_work));
            }
            out.push('\n');
        }
        out
    }

    fn ordered(&self) -> impl Iterator<Item = &PolicyReport> {
        PolicyKind::ALL.iter().filter_map(|k| self.policies.get(k.name()))
    }

    /// One CSV row per policy.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "policy,cost,work_ref_device_hours,cost_per_work,utilisation,completed,queued_at_end,running_at_end,failed,preemptions,lost_work\n",
        );
        for r in self.ordered() {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{}\n",
                r.policy,
                r.cost,
                r.work,
                r.cost_per_work,
                r.utilisation_total,
                r.jobs.completed,
                r.jobs.queued_at_end,
                r.jobs.running_at_end,
                r.jobs.failed,
                r.preemptions,
                r.lost_work
            ));
        }
        out
    }
}
