//! The `describe` subcommand: a group cloud as tables — the catalogue, the tenant tree with quotas
//! and placement rules, the policy, and for each workload the chips it may run on with what it
//! would cost there. It estimates from list figures; placement itself is the engine's job.

use std::collections::BTreeMap;
use std::path::PathBuf;

use kube::ResourceExt;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use tidepool_crds::manifests::ApiObject;
use tidepool_crds::tenant::Tenant;
use tidepool_crds::{AcceleratorChoice, Catalogue, WorkloadClass};

use crate::commands::{catalogue_table, load_valid};
use crate::table::Table;

pub fn describe_files(files: &[PathBuf]) -> Result<(), String> {
    let objects = load_valid(files)?;
    let overrides = objects.iter().filter_map(|o| match o {
        ApiObject::AcceleratorModel(m) => Some(m.clone()),
        _ => None,
    });
    let catalogue = Catalogue::builtin().with_overrides(overrides);
    let tenants: Vec<&Tenant> = objects
        .iter()
        .filter_map(|o| match o {
            ApiObject::Tenant(t) => Some(t),
            _ => None,
        })
        .collect();

    println!(
        "ACCELERATOR CATALOGUE ({} models; prices in CNY per device-hour; throughput relative to A100-80G = 1.0)\n",
        catalogue.len()
    );
    println!("{}", catalogue_table(&catalogue));
    println!("TENANTS\n");
    println!("{}", tenant_table(&tenants));
    for object in &objects {
        if let ApiObject::SchedulingPolicy(p) = object {
            let s = &p.spec;
            println!(
                "POLICY {}: objective {:?}, packing {:?}, preemption {}, tidal lending {} (horizon {} min, margin {}%), charged at {:?} price in {}\n",
                p.name_any(),
                s.objective,
                s.packing,
                if s.preemption.enabled { "on" } else { "off" },
                if s.tidal.enabled { "on" } else { "off" },
                s.tidal.horizon_minutes,
                s.tidal.safety_margin_percent,
                s.pricing.basis,
                s.pricing.currency,
            );
        }
    }
    println!("WORKLOADS: where each may run and what it would cost (transfer prices)\n");
    for object in &objects {
        match object {
            ApiObject::TrainingJob(job) => {
                let s = &job.spec;
                let work = s.expected_work.as_deref().and_then(|w| w.parse::<Decimal>().ok());
                let devices = s.replicas.min * s.devices_per_replica;
                println!(
                    "TrainingJob {}/{} — tenant {}: {} × {} devices ({} in all), {}, {}, priority {}{}",
                    job.namespace().unwrap_or_default(),
                    job.name_any(),
                    owner(&tenants, job.namespace().as_deref()),
                    replicas_text(s.replicas.min, s.replicas.max),
                    s.devices_per_replica,
                    devices,
                    s.workload_class,
                    work.map(|w| format!("{w} reference-device-hours")).unwrap_or_else(|| "work unknown".into()),
                    s.priority,
                    if s.preemptible { ", preemptible" } else { "" },
                );
                print!("{}", options_table(&catalogue, &s.accelerators, s.workload_class, devices, work));
            }
            ApiObject::InferenceService(svc) => {
                let s = &svc.spec;
                println!(
                    "InferenceService {}/{} — tenant {}: {} replicas × {} device(s) each, {}, peak {} req/s at {}% target utilisation{}",
                    svc.namespace().unwrap_or_default(),
                    svc.name_any(),
                    owner(&tenants, svc.namespace().as_deref()),
                    replicas_text(s.replicas.min, s.replicas.max),
                    s.devices_per_replica,
                    s.workload_class,
                    s.demand.peak_requests_per_second,
                    s.target_utilization_percent,
                    if s.tidal.may_lend { ", lends idle devices" } else { "" },
                );
                print!("{}", serving_table(&catalogue, svc));
            }
            _ => continue,
        }
        println!();
    }
    Ok(())
}

fn replicas_text(min: u32, max: Option<u32>) -> String {
    match max {
        Some(max) if max != min => format!("{min}–{max}"),
        _ => min.to_string(),
    }
}

fn owner(tenants: &[&Tenant], namespace: Option<&str>) -> String {
    tenants
        .iter()
        .find(|t| namespace.is_some_and(|ns| t.spec.namespaces.iter().any(|n| n == ns)))
        .map(|t| t.name_any())
        .unwrap_or_else(|| "none (namespace owned by no tenant)".into())
}

fn money(d: Decimal) -> String {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero).to_string()
}

fn tenant_table(tenants: &[&Tenant]) -> String {
    let by_parent: BTreeMap<Option<String>, Vec<&Tenant>> = tenants.iter().fold(BTreeMap::new(), |mut m, t| {
        m.entry(t.spec.parent.clone()).or_insert_with(Vec::new).push(*t);
        m
    });
    let mut t = Table::new(&[
        "tenant",
        "cost centre",
        "weight",
        "namespaces",
        "quotas (nominal/borrow/lend)",
        "clusters",
        "isolation",
    ]);
    let mut stack: Vec<(&Tenant, usize)> = by_parent.get(&None).into_iter().flatten().rev().map(|t| (*t, 0)).collect();
    while let Some((tenant, depth)) = stack.pop() {
        let s = &tenant.spec;
        let quotas = s
            .quotas
            .iter()
            .map(|q| {
                let target = q.family.map(|f| f.to_string()).or_else(|| q.model.clone()).unwrap_or_default();
                let limit = |l: Option<u32>| l.map(|v| v.to_string()).unwrap_or_else(|| "∞".into());
                format!(
                    "{target} {}/{}/{}",
                    q.nominal,
                    limit(q.borrowing_limit),
                    limit(q.lending_limit.or(Some(q.nominal)))
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let clusters = if s.placement.allowed_clusters.is_empty() {
            "any".to_owned()
        } else {
            s.placement.allowed_clusters.join(",")
        };
        t.row(vec![
            format!("{}{}", "  ".repeat(depth), tenant.name_any()),
            s.cost_center.clone().unwrap_or_else(|| "-".into()),
            s.weight.to_string(),
            if s.namespaces.is_empty() { "-".into() } else { s.namespaces.join(",") },
            if quotas.is_empty() { "-".into() } else { quotas },
            clusters,
            format!("{:?}", s.placement.isolation),
        ]);
        for child in by_parent.get(&Some(tenant.name_any())).into_iter().flatten().rev() {
            stack.push((child, depth + 1));
        }
    }
    t.render()
}

/// Chips a training job may use: cost per hour for its gang and, when its work is known, the
/// expected runtime and total cost (work ÷ (devices × throughput), ignoring scaling losses).
fn options_table(
    catalogue: &Catalogue,
    choices: &[AcceleratorChoice],
    class: WorkloadClass,
    devices: u32,
    work: Option<Decimal>,
) -> String {
    let mut t = Table::new(&["  may run on", "mem GiB", "throughput", "cost/h", "hours", "total cost", ""]);
    let candidates = catalogue.candidates(choices, class);
    let mut rows = Vec::new();
    for c in &candidates {
        let price: Decimal = c.model.spec.prices.transfer.parse().unwrap_or_default();
        let per_hour = price * Decimal::from(devices);
        let (hours, total) = match (work, c.throughput) {
            (Some(w), Some(tp)) if !tp.is_zero() => {
                let hours = w / (Decimal::from(devices) * tp);
                (Some(hours), Some(hours * per_hour))
            }
            _ => (None, None),
        };
        rows.push((c, per_hour, hours, total));
    }
    let best = rows.iter().filter_map(|r| r.3.map(|total| (total, r.0.model.name_any()))).min().map(|(_, n)| n);
    for (c, per_hour, hours, total) in rows {
        let name = c.model.name_any();
        t.row(vec![
            format!("  {name}"),
            c.model.spec.memory_gib.to_string(),
            c.throughput.map(|d| d.to_string()).unwrap_or_else(|| "no figure".into()),
            money(per_hour),
            hours.map(|h| h.round_dp(1).to_string()).unwrap_or_else(|| "-".into()),
            total.map(money).unwrap_or_else(|| "-".into()),
            if best.as_deref() == Some(name.as_str()) { "← cheapest for the work".into() } else { String::new() },
        ]);
    }
    if candidates.is_empty() {
        return "  no catalogue model matches its accelerators\n".into();
    }
    t.render()
}

/// Chips a service may use: replicas needed at peak (peak ÷ (capacity × target utilisation),
/// within min..max) and the cost per hour at peak.
fn serving_table(catalogue: &Catalogue, svc: &tidepool_crds::InferenceService) -> String {
    let s = &svc.spec;
    let peak: Decimal = s.demand.peak_requests_per_second.parse().unwrap_or_default();
    let utilisation = Decimal::from(s.target_utilization_percent) / Decimal::ONE_HUNDRED;
    let mut t = Table::new(&[
        "  may run on",
        "mem GiB",
        "req/s per replica",
        "replicas at peak",
        "cost/h at peak",
        "cost per 1M requests",
    ]);
    let candidates = catalogue.candidates(&s.accelerators, s.workload_class);
    if candidates.is_empty() {
        return "  no catalogue model matches its accelerators\n".into();
    }
    for c in candidates {
        let capacity: Decimal =
            c.choice.capacity_requests_per_second.as_deref().and_then(|v| v.parse().ok()).unwrap_or_default();
        let usable = capacity * utilisation;
        let needed = if usable.is_zero() {
            s.replicas.max_or_min()
        } else {
            (peak / usable).ceil().to_u32().unwrap_or(u32::MAX)
        };
        let replicas = needed.clamp(s.replicas.min, s.replicas.max_or_min());
        let price: Decimal = c.model.spec.prices.transfer.parse().unwrap_or_default();
        let per_hour = price * Decimal::from(replicas * s.devices_per_replica);
        let served_per_hour = (usable * Decimal::from(replicas)).min(peak) * Decimal::from(3600);
        let per_million = if served_per_hour.is_zero() {
            "-".into()
        } else {
            money(per_hour / served_per_hour * Decimal::from(1_000_000))
        };
        t.row(vec![
            format!("  {}", c.model.name_any()),
            c.model.spec.memory_gib.to_string(),
            capacity.to_string(),
            if needed > replicas { format!("{replicas} (needs {needed})") } else { replicas.to_string() },
            money(per_hour),
            per_million,
        ]);
    }
    t.render()
}
