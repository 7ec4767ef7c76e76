//! Shared test support: the fake API and helpers to submit objects.

#![allow(dead_code, clippy::unwrap_used)]

pub mod fake;
pub mod watching;

use std::path::Path;
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, PostParams};
use tidepool_controller::context::{Config, Context};
use tidepool_controller::{ManualClock, labels};
use tidepool_crds::manifests::{self, ApiObject};
use tidepool_crds::{InferenceService, Tenant, TrainingJob};

/// The objects of `examples/group-cloud/`.
pub fn group_cloud() -> Vec<ApiObject> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/group-cloud");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().flat_map(|f| manifests::read_file(f).unwrap()).collect()
}

/// The fake registers every custom kind as namespaced (it cannot tell a CRD's scope), so
/// cluster-scoped kinds (Tenant, SchedulingPolicy) are stored in this namespace; the controller
/// lists them across all namespaces, which finds them either way.
pub const CLUSTER_SCOPED: &str = "tidepool-cluster-scoped";

/// Creates `objects` in the API.
pub async fn submit(client: &kube::Client, objects: Vec<ApiObject>) {
    let pp = PostParams::default();
    for o in objects {
        match o {
            ApiObject::Tenant(t) => create_cluster_scoped(client, &t).await,
            ApiObject::SchedulingPolicy(p) => create_cluster_scoped(client, &p).await,
            ApiObject::TrainingJob(j) => {
                let ns = j.metadata.namespace.clone().unwrap();
                drop(Api::<TrainingJob>::namespaced(client.clone(), &ns).create(&pp, &j).await.unwrap())
            }
            ApiObject::InferenceService(s) => {
                let ns = s.metadata.namespace.clone().unwrap();
                drop(Api::<InferenceService>::namespaced(client.clone(), &ns).create(&pp, &s).await.unwrap())
            }
            ApiObject::AcceleratorModel(_) => {}
        }
    }
}

async fn create_cluster_scoped<K>(client: &kube::Client, object: &K)
where
    K: kube::Resource<DynamicType = ()> + serde::Serialize,
{
    let resource = ApiResource::erase::<K>(&());
    let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), CLUSTER_SCOPED, &resource);
    let dynamic: DynamicObject = serde_json::from_value(serde_json::to_value(object).unwrap()).unwrap();
    api.create(&PostParams::default(), &dynamic).await.unwrap();
}

/// Creates nodes.
pub async fn add_nodes(client: &kube::Client, nodes: Vec<Node>) {
    let api = Api::<Node>::all(client.clone());
    for n in nodes {
        api.create(&PostParams::default(), &n).await.unwrap();
    }
}

/// A context for cluster `cluster` on the fake API, with a manual clock set to 02:00 UTC today
/// (10:00 in the example policy's UTC+8, its services' peak hour): what a pass decides must not
/// depend on the hour the tests run at (off-peak, the example chatbot lends its idle devices).
pub fn context(client: &kube::Client, cluster: &str) -> (Context, Arc<ManualClock>) {
    let today = Timestamp::now().as_second().div_euclid(86_400) * 86_400;
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(today + 2 * 3_600).unwrap()));
    let ctx = Context {
        client: client.clone(),
        clock: clock.clone(),
        config: Config { cluster: cluster.into(), concurrency: 16 },
    };
    (ctx, clock)
}

/// Tidepool's pods.
pub async fn pods(client: &kube::Client) -> Vec<Pod> {
    Api::<Pod>::all(client.clone()).list(&ListParams::default().labels(labels::WORKLOAD)).await.unwrap().items
}

/// TrainingJob `namespace/name`: a gang of `replicas` with `devices` each of `model`, and `extra`
/// lines of spec (indented two spaces).
pub fn training(namespace: &str, name: &str, replicas: u32, devices: u32, model: &str, extra: &str) -> TrainingJob {
    job(&format!(
        "apiVersion: tidepool.dev/v1alpha1\nkind: TrainingJob\nmetadata: {{name: {name}, namespace: {namespace}}}\n\
         spec:\n  workloadClass: llm-training\n  replicas: {{min: {replicas}}}\n  devicesPerReplica: {devices}\n  \
         accelerators: [{{model: {model}}}]\n  template: {{spec: {{containers: [{{name: main, image: trainer:1}}]}}}}\n{extra}"
    ))
}

/// A training job from YAML.
pub fn job(yaml: &str) -> TrainingJob {
    match manifests::parse(yaml, "test.yaml").unwrap().pop().unwrap() {
        ApiObject::TrainingJob(j) => *j,
        other => panic!("not a TrainingJob: {other:?}"),
    }
}

/// Tenant `team`, owning namespace `team-ns`, with `nominal` NVIDIA devices and no borrowing.
pub fn team(nominal: u32) -> Tenant {
    tenant(&format!(
        "apiVersion: tidepool.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: team}}\nspec:\n  namespaces: [team-ns]\n  \
         quotas: [{{family: nvidia, nominal: {nominal}, borrowingLimit: 0}}]\n"
    ))
}

/// A tenant from YAML.
pub fn tenant(yaml: &str) -> Tenant {
    match manifests::parse(yaml, "test.yaml").unwrap().pop().unwrap() {
        ApiObject::Tenant(t) => t,
        other => panic!("not a Tenant: {other:?}"),
    }
}
