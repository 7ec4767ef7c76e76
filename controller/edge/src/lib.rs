//! The edge between the API and the engine: converts `tidepool.dev` objects — the catalogue,
//! tenants, training jobs, inference services and the scheduling policy — into the engine's
//! snapshot types. The fleet (clusters, groups, nodes, devices) is not part of the API; the
//! controller builds it from Kubernetes nodes and agents, the simulator from its scenario.
//!
//! Objects are expected to have passed `Validate`; what validation cannot know (a model or a
//! parent that does not exist) is reported as a [`ConvertError`] naming the object and field.

use std::collections::BTreeMap;

use kube::ResourceExt;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use tidepool_crds::scheduling_policy::{
    Objective as ApiObjective, Packing as ApiPacking, PriceBasis, SchedulingPolicySpec,
};
use tidepool_crds::tenant::{Isolation, Tenant as ApiTenant};
use tidepool_crds::{AcceleratorChoice, Family, InferenceService, TrainingJob, WorkloadClass as ApiClass};
use tidepool_engine as engine;

/// An object that names something the snapshot does not have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{object}: {field}: {problem}")]
pub struct ConvertError {
    /// `Kind/name` of the object.
    pub object: String,
    /// Field path.
    pub field: String,
    /// What is wrong.
    pub problem: String,
}

/// The engine's catalogue from the API's, priced by the policy's basis (transfer or list).
/// Families are numbered in [`Family::ALL`] order.
pub fn catalogue(api: &tidepool_crds::Catalogue, basis: PriceBasis) -> engine::Catalogue {
    let families = Family::ALL.iter().map(|f| f.as_str().to_owned()).collect();
    let models = api
        .iter()
        .map(|m| {
            let s = &m.spec;
            let price = match basis {
                PriceBasis::Transfer => &s.prices.transfer,
                PriceBasis::List => &s.prices.list,
            };
            let mut throughput = [None; engine::WorkloadClass::COUNT];
            for class in ApiClass::ALL {
                throughput[workload_class(class) as usize] = s.throughput_for(class).and_then(|d| d.to_f64());
            }
            engine::Model {
                name: m.name_any(),
                family: family_id(s.family),
                memory_gib: s.memory_gib,
                price_per_hour: price.parse::<Decimal>().unwrap_or(Decimal::ZERO),
                throughput,
            }
        })
        .collect();
    engine::Catalogue { families, models }
}

fn family_id(f: Family) -> engine::FamilyId {
    engine::FamilyId(Family::ALL.iter().position(|x| *x == f).unwrap_or(0) as u32)
}

/// The engine's class for an API class.
pub fn workload_class(c: ApiClass) -> engine::WorkloadClass {
    match c {
        ApiClass::LlmTraining => engine::WorkloadClass::LlmTraining,
        ApiClass::LlmInference => engine::WorkloadClass::LlmInference,
        ApiClass::CvTraining => engine::WorkloadClass::CvTraining,
        ApiClass::CvInference => engine::WorkloadClass::CvInference,
        ApiClass::RecsysTraining => engine::WorkloadClass::RecsysTraining,
        ApiClass::RecsysInference => engine::WorkloadClass::RecsysInference,
    }
}

/// Tenants in tree order (parents first), with the id each name got.
pub struct Tenants {
    /// Engine tenants.
    pub tenants: Vec<engine::Tenant>,
    /// Id by tenant name.
    pub by_name: BTreeMap<String, engine::TenantId>,
    /// Owning tenant by namespace.
    pub by_namespace: BTreeMap<String, engine::TenantId>,
}

/// Converts a tenant tree. `clusters` are the fleet's cluster names, in `ClusterId` order; a
/// residency rule naming a cluster the fleet lacks simply matches nothing.
pub fn tenants(api: &[ApiTenant], catalogue: &engine::Catalogue, clusters: &[String]) -> Result<Tenants, ConvertError> {
    let mut ordered: Vec<&ApiTenant> = Vec::new();
    let mut placed: BTreeMap<String, engine::TenantId> = BTreeMap::new();
    while ordered.len() < api.len() {
        let before = ordered.len();
        for t in api {
            let ready = t.spec.parent.as_ref().is_none_or(|p| placed.contains_key(p));
            if ready && !placed.contains_key(&t.name_any()) {
                placed.insert(t.name_any(), engine::TenantId(ordered.len() as u32));
                ordered.push(t);
            }
        }
        if ordered.len() == before {
            let stuck =
                api.iter().find(|t| !placed.contains_key(&t.name_any())).map(|t| t.name_any()).unwrap_or_default();
            return Err(ConvertError {
                object: format!("Tenant/{stuck}"),
                field: "spec.parent".into(),
                problem: "names a tenant that does not exist, or the parents form a cycle".into(),
            });
        }
    }
    let mut out = Tenants { tenants: Vec::new(), by_name: placed.clone(), by_namespace: BTreeMap::new() };
    for t in ordered {
        let object = format!("Tenant/{}", t.name_any());
        let mut quotas = Vec::new();
        for (i, q) in t.spec.quotas.iter().enumerate() {
            let key = match (&q.model, q.family) {
                (Some(m), _) => engine::QuotaKey::Model(catalogue.model_id(m).ok_or_else(|| ConvertError {
                    object: object.clone(),
                    field: format!("spec.quotas[{i}].model"),
                    problem: format!("{m:?} is not in the catalogue"),
                })?),
                (None, Some(f)) => engine::QuotaKey::Family(family_id(f)),
                (None, None) => continue,
            };
            quotas.push(engine::Quota {
                key,
                nominal: q.nominal,
                borrowing_limit: q.borrowing_limit,
                lending_limit: q.lending_limit,
            });
        }
        let allowed = &t.spec.placement.allowed_clusters;
        let allowed_clusters = (!allowed.is_empty()).then(|| {
            clusters
                .iter()
                .enumerate()
                .filter(|(_, c)| allowed.contains(c))
                .map(|(i, _)| engine::ClusterId(i as u32))
                .collect()
        });
        let id = placed[&t.name_any()];
        for ns in &t.spec.namespaces {
            out.by_namespace.insert(ns.clone(), id);
        }
        out.tenants.push(engine::Tenant {
            name: t.name_any(),
            parent: t.spec.parent.as_ref().map(|p| placed[p]),
            weight: t.spec.weight.max(1),
            quotas,
            allowed_clusters,
            dedicated_only: t.spec.placement.isolation == Isolation::Dedicated,
        });
    }
    Ok(out)
}

fn accepts(
    object: &str,
    choices: &[AcceleratorChoice],
    catalogue: &engine::Catalogue,
) -> Result<Vec<engine::Accept>, ConvertError> {
    choices
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let target = match (&c.model, c.family) {
                (Some(m), _) => engine::Target::Model(catalogue.model_id(m).ok_or_else(|| ConvertError {
                    object: object.to_owned(),
                    field: format!("spec.accelerators[{i}].model"),
                    problem: format!("{m:?} is not in the catalogue"),
                })?),
                (None, Some(f)) => engine::Target::Family(family_id(f)),
                (None, None) => {
                    return Err(ConvertError {
                        object: object.to_owned(),
                        field: format!("spec.accelerators[{i}]"),
                        problem: "names neither a model nor a family".into(),
                    });
                }
            };
            Ok(engine::Accept {
                target,
                min_memory_gib: c.min_memory_gib.unwrap_or(0),
                throughput: c.relative_throughput.as_deref().and_then(|t| t.parse::<f64>().ok()),
            })
        })
        .collect()
}

fn owner(object: &str, namespace: Option<String>, tenants: &Tenants) -> Result<engine::TenantId, ConvertError> {
    let ns = namespace.unwrap_or_default();
    tenants.by_namespace.get(&ns).copied().ok_or_else(|| ConvertError {
        object: object.to_owned(),
        field: "metadata.namespace".into(),
        problem: format!("namespace {ns:?} belongs to no Tenant; list it in a Tenant's spec.namespaces"),
    })
}

/// A training job as the engine sees it; `submitted` orders it among equal priorities.
pub fn training_job(
    job: &TrainingJob,
    tenants: &Tenants,
    catalogue: &engine::Catalogue,
    submitted: engine::Seconds,
) -> Result<engine::Workload, ConvertError> {
    let object = format!("TrainingJob/{}/{}", job.namespace().unwrap_or_default(), job.name_any());
    let s = &job.spec;
    Ok(engine::Workload {
        name: format!("{}/{}", job.namespace().unwrap_or_default(), job.name_any()),
        tenant: owner(&object, job.namespace(), tenants)?,
        kind: engine::WorkloadKind::Training,
        class: workload_class(s.workload_class),
        priority: s.priority,
        preemptible: s.preemptible,
        replicas_min: s.replicas.min,
        replicas_wanted: s.replicas.max_or_min(),
        devices_per_replica: s.devices_per_replica,
        accepts: accepts(&object, &s.accelerators, catalogue)?,
        allow_mixed_models: s.allow_mixed_models,
        expected_work: s.expected_work.as_deref().and_then(|w| w.parse::<f64>().ok()),
        checkpoint: s.checkpoint.as_ref().map(|c| engine::Checkpoint {
            interval: i64::from(c.interval_seconds),
            grace: i64::from(c.grace_period_seconds),
        }),
        deadline: s.deadline.as_ref().map(|t| engine::Seconds(t.0.as_second())),
        submitted,
    })
}

/// An inference service as the engine sees it, wanting `desired_replicas` now (from its demand).
pub fn inference_service(
    svc: &InferenceService,
    desired_replicas: u32,
    tenants: &Tenants,
    catalogue: &engine::Catalogue,
    submitted: engine::Seconds,
) -> Result<engine::Workload, ConvertError> {
    let object = format!("InferenceService/{}/{}", svc.namespace().unwrap_or_default(), svc.name_any());
    let s = &svc.spec;
    Ok(engine::Workload {
        name: format!("{}/{}", svc.namespace().unwrap_or_default(), svc.name_any()),
        tenant: owner(&object, svc.namespace(), tenants)?,
        kind: engine::WorkloadKind::Inference,
        class: workload_class(s.workload_class),
        priority: s.priority,
        preemptible: false,
        replicas_min: s.replicas.min,
        replicas_wanted: desired_replicas.clamp(s.replicas.min, s.replicas.max_or_min()),
        devices_per_replica: s.devices_per_replica,
        accepts: accepts(&object, &s.accelerators, catalogue)?,
        allow_mixed_models: false,
        expected_work: None,
        checkpoint: None,
        deadline: None,
        submitted,
    })
}

/// The engine's policy from a `SchedulingPolicy` spec.
pub fn policy(spec: &SchedulingPolicySpec) -> engine::Policy {
    engine::Policy {
        objective: match spec.objective {
            ApiObjective::Cost => engine::Objective::Cost,
            ApiObjective::Balanced => engine::Objective::Balanced,
            ApiObjective::Speed => engine::Objective::Speed,
        },
        packing: match spec.packing {
            ApiPacking::BestFit => engine::Packing::BestFit,
            ApiPacking::Spread => engine::Packing::Spread,
        },
        preemption: spec.preemption.enabled,
        reclaim_borrowed: spec.preemption.reclaim_borrowed,
        reclaim_tidal: spec.preemption.reclaim_tidal,
        min_priority_gap: spec.preemption.min_priority_gap,
        ..engine::Policy::default()
    }
}
