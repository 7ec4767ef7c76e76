//! The placement flow against a real cluster, when `KUBECONFIG` names one; skipped (passing)
//! otherwise. Use a disposable cluster (kind, k3d): the test installs Tidepool's CRDs, creates a
//! namespace and a Tenant of its own, and runs reconcile passes, which touch every Tidepool
//! workload in the cluster.
//!
//! The first schedulable node is given an agent's inventory of two NVIDIA H100s (the cluster
//! need not have them): a one-device TrainingJob must get a pod bound to that node through the
//! real `pods/binding`, and a status naming the node, by server-side apply; a second pass leaves
//! one pod. The kubelet may refuse the pod for lack of the device, which is not what is tested. Everything the test
//! created, except the CRDs, is deleted at the end.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Node};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use tidepool_controller::context::{Config, Context};
use tidepool_controller::{InventoryDevice, NodeInventory, SystemClock, reconcile_once};
use tidepool_crds::{Tenant, TrainingJob};

fn schedulable(node: &Node) -> bool {
    let cordoned = node.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false);
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    ready && !cordoned
}

async fn install_crds(client: &kube::Client) {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../crds/manifests");
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let crd: CustomResourceDefinition = serde_yaml::from_str(&text).unwrap();
        let name = crd.metadata.name.clone().unwrap();
        crds.patch(&name, &PatchParams::apply("tidepool-e2e").force(), &Patch::Apply(&crd)).await.unwrap();
        names.push(name);
    }
    for name in names {
        let established = kube::runtime::wait::conditions::is_crd_established();
        let wait = kube::runtime::wait::await_condition(crds.clone(), &name, established);
        tokio::time::timeout(Duration::from_secs(30), wait).await.unwrap().unwrap();
    }
}

#[tokio::test]
async fn a_job_is_bound_and_reported_on_a_real_cluster() {
    if std::env::var_os("KUBECONFIG").is_none() {
        eprintln!("KUBECONFIG is not set: skipping the real-cluster test");
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = kube::Client::try_default().await.expect("KUBECONFIG is set but names no reachable cluster");
    install_crds(&client).await;

    let run = format!("e2e-{}", std::process::id());
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let mut ns = Namespace::default();
    ns.metadata.name = Some(run.clone());
    namespaces.create(&PostParams::default(), &ns).await.unwrap();
    let tenant = support::tenant(&format!(
        "apiVersion: tidepool.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: {run}}}\n\
         spec: {{namespaces: [{run}], quotas: [{{family: nvidia, nominal: 2, borrowingLimit: 0}}]}}\n"
    ));
    Api::<Tenant>::all(client.clone()).create(&PostParams::default(), &tenant).await.unwrap();
    let mut job = support::job(&format!(
        "apiVersion: tidepool.dev/v1alpha1\nkind: TrainingJob\nmetadata: {{name: probe, namespace: {run}}}\n\
         spec: {{workloadClass: llm-training, replicas: {{min: 1}}, devicesPerReplica: 1,\n\
         accelerators: [{{model: nvidia-h100}}], template: {{spec: {{containers: [{{name: main, image: busybox}}]}}}}}}\n"
    ));
    job.metadata.namespace = Some(run.clone());
    let jobs: Api<TrainingJob> = Api::namespaced(client.clone(), &run);
    jobs.create(&PostParams::default(), &job).await.unwrap();

    let nodes = Api::<Node>::all(client.clone()).list(&ListParams::default()).await.unwrap().items;
    let node = nodes.iter().find(|n| schedulable(n)).expect("the cluster has no schedulable node");
    let node_name = node.metadata.name.clone().unwrap();
    let gpu = |i: u32| InventoryDevice {
        family: "nvidia".into(),
        model: "nvidia-h100".into(),
        id: format!("GPU-e2e-{i}"),
        healthy: true,
    };
    let inventory = NodeInventory { node: node_name.clone(), devices: vec![gpu(0), gpu(1)] };
    let ctx = Context {
        client: client.clone(),
        clock: Arc::new(SystemClock),
        config: Config { cluster: "e2e".into(), concurrency: 16 },
    };
    let pods_api = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(client.clone(), &run);
    let first = reconcile_once(&ctx, std::slice::from_ref(&inventory)).await.unwrap();
    let pods = pods_api.list(&ListParams::default()).await.unwrap().items;
    let status = jobs.get("probe").await.unwrap().status;
    // The kubelet may refuse the pod (no such device) and the pass replace it: never two pods.
    let second = reconcile_once(&ctx, std::slice::from_ref(&inventory)).await.unwrap();
    let after = pods_api.list(&ListParams::default()).await.unwrap().items;
    let _ = namespaces.delete(&run, &DeleteParams::default()).await;
    let _ = Api::<Tenant>::all(client.clone()).delete(&run, &DeleteParams::default()).await;

    assert!(first.applied.errors.is_empty(), "{:?}", first.applied.errors);
    assert_eq!(first.applied.created, 1, "{first:?}");
    assert_eq!(pods.len(), 1);
    assert_eq!(pods[0].spec.as_ref().unwrap().node_name.as_deref(), Some(node_name.as_str()));
    let placement = status.unwrap().placement.expect("status names the placement");
    assert_eq!(placement.nodes, [node_name]);
    assert!(after.len() <= 1, "a duplicate after a second pass: {after:?} {second:?}");
}
