//! The Alibaba openb trace as a simulator input: its GPU fleet and its pods, replayed as jobs of
//! a three-institution group.
//!
//! Assumptions, where the trace is silent:
//! - **Fleet**: one cluster; every GPU node of `openb_node_list_gpu_node.csv.gz`, in one
//!   interconnect group per 8 nodes of a model. The undisclosed models `G2` and `G3` become
//!   catalogue entries of their own, `openb-g2` and `openb-g3`, with the figures of `nvidia-t4`
//!   (the trace's most common disclosed model): an assumption, not a fact.
//! - **Tenants**: pods go to bank / insurer / securities by position (5 / 3 / 2 of every 10);
//!   each gets that share of every model's devices as its nominal quota, may borrow as much
//!   again, and lends half.
//! - **Pods** are mapped by `traces::openb::map_pod`: latency-sensitive (LS) pods are inference
//!   services that hold their devices for their trace lifetime; best-effort (BE) and Burstable
//!   pods are preemptible training, Guaranteed pods non-preemptible training, with work equal to
//!   their trace running time on a T4. Training pods checkpoint every 30 minutes with 60 s grace.
//!   CPU-only and never-scheduled pods are skipped (counted in the tally).

use std::path::Path;

use tidepool_engine::{Checkpoint, Model, WorkloadKind};

use crate::scenario::{NodePool, QuotaConfig, Scenario, TenantConfig, WorkloadSource};
use crate::sim::fleet::Fleet;
use crate::sim::job::{Accepted, SimJob};
use crate::traces::openb::{MappingOptions, MappingTally, NodeReader, PodReader, catalogue_model, map_pod};

/// Institutions and their shares of pods and devices.
const TENANTS: [(&str, u32); 3] = [("bank", 5), ("insurer", 3), ("securities", 2)];

/// The catalogue name a trace GPU model replays as.
fn model_name(trace: &str) -> String {
    catalogue_model(trace).map(str::to_owned).unwrap_or_else(|| format!("openb-{}", trace.to_lowercase()))
}

/// The trace's fleet and its pods as jobs, in arrival order, with what was skipped.
pub fn load(dir: &Path) -> Result<(Scenario, Fleet, Vec<SimJob>, MappingTally), String> {
    let nodes = NodeReader::open(dir.join("openb_node_list_gpu_node.csv.gz")).map_err(|e| e.to_string())?;
    let mut pools: Vec<(String, u32, u32)> = Vec::new(); // (model, nodes, devices per node)
    for node in nodes {
        let node = node.map_err(|e| e.to_string())?;
        let Some(model) = node.gpu_model.as_deref().filter(|_| node.gpus > 0) else { continue };
        let name = model_name(model);
        match pools.iter_mut().find(|(m, _, d)| *m == name && *d == node.gpus) {
            Some(pool) => pool.1 += 1,
            None => pools.push((name, 1, node.gpus)),
        }
    }
    pools.sort();
    let mut per_model: Vec<(String, u32)> = Vec::new();
    for (m, n, d) in &pools {
        match per_model.iter_mut().find(|(x, _)| x == m) {
            Some(e) => e.1 += n * d,
            None => per_model.push((m.clone(), n * d)),
        }
    }
    let scenario = Scenario {
        name: "alibaba-openb".into(),
        description: "Alibaba GPU cluster trace (openb, 2023) replayed as a three-institution group".into(),
        clusters: vec!["openb".into()],
        node_pools: pools
            .iter()
            .map(|(model, nodes, devices)| NodePool {
                cluster: "openb".into(),
                model: model.clone(),
                nodes: *nodes,
                devices_per_node: *devices,
                nodes_per_group: 8,
            })
            .collect(),
        tenants: TENANTS
            .iter()
            .map(|(name, share)| TenantConfig {
                name: (*name).into(),
                weight: *share,
                allowed_clusters: Vec::new(),
                quotas: per_model
                    .iter()
                    .map(|(model, devices)| {
                        let nominal = devices * share / 10;
                        QuotaConfig {
                            family: None,
                            model: Some(model.clone()),
                            nominal,
                            borrowing_limit: Some(nominal),
                            lending_limit: Some(nominal / 2),
                        }
                    })
                    .collect(),
            })
            .collect(),
        catalogue: Vec::new(),
        objective: "Balanced".into(),
        workload: WorkloadSource { generator: None },
        cycle_seconds: 60,
    };
    let fleet = Fleet::build_with(&scenario, |catalogue| {
        let t4 = catalogue.model_id("nvidia-t4").map(|id| catalogue.model(id).clone());
        for (model, _) in &per_model {
            if catalogue.model_id(model).is_none()
                && let Some(t4) = &t4
            {
                catalogue.models.push(Model { name: model.clone(), ..t4.clone() });
            }
        }
    })?;

    let pods = PodReader::open(dir.join("openb_pod_list_default.csv.gz")).map_err(|e| e.to_string())?;
    let options = MappingOptions::default();
    let mut tally = MappingTally::default();
    let mut jobs = Vec::new();
    for (i, pod) in pods.enumerate() {
        let pod = pod.map_err(|e| e.to_string())?;
        let mapped = map_pod(&pod, &options);
        tally.add(&mapped);
        let Ok(w) = mapped else { continue };
        let slot = (i % 10) as u32;
        let tenant = if slot < 5 {
            0
        } else if slot < 8 {
            1
        } else {
            2
        };
        let accepts = if w.allowed_models.is_empty() {
            vec![Accepted::Family("nvidia".into())]
        } else {
            w.allowed_models.iter().map(|m| Accepted::Model(model_name(m))).collect()
        };
        let service = w.kind == WorkloadKind::Inference;
        jobs.push(SimJob {
            name: w.name,
            arrival: w.submitted,
            tenant,
            kind: w.kind,
            class: w.class,
            replicas: 1,
            devices_per_replica: w.devices,
            work: w.expected_work,
            lifetime: service.then_some(w.run_time.max(1)),
            hourly_shares: None,
            service_rate: options.inference_runtime_throughput,
            priority: w.priority,
            preemptible: w.preemptible,
            checkpoint: (!service).then_some(Checkpoint { interval: 1800, grace: 60 }),
            accepts,
        });
    }
    jobs.sort_by_key(|j| j.arrival);
    Ok((scenario, fleet, jobs, tally))
}
