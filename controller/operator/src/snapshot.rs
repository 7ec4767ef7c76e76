//! Snapshot assembly: from listed API objects (nodes, pods, workloads, tenants, the scheduling
//! policy, catalogue overrides) and per-node inventories, the engine's [`Snapshot`] plus what the
//! applier needs to act on the plan (which API object each workload id is, its pods). Pure: no
//! client, no clock — `now` is passed in.
//!
//! Workloads whose spec fails `validate()` (or names what the catalogue or tenants lack) are left
//! out and listed as [`Rejected`]; one already marked rejected at its current generation is
//! skipped without a second look. Bound, non-terminal pods labelled as a workload's replica
//! become the engine's allocations.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use kube::ResourceExt;
use tidepool_crds::{
    AcceleratorModel, Catalogue, InferenceService, SchedulingPolicy, Tenant, TrainingJob, Validate,
    scheduling_policy::{PriceBasis, SchedulingPolicySpec},
};
use tidepool_edge as edge;
use tidepool_engine::{self as engine, Seconds, Snapshot};

use crate::completion::{self, Ending};
use crate::inventory::{self, NodeInventory};
use crate::labels;
use crate::{demand, lending};

/// Reason of the `Accepted=False` condition on a workload whose spec is invalid.
pub const INVALID_SPEC: &str = "InvalidSpec";

/// The API objects one pass lists.
#[derive(Clone, Debug, Default)]
pub struct Objects {
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Pods (only Tidepool's matter).
    pub pods: Vec<Pod>,
    /// Training jobs.
    pub training_jobs: Vec<TrainingJob>,
    /// Inference services.
    pub inference_services: Vec<InferenceService>,
    /// Tenants.
    pub tenants: Vec<Tenant>,
    /// Scheduling policies; the one named `default`, or else the first, applies.
    pub policies: Vec<SchedulingPolicy>,
    /// Catalogue overrides.
    pub models: Vec<AcceleratorModel>,
}

/// A workload as listed.
#[derive(Clone, Debug)]
pub enum Object {
    /// A training job.
    Training(TrainingJob),
    /// An inference service.
    Inference(InferenceService),
}

impl Object {
    /// `TrainingJob` or `InferenceService`.
    pub fn kind(&self) -> &'static str {
        match self {
            Object::Training(_) => "TrainingJob",
            Object::Inference(_) => "InferenceService",
        }
    }

    /// Object metadata.
    pub fn meta(&self) -> &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
        match self {
            Object::Training(j) => &j.metadata,
            Object::Inference(s) => &s.metadata,
        }
    }

    /// Namespace.
    pub fn namespace(&self) -> String {
        self.meta().namespace.clone().unwrap_or_default()
    }

    /// Name.
    pub fn name(&self) -> String {
        self.meta().name.clone().unwrap_or_default()
    }

    /// `Kind/namespace/name`, for messages.
    pub fn reference(&self) -> String {
        format!("{}/{}/{}", self.kind(), self.namespace(), self.name())
    }

    /// Its place in its tenant's queue: when it was created or, once preempted, when that
    /// happened (as Kueue requeues evicted workloads), behind what was submitted meanwhile.
    pub fn queued_since(&self) -> Option<&Time> {
        let created = self.meta().creation_timestamp.as_ref();
        let Object::Training(j) = self else { return created };
        let status = j.status.as_ref().filter(|s| s.phase == tidepool_crds::training_job::TrainingPhase::Preempted);
        let preempted = status.and_then(|s| s.conditions.iter().find(|c| c.type_ == "Preempted" && c.status == "True"));
        preempted.map(|c| &c.last_transition_time).or(created)
    }

    /// When a preempted training job was preempted, and for whom (`Kind/namespace/name`).
    fn preemption(&self) -> Option<(Seconds, &str)> {
        let Object::Training(j) = self else { return None };
        let status = j.status.as_ref().filter(|s| s.phase == tidepool_crds::training_job::TrainingPhase::Preempted)?;
        let at = status.conditions.iter().find(|c| c.type_ == "Preempted" && c.status == "True")?;
        Some((Seconds(at.last_transition_time.0.as_second()), status.preempted_by.as_deref()?))
    }

    /// Whether it has started: training running or ended, a service with its minimum replicas.
    fn started(&self) -> bool {
        use tidepool_crds::training_job::TrainingPhase;
        match self {
            Object::Training(j) => j.status.as_ref().is_some_and(|s| {
                matches!(s.phase, TrainingPhase::Running | TrainingPhase::Succeeded | TrainingPhase::Failed)
            }),
            Object::Inference(svc) => svc.status.as_ref().is_some_and(|s| s.ready_replicas >= svc.spec.replicas.min),
        }
    }

    /// Whether its status already records that it ended (training jobs only).
    pub fn has_ended(&self) -> bool {
        use tidepool_crds::training_job::TrainingPhase;
        match self {
            Object::Training(j) => {
                j.status.as_ref().is_some_and(|s| matches!(s.phase, TrainingPhase::Succeeded | TrainingPhase::Failed))
            }
            Object::Inference(_) => false,
        }
    }

    /// The status conditions and observed generation as last written.
    fn conditions(&self) -> (&[Condition], Option<i64>) {
        match self {
            Object::Training(j) => {
                j.status.as_ref().map_or((&[][..], None), |s| (&s.conditions[..], s.observed_generation))
            }
            Object::Inference(s) => {
                s.status.as_ref().map_or((&[][..], None), |s| (&s.conditions[..], s.observed_generation))
            }
        }
    }

    /// Whether the status already says this generation's spec is invalid.
    pub fn rejected_at_this_generation(&self) -> bool {
        let (conditions, observed) = self.conditions();
        observed.is_some()
            && observed == self.meta().generation
            && conditions.iter().any(|c| c.type_ == "Accepted" && c.status == "False" && c.reason == INVALID_SPEC)
    }
}

/// A pod of a workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodInfo {
    /// Pod name.
    pub name: String,
    /// Replica index.
    pub replica: u32,
    /// Node it is bound to.
    pub node: Option<String>,
    /// Being deleted (still holds its devices until it stops).
    pub terminating: bool,
    /// Device ids from the annotation.
    pub devices: Vec<String>,
}

/// A workload in the snapshot, with what the applier needs.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The API object.
    pub object: Object,
    /// Owning tenant's name.
    pub tenant: String,
    /// Its live (non-terminal) pods.
    pub pods: Vec<PodInfo>,
}

/// A workload left out because its spec is invalid.
#[derive(Clone, Debug)]
pub struct Rejected {
    /// The API object.
    pub object: Object,
    /// Field path of the first violation.
    pub field: String,
    /// The full message, naming every field.
    pub message: String,
}

/// The snapshot and the tables that map its ids back to API objects.
#[derive(Clone, Debug)]
pub struct Assembled {
    /// The engine's input.
    pub snapshot: Snapshot,
    /// The engine's policy.
    pub policy: engine::Policy,
    /// The API catalogue (resource names, images, prices).
    pub catalogue: Catalogue,
    /// Workloads by `WorkloadId`.
    pub workloads: Vec<Workload>,
    /// Workloads rejected this pass (not those already marked).
    pub rejected: Vec<Rejected>,
    /// The Tenant objects, by `TenantId`.
    pub tenants: Vec<Option<Tenant>>,
    /// Training jobs that ended since their status last said so.
    pub ended: Vec<Ended>,
    /// Pods to delete, `(namespace, name)`: stopped ones whose replicas are placed again, and
    /// inference replicas beyond what demand calls for (highest replica first).
    pub to_delete: Vec<(String, String)>,
}

/// A training job that has ended, left out of the snapshot.
#[derive(Clone, Debug)]
pub struct Ended {
    /// The API object.
    pub object: Object,
    /// How it ended.
    pub ending: Ending,
    /// Its pods still running, to stop.
    pub running: Vec<String>,
}

impl Assembled {
    /// The workload of an engine id.
    pub fn workload(&self, id: engine::WorkloadId) -> &Workload {
        &self.workloads[id.ix()]
    }
}

fn seconds(t: Option<&Time>, now: Seconds) -> Seconds {
    t.map_or(now, |t| Seconds(t.0.as_second()))
}

/// Builds the snapshot of one cluster named `cluster`. `inventories` from agents win over what
/// vendor plugins publish for the same node.
pub fn assemble(
    cluster: &str,
    objects: &Objects,
    inventories: &[NodeInventory],
    now: Seconds,
) -> Result<Assembled, edge::ConvertError> {
    let api_policy = objects.policies.iter().find(|p| p.name_any() == "default").or_else(|| objects.policies.first());
    let basis = api_policy.map_or(PriceBasis::Transfer, |p| p.spec.pricing.basis);
    let utc_offset_hours =
        api_policy.map_or_else(|| SchedulingPolicySpec::default().utc_offset_hours, |p| p.spec.utc_offset_hours);
    let api_catalogue = Catalogue::builtin().with_overrides(objects.models.iter().cloned());
    let catalogue = edge::catalogue(&api_catalogue, basis);
    let clusters = vec![cluster.to_owned()];
    let tenants = edge::tenants(&objects.tenants, &catalogue, &clusters)?;
    let mut s = Snapshot { catalogue, tenants: tenants.tenants.clone(), ..Default::default() };
    s.clusters.push(engine::Cluster { name: cluster.to_owned() });

    add_nodes(&mut s, objects, inventories, &api_catalogue, &tenants);

    let mut workloads = Vec::new();
    let mut rejected = Vec::new();
    let mut ended = Vec::new();
    let mut to_delete = Vec::new();
    let mut stopped = completion::stopped_pods(&objects.pods);
    let mut surplus: BTreeSet<(String, String)> = BTreeSet::new();
    // Oldest first (then by namespace and name): the engine breaks ties by index, so the order of
    // the API's list must not decide who goes first.
    let mut listed: Vec<Object> = objects
        .training_jobs
        .iter()
        .cloned()
        .map(Object::Training)
        .chain(objects.inference_services.iter().cloned().map(Object::Inference))
        .collect();
    listed.sort_by_cached_key(|o| (o.queued_since().map(|t| t.0), o.namespace(), o.name(), o.kind()));
    let listed_refs: BTreeMap<String, &Object> = listed.iter().map(|o| (o.reference(), o)).collect();
    for object in listed.iter().cloned() {
        if object.rejected_at_this_generation() || object.has_ended() {
            continue;
        }
        let key = (object.kind().to_owned(), object.namespace(), object.name());
        if waits_for_preemptor(&object, &key, &listed_refs, objects, now) {
            continue;
        }
        let stopped = stopped.remove(&key).unwrap_or_default();
        if let (Object::Training(_), Some(ending)) = (&object, completion::training_ending(&stopped)) {
            let running = objects
                .pods
                .iter()
                .filter(|p| pod_info(p).is_some_and(|(k, ns, w, _)| (k, ns, w) == key))
                .map(ResourceExt::name_any)
                .collect();
            ended.push(Ended { object, ending, running });
            continue;
        }
        to_delete.extend(completion::to_replace(object.kind(), &stopped).into_iter().map(|name| (key.1.clone(), name)));
        let valid = match &object {
            Object::Training(j) => j.validate(),
            Object::Inference(svc) => svc.validate(),
        };
        if let Err(v) = valid {
            let field = v.0.first().map(|x| x.field.clone()).unwrap_or_default();
            rejected.push(Rejected { message: format!("{}: {v}", object.reference()), field, object });
            continue;
        }
        let submitted = seconds(object.queued_since(), now);
        let converted = match &object {
            Object::Training(j) => edge::training_job(j, &tenants, &s.catalogue, submitted),
            Object::Inference(svc) => {
                let running = svc.status.as_ref().and_then(|st| st.placement.as_ref()).and_then(|p| p.model.as_deref());
                let at = k8s_openapi::jiff::Timestamp::from_second(now.0).unwrap_or_default();
                let desired = demand::desired_replicas(svc, running, at, utc_offset_hours);
                let mut live: Vec<(u32, String)> = objects
                    .pods
                    .iter()
                    .filter_map(pod_info)
                    .filter(|(k, ns, w, info)| (k, ns, w) == (&key.0, &key.1, &key.2) && !info.terminating)
                    .map(|(.., info)| (info.replica, info.name))
                    .collect();
                live.sort();
                for (_, name) in live.into_iter().skip(desired as usize) {
                    surplus.insert((key.1.clone(), name.clone()));
                    to_delete.push((key.1.clone(), name));
                }
                edge::inference_service(svc, desired, &tenants, &s.catalogue, submitted)
            }
        };
        match converted {
            Ok(w) => {
                let tenant = s.tenants[w.tenant.ix()].name.clone();
                s.workloads.push(w);
                workloads.push(Workload { object, tenant, pods: Vec::new() });
            }
            Err(e) => rejected.push(Rejected { field: e.field.clone(), message: e.to_string(), object }),
        }
    }
    let kept: Vec<&Pod> =
        objects.pods.iter().filter(|p| !surplus.contains(&(p.namespace().unwrap_or_default(), p.name_any()))).collect();
    let borrowed = add_allocations(&mut s, &mut workloads, &kept);
    let tidal = api_policy.map_or_else(|| SchedulingPolicySpec::default().tidal, |p| p.spec.tidal.clone());
    let lending_policy = demand::LendingPolicy {
        horizon_minutes: tidal.horizon_minutes,
        safety_margin_percent: tidal.safety_margin_percent,
        utc_offset_hours,
    };
    s.lent = lent_devices(&s, &workloads, &borrowed, tidal.enabled.then_some(&lending_policy), now);
    let tenant_objects =
        s.tenants.iter().map(|t| objects.tenants.iter().find(|o| o.name_any() == t.name).cloned()).collect();
    Ok(Assembled {
        snapshot: s,
        policy: api_policy.map_or_else(engine::Policy::default, |p| edge::policy(&p.spec)),
        catalogue: api_catalogue,
        workloads,
        rejected,
        tenants: tenant_objects,
        ended,
        to_delete,
    })
}

fn add_nodes(
    s: &mut Snapshot,
    objects: &Objects,
    inventories: &[NodeInventory],
    api: &Catalogue,
    tenants: &edge::Tenants,
) {
    let reported: BTreeMap<&str, &NodeInventory> = inventories.iter().map(|i| (i.node.as_str(), i)).collect();
    let mut groups: BTreeMap<String, engine::GroupId> = BTreeMap::new();
    let mut nodes: Vec<&Node> = objects.nodes.iter().collect();
    nodes.sort_by_key(|n| n.metadata.name.as_deref());
    for node in nodes {
        let name = node.name_any();
        let derived;
        let inv = match reported.get(name.as_str()) {
            Some(i) => *i,
            None => match inventory::from_vendor_plugins(node, api) {
                Some(i) => {
                    derived = i;
                    &derived
                }
                None => continue,
            },
        };
        let Some(first) = inv.devices.first() else { continue };
        let Some(model) = s.catalogue.model_id(&first.model) else {
            tracing::warn!(node = %name, model = %first.model, "node's devices are of a model the catalogue lacks; left out");
            continue;
        };
        if inv.devices.iter().any(|d| d.model != first.model) || inv.devices.len() > 64 {
            tracing::warn!(node = %name, "node mixes models or has over 64 devices; left out");
            continue;
        }
        let link = api.get(&first.model).map_or(8, |m| m.spec.interconnect.group_size.max(1)) as usize;
        let group_name = node.labels().get(labels::GROUP).cloned().unwrap_or_default();
        let next = engine::GroupId(s.groups.len() as u32);
        let group = *groups.entry(group_name.clone()).or_insert_with(|| {
            s.groups.push(engine::Group { name: group_name, cluster: engine::ClusterId(0), rack: 0 });
            next
        });
        let node_labels = node.labels();
        let dedicated_to = objects
            .tenants
            .iter()
            .find(|t| {
                let sel = &t.spec.placement.dedicated_node_selector;
                !sel.is_empty() && sel.iter().all(|(k, v)| node_labels.get(k) == Some(v))
            })
            .and_then(|t| tenants.by_name.get(&t.name_any()).copied());
        let ready = node
            .status
            .as_ref()
            .and_then(|st| st.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .is_none_or(|c| c.status == "True");
        let cordoned = node.spec.as_ref().and_then(|sp| sp.unschedulable).unwrap_or(false);
        s.nodes.push(engine::Node {
            name,
            group,
            schedulable: ready && !cordoned,
            dedicated_to,
            devices: inv
                .devices
                .iter()
                .enumerate()
                .map(|(i, d)| engine::Device {
                    id: d.id.clone(),
                    model,
                    link_domain: (i / link) as u8,
                    healthy: d.healthy,
                })
                .collect(),
        });
    }
}

/// How long a preempted job at most waits for the workload it made room for to start.
pub const PREEMPTOR_HOLD: i64 = 600;

/// Whether a preempted job stays out of this pass: it has no pods left, and the workload it made
/// room for exists and has not started, within [`PREEMPTOR_HOLD`] of the preemption. Otherwise,
/// when both wait, fair share could hand the freed devices straight back to the victim, and the
/// two would take them from each other pass after pass.
fn waits_for_preemptor(
    object: &Object,
    key: &(String, String, String),
    listed: &BTreeMap<String, &Object>,
    objects: &Objects,
    now: Seconds,
) -> bool {
    let Some((at, preemptor)) = object.preemption() else { return false };
    if now.0 - at.0 > PREEMPTOR_HOLD || listed.get(preemptor).is_none_or(|p| p.started()) {
        return false;
    }
    !objects.pods.iter().any(|p| pod_info(p).is_some_and(|(k, ns, w, _)| (&k, &ns, &w) == (&key.0, &key.1, &key.2)))
}

/// The devices lent this pass (see [`lending`]): under borrowers, and offered by services that
/// may lend when `policy` (the tidal part of the SchedulingPolicy) lets them.
fn lent_devices(
    s: &Snapshot,
    workloads: &[Workload],
    borrowed: &[(usize, String)],
    policy: Option<&demand::LendingPolicy>,
    now: Seconds,
) -> Vec<engine::Lent> {
    let by_ref: BTreeMap<String, engine::WorkloadId> = workloads
        .iter()
        .enumerate()
        .filter(|(_, w)| matches!(w.object, Object::Inference(_)))
        .map(|(i, w)| (format!("{}/{}", w.object.namespace(), w.object.name()), engine::WorkloadId(i as u32)))
        .collect();
    let borrowed: Vec<(usize, engine::WorkloadId)> =
        borrowed.iter().filter_map(|(i, lender)| Some((*i, *by_ref.get(lender)?))).collect();
    let at = k8s_openapi::jiff::Timestamp::from_second(now.0).unwrap_or_default();
    let lenders: Vec<lending::Lender> = policy
        .map(|policy| {
            workloads
                .iter()
                .enumerate()
                .filter_map(|(i, w)| {
                    let Object::Inference(svc) = &w.object else { return None };
                    let id = engine::WorkloadId(i as u32);
                    let model = s.allocations.iter().find(|a| a.workload == id)?.model;
                    if !svc.spec.tidal.may_lend {
                        return None;
                    }
                    let name = &s.catalogue.models[model.ix()].name;
                    let replicas = demand::lendable_replicas(svc, Some(name), at, policy);
                    Some(lending::Lender { workload: id, model, devices: replicas * svc.spec.devices_per_replica })
                })
                .collect()
        })
        .unwrap_or_default();
    lending::lent(s, &borrowed, &lenders)
}

fn pod_info(pod: &Pod) -> Option<(String, String, String, PodInfo)> {
    let l = pod.labels();
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return None;
    }
    let devices = pod
        .annotations()
        .get(labels::DEVICES)
        .map(|d| d.split(',').filter(|x| !x.is_empty()).map(str::to_owned).collect())
        .unwrap_or_default();
    Some((
        l.get(labels::KIND)?.clone(),
        pod.namespace().unwrap_or_default(),
        l.get(labels::WORKLOAD)?.clone(),
        PodInfo {
            name: pod.name_any(),
            replica: l.get(labels::REPLICA)?.parse().ok()?,
            node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
            terminating: pod.metadata.deletion_timestamp.is_some(),
            devices,
        },
    ))
}

/// Adds the allocations; returns, for each tidal one, its index and its lender's `namespace/name`.
fn add_allocations(s: &mut Snapshot, workloads: &mut [Workload], pods: &[&Pod]) -> Vec<(usize, String)> {
    let by_ref: BTreeMap<(&str, String, String), usize> = workloads
        .iter()
        .enumerate()
        .map(|(i, w)| ((w.object.kind(), w.object.namespace(), w.object.name()), i))
        .collect();
    let nodes: BTreeMap<&str, usize> = s.nodes.iter().enumerate().map(|(i, n)| (n.name.as_str(), i)).collect();
    let mut held = vec![0u64; s.nodes.len()];
    let mut allocations = Vec::new();
    let mut borrowed = Vec::new();
    for pod in pods {
        let Some((kind, ns, name, info)) = pod_info(pod) else { continue };
        let Some(&w) = by_ref.get(&(kind.as_str(), ns, name)) else { continue };
        if let Some(n) = info.node.as_deref().and_then(|n| nodes.get(n).copied()) {
            let node = &s.nodes[n];
            let devices: Option<Vec<u16>> =
                info.devices.iter().map(|id| node.devices.iter().position(|d| &d.id == id).map(|i| i as u16)).collect();
            match devices {
                Some(devices) if !devices.is_empty() && devices.iter().all(|d| held[n] & (1 << d) == 0) => {
                    for d in &devices {
                        held[n] |= 1 << d;
                    }
                    let usage = match pod.annotations().get(labels::USAGE).map(String::as_str) {
                        Some("Borrowed") => engine::UsageClass::Borrowed,
                        Some("Tidal") => engine::UsageClass::Tidal,
                        _ => engine::UsageClass::Guaranteed,
                    };
                    if let Some(lender) = pod.annotations().get(labels::LENDER) {
                        borrowed.push((allocations.len(), lender.clone()));
                    }
                    let last_checkpoint = match &workloads[w].object {
                        Object::Training(j) => j.status.as_ref().and_then(|st| st.last_checkpoint_time.as_ref()),
                        Object::Inference(_) => None,
                    };
                    allocations.push(engine::Allocation {
                        workload: engine::WorkloadId(w as u32),
                        replica: info.replica,
                        node: engine::NodeId(n as u32),
                        model: node.devices[usize::from(devices[0])].model,
                        devices: engine::mask::mask_of(&devices),
                        usage,
                        started: seconds(pod.metadata.creation_timestamp.as_ref(), Seconds(0)),
                        last_checkpoint: last_checkpoint.map(|t| Seconds(t.0.as_second())),
                    });
                }
                _ => tracing::warn!(pod = %info.name, "bound pod's devices are unknown or already held; not counted"),
            }
        }
        workloads[w].pods.push(info);
    }
    s.allocations = allocations;
    borrowed
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::{NodeSpec, NodeStatus, PodSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use tidepool_crds::manifests::{self, ApiObject};

    use super::*;
    use crate::inventory::InventoryDevice;

    fn parse(yaml: &str) -> ApiObject {
        manifests::parse(yaml, "t.yaml").unwrap().pop().unwrap()
    }

    fn objects() -> Objects {
        let ApiObject::Tenant(t) = parse(
            "apiVersion: tidepool.dev/v1alpha1\nkind: Tenant\nmetadata: {name: team}\nspec:\n  namespaces: [ns]\n  quotas: [{family: nvidia, nominal: 16}]\n  placement: {dedicatedNodeSelector: {pool: team}}\n",
        ) else {
            panic!()
        };
        let job = |name: &str, min: u32| {
            let ApiObject::TrainingJob(j) = parse(&format!(
                "apiVersion: tidepool.dev/v1alpha1\nkind: TrainingJob\nmetadata: {{name: {name}, namespace: ns, generation: 2}}\nspec:\n  workloadClass: llm-training\n  replicas: {{min: {min}}}\n  devicesPerReplica: 2\n  accelerators: [{{family: nvidia}}]\n  template: {{}}\n"
            )) else {
                panic!()
            };
            *j
        };
        let mut a100 = Node::default();
        a100.metadata.name = Some("a".into());
        a100.metadata.labels = Some([("nvidia.com/gpu.product".to_owned(), "NVIDIA-A100-SXM4-80GB".to_owned())].into());
        a100.status = Some(NodeStatus {
            allocatable: Some([("nvidia.com/gpu".to_owned(), Quantity("8".into()))].into()),
            ..Default::default()
        });
        let mut cordoned = a100.clone();
        cordoned.metadata.name = Some("b".into());
        cordoned.metadata.labels.as_mut().unwrap().insert("pool".into(), "team".into());
        cordoned.spec = Some(NodeSpec { unschedulable: Some(true), ..Default::default() });
        let mut bare = Node::default();
        bare.metadata.name = Some("agent-only".into());
        let mut pod = Pod::default();
        pod.metadata.name = Some("run-0".into());
        pod.metadata.namespace = Some("ns".into());
        pod.metadata.labels = Some(BTreeMap::from([
            (labels::WORKLOAD.to_owned(), "run".to_owned()),
            (labels::KIND.to_owned(), "TrainingJob".to_owned()),
            (labels::REPLICA.to_owned(), "0".to_owned()),
        ]));
        pod.metadata.annotations = Some(BTreeMap::from([(labels::DEVICES.to_owned(), "2,3".to_owned())]));
        pod.spec = Some(PodSpec { node_name: Some("a".into()), ..Default::default() });
        Objects {
            nodes: vec![a100, cordoned, bare],
            pods: vec![pod],
            training_jobs: vec![job("run", 1), job("bad", 0)],
            tenants: vec![t],
            ..Default::default()
        }
    }

    fn agent_inventory() -> NodeInventory {
        NodeInventory {
            node: "agent-only".into(),
            devices: (0..4)
                .map(|i| InventoryDevice {
                    family: "nvidia".into(),
                    model: "nvidia-h800".into(),
                    id: format!("GPU-{i}"),
                    healthy: i != 3,
                })
                .collect(),
        }
    }

    #[test]
    fn nodes_come_from_agents_or_vendor_plugins_with_dedication_and_cordons() {
        let a = assemble("dc", &objects(), &[agent_inventory()], Seconds(0)).unwrap();
        a.snapshot.check().unwrap();
        let names: Vec<_> = a.snapshot.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["a", "agent-only", "b"], "by name, whatever the list order");
        let agent = &a.snapshot.nodes[1];
        assert_eq!(agent.devices.len(), 4);
        assert_eq!(agent.devices[1].id, "GPU-1");
        assert!(!agent.devices[3].healthy);
        assert_eq!(a.snapshot.catalogue.models[agent.devices[0].model.ix()].name, "nvidia-h800");
        assert!(!a.snapshot.nodes[2].schedulable, "cordoned");
        assert_eq!(a.snapshot.nodes[2].dedicated_to, Some(engine::TenantId(0)));
        assert_eq!(a.snapshot.nodes[0].dedicated_to, None);
    }

    #[test]
    fn bound_pods_become_allocations_and_invalid_specs_are_left_out() {
        let a = assemble("dc", &objects(), &[], Seconds(0)).unwrap();
        assert_eq!(a.workloads.len(), 1);
        assert_eq!(a.workloads[0].object.name(), "run");
        assert_eq!(a.snapshot.allocations.len(), 1);
        let al = &a.snapshot.allocations[0];
        assert_eq!((al.node, al.devices, al.replica), (engine::NodeId(0), 0b1100, 0));
        assert_eq!(a.rejected.len(), 1);
        assert_eq!(a.rejected[0].field, "spec.replicas.min");
        assert!(a.rejected[0].message.starts_with("TrainingJob/ns/bad: "));
    }

    #[test]
    fn a_spec_already_marked_invalid_at_its_generation_is_not_looked_at_again() {
        let mut o = objects();
        let bad = &mut o.training_jobs[1];
        bad.status = Some(tidepool_crds::training_job::TrainingJobStatus {
            observed_generation: Some(2),
            conditions: vec![Condition {
                type_: "Accepted".into(),
                status: "False".into(),
                reason: INVALID_SPEC.into(),
                message: String::new(),
                last_transition_time: Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
                observed_generation: None,
            }],
            ..Default::default()
        });
        assert!(assemble("dc", &o, &[], Seconds(0)).unwrap().rejected.is_empty());
        o.training_jobs[1].metadata.generation = Some(3);
        assert_eq!(assemble("dc", &o, &[], Seconds(0)).unwrap().rejected.len(), 1);
    }
}
