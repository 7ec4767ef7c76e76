//! The watch layer: one reflector per kind the snapshot is made of, each keeping a local copy of
//! its objects, and one signal that fires when something a placement depends on has changed.
//!
//! What counts as a change is written per kind in [`Relevant`]: a workload's spec (its
//! generation; demand changing with the hour is left to the loop's resync), a node's labels, allocatable, schedulability and readiness, a pod's node, phase
//! and deletion. Status the controller writes itself and node heartbeats do not fire it, so the
//! loop is not woken by its own writes or by a large cluster's steady chatter.
//!
//! This layer only mirrors the API; it decides nothing and writes nothing.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::Api;
use kube::runtime::reflector::{self, Store};
use kube::runtime::watcher::{self, Event};
use kube::runtime::{WatchStreamExt, watcher::watcher};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tidepool_crds::{AcceleratorModel, InferenceService, SchedulingPolicy, Tenant, TrainingJob};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tracing::warn;

use crate::labels;
use crate::snapshot::Objects;

/// Local copies of every kind a snapshot needs.
#[derive(Clone)]
pub struct Stores {
    nodes: Store<Node>,
    pods: Store<Pod>,
    training_jobs: Store<TrainingJob>,
    inference_services: Store<InferenceService>,
    tenants: Store<Tenant>,
    policies: Store<SchedulingPolicy>,
    models: Store<AcceleratorModel>,
}

/// The running reflectors: their stores, and the tasks that feed them.
pub struct Reflectors {
    /// What the reflectors hold now.
    pub stores: Stores,
    /// Notified on every relevant change (and when a watch is listed afresh).
    pub changed: Arc<Notify>,
    tasks: Vec<JoinHandle<()>>,
}

impl Reflectors {
    /// Starts one reflector per kind on `client`. Pods are watched only if they carry
    /// [`labels::WORKLOAD`]: the controller never looks at anyone else's.
    pub fn start(client: &Client) -> Reflectors {
        let changed = Arc::new(Notify::new());
        let mut tasks = Vec::new();
        let all = watcher::Config::default;
        let stores = Stores {
            nodes: reflect(Api::all(client.clone()), all(), &changed, &mut tasks),
            pods: reflect(Api::all(client.clone()), all().labels(labels::WORKLOAD), &changed, &mut tasks),
            training_jobs: reflect(Api::all(client.clone()), all(), &changed, &mut tasks),
            inference_services: reflect(Api::all(client.clone()), all(), &changed, &mut tasks),
            tenants: reflect(Api::all(client.clone()), all(), &changed, &mut tasks),
            policies: reflect(Api::all(client.clone()), all(), &changed, &mut tasks),
            models: reflect(Api::all(client.clone()), all(), &changed, &mut tasks),
        };
        Reflectors { stores, changed, tasks }
    }
}

impl Drop for Reflectors {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Stores {
    /// Waits until every kind has been listed once.
    pub async fn ready(&self) {
        // A store's writer lives as long as its task, which lives as long as the `Reflectors`.
        let _ = tokio::join!(
            self.nodes.wait_until_ready(),
            self.pods.wait_until_ready(),
            self.training_jobs.wait_until_ready(),
            self.inference_services.wait_until_ready(),
            self.tenants.wait_until_ready(),
            self.policies.wait_until_ready(),
            self.models.wait_until_ready(),
        );
    }

    /// A copy of what the stores hold now, as one pass's objects.
    pub fn objects(&self) -> Objects {
        fn owned<K: Resource + Clone>(store: &Store<K>) -> Vec<K>
        where
            K::DynamicType: Eq + Hash + Clone,
        {
            store.state().iter().map(|k| K::clone(k)).collect()
        }
        Objects {
            nodes: owned(&self.nodes),
            pods: owned(&self.pods),
            training_jobs: owned(&self.training_jobs),
            inference_services: owned(&self.inference_services),
            tenants: owned(&self.tenants),
            policies: owned(&self.policies),
            models: owned(&self.models),
        }
    }
}

/// A kind's fingerprint of what placements depend on; a change of it is a relevant change.
pub trait Relevant {
    /// Hash of the fields that matter.
    fn relevant(&self) -> u64;
}

fn hash(parts: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

/// Fingerprint of a custom resource: its spec's generation, labels and whether it is going away.
fn spec_only<K: Resource>(k: &K) -> u64 {
    let meta = k.meta();
    hash((meta.generation, &meta.labels, meta.deletion_timestamp.is_some()))
}

impl Relevant for Node {
    fn relevant(&self) -> u64 {
        let spec = self.spec.as_ref();
        let status = self.status.as_ref();
        let ready = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == "Ready"))
            .map(|c| c.status.clone());
        let allocatable: Option<Vec<(&String, &String)>> =
            status.and_then(|s| s.allocatable.as_ref()).map(|a| a.iter().map(|(k, q)| (k, &q.0)).collect());
        let taints = spec
            .and_then(|s| s.taints.as_ref())
            .map(|ts| ts.iter().map(|t| (t.key.clone(), t.value.clone(), t.effect.clone())).collect::<Vec<_>>());
        hash((self.labels(), spec.and_then(|s| s.unschedulable), taints, allocatable, ready))
    }
}

impl Relevant for Pod {
    fn relevant(&self) -> u64 {
        let node = self.spec.as_ref().and_then(|s| s.node_name.as_ref());
        let phase = self.status.as_ref().and_then(|s| s.phase.as_ref());
        hash((node, phase, self.metadata.deletion_timestamp.is_some(), self.labels(), self.annotations()))
    }
}

macro_rules! relevant_spec_only {
    ($($kind:ty),*) => {$(
        impl Relevant for $kind {
            fn relevant(&self) -> u64 {
                spec_only(self)
            }
        }
    )*};
}
relevant_spec_only!(TrainingJob, InferenceService, Tenant, SchedulingPolicy, AcceleratorModel);

/// Remembers each object's fingerprint and says whether an event changed anything relevant.
#[derive(Debug, Default)]
pub struct ChangeFilter {
    seen: HashMap<String, u64>,
    relisting: Option<HashMap<String, u64>>,
}

fn key<K: Resource>(k: &K) -> String {
    let meta = k.meta();
    format!("{}/{}", meta.namespace.as_deref().unwrap_or(""), meta.name.as_deref().unwrap_or(""))
}

impl ChangeFilter {
    /// Takes one watch event; true when it changed something a placement depends on.
    pub fn observe<K: Resource + Relevant>(&mut self, event: &Event<K>) -> bool {
        match event {
            Event::Apply(k) => self.seen.insert(key(k), k.relevant()) != Some(k.relevant()),
            Event::Delete(k) => self.seen.remove(&key(k)).is_some(),
            Event::Init => {
                self.relisting = Some(HashMap::new());
                false
            }
            Event::InitApply(k) => {
                self.relisting.get_or_insert_default().insert(key(k), k.relevant());
                false
            }
            Event::InitDone => {
                let listed = self.relisting.take().unwrap_or_default();
                let changed = listed != self.seen;
                self.seen = listed;
                changed
            }
        }
    }
}

fn reflect<K>(api: Api<K>, config: watcher::Config, changed: &Arc<Notify>, tasks: &mut Vec<JoinHandle<()>>) -> Store<K>
where
    K: Resource<DynamicType = ()> + Relevant + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let changed = changed.clone();
    let kind = K::kind(&());
    let mut events = watcher(api, config).default_backoff().reflect(writer).boxed();
    tasks.push(tokio::spawn(async move {
        let mut filter = ChangeFilter::default();
        while let Some(event) = events.next().await {
            match event {
                Ok(event) => {
                    if filter.observe(&event) {
                        changed.notify_one();
                    }
                }
                Err(problem) => warn!(%kind, %problem, "watch failed; retrying with backoff"),
            }
        }
    }));
    reader
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeCondition, NodeStatus, PodSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn node(gpus: &str, heartbeat: &str) -> Node {
        let mut n = Node::default();
        n.metadata.name = Some("n1".into());
        n.status = Some(NodeStatus {
            allocatable: Some([("nvidia.com/gpu".to_owned(), Quantity(gpus.into()))].into()),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                last_heartbeat_time: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                    heartbeat.parse().unwrap(),
                )),
                ..Default::default()
            }]),
            ..Default::default()
        });
        n
    }

    #[test]
    fn node_heartbeats_are_not_changes_but_allocatable_is() {
        let mut f = ChangeFilter::default();
        assert!(f.observe(&Event::Apply(node("8", "2026-11-24T00:00:00Z"))));
        assert!(!f.observe(&Event::Apply(node("8", "2026-11-24T00:00:10Z"))), "a heartbeat");
        assert!(f.observe(&Event::Apply(node("7", "2026-11-24T00:00:20Z"))), "a device went away");
        assert!(f.observe(&Event::Delete(node("7", "2026-11-24T00:00:20Z"))));
        assert!(!f.observe(&Event::Delete(node("7", "2026-11-24T00:00:20Z"))), "already gone");
    }

    #[test]
    fn status_we_write_is_not_a_change_but_a_new_spec_is() {
        let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/group-cloud/training-jobs.yaml");
        let mut job = tidepool_crds::manifests::read_file(std::path::Path::new(examples))
            .unwrap()
            .into_iter()
            .find_map(|o| match o {
                tidepool_crds::manifests::ApiObject::TrainingJob(j) => Some(*j),
                _ => None,
            })
            .unwrap();
        job.metadata.generation = Some(1);
        let mut f = ChangeFilter::default();
        assert!(f.observe(&Event::Apply(job.clone())));
        job.status = Some(Default::default());
        assert!(!f.observe(&Event::Apply(job.clone())));
        job.metadata.generation = Some(2);
        assert!(f.observe(&Event::Apply(job)));
    }

    #[test]
    fn a_relist_is_a_change_only_when_it_differs() {
        let mut pod = Pod::default();
        pod.metadata.name = Some("p".into());
        let mut f = ChangeFilter::default();
        for e in [Event::Init, Event::InitApply(pod.clone())] {
            assert!(!f.observe(&e));
        }
        assert!(f.observe(&Event::<Pod>::InitDone), "first listing");
        for e in [Event::Init, Event::InitApply(pod.clone())] {
            assert!(!f.observe(&e));
        }
        assert!(!f.observe(&Event::<Pod>::InitDone), "same objects again");
        pod.spec = Some(PodSpec { node_name: Some("n1".into()), ..Default::default() });
        for e in [Event::Init, Event::InitApply(pod)] {
            assert!(!f.observe(&e));
        }
        assert!(f.observe(&Event::<Pod>::InitDone), "bound while the watch was down");
    }
}
