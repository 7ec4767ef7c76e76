//! The in-memory API the controller is tested against (`kube-fake-client`), with the two pod
//! subresources it lacks routed through its create interceptor: it files `POST pods/<name>/binding`
//! and `pods/<name>/eviction` as a create of the body, so a `Binding` body sets the pod's
//! `spec.nodeName` (409 when bound elsewhere) and an `Eviction` body deletes the pod, recording the
//! grace period asked for (the fake has no kubelet: the pod goes at once).

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use k8s_openapi::api::core::v1::{Node, NodeStatus, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::PostParams;
use kube_fake_client::{ClientBuilder, Error, interceptor};
use serde_json::{Value, json};
use tidepool_crds::{AcceleratorModel, InferenceService, SchedulingPolicy, Tenant, TrainingJob};

/// Evictions seen: (namespace, pod, grace seconds).
pub type Evictions = Arc<Mutex<Vec<(String, String, Option<i64>)>>>;

/// Bindings done: (namespace, pod, when).
pub type Bindings = Arc<Mutex<Vec<(String, String, Instant)>>>;

fn status_ok() -> Value {
    json!({"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Success"})
}

/// A fake API with Tidepool's kinds registered, their status subresources on, and binding and
/// eviction routed.
pub async fn client() -> (kube::Client, Evictions) {
    let (client, evictions, _) = client_with_bind_log().await;
    (client, evictions)
}

/// As [`client`], also logging when each pod was bound.
pub async fn client_with_bind_log() -> (kube::Client, Evictions, Bindings) {
    let evictions: Evictions = Arc::default();
    let bindings: Bindings = Arc::default();
    let seen = evictions.clone();
    let bound = bindings.clone();
    let funcs = interceptor::Funcs::new().create(move |ctx| {
        let kind = ctx.object.get("kind").and_then(Value::as_str).unwrap_or_default();
        let name = ctx.object.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "Binding" => {
                let node = ctx.object.pointer("/target/name").and_then(Value::as_str).unwrap_or_default();
                let mut pod: Pod = ctx.client.get(ctx.namespace, name)?;
                let spec = pod.spec.get_or_insert_with(Default::default);
                match spec.node_name.as_deref() {
                    Some(n) if n == node => return Err(Error::Conflict(format!("pod {name} is already bound"))),
                    Some(_) => return Err(Error::Conflict(format!("pod {name} is already assigned to a node"))),
                    None => spec.node_name = Some(node.to_owned()),
                }
                ctx.client.update(ctx.namespace, &pod, &PostParams::default())?;
                bound.lock().unwrap().push((ctx.namespace.to_owned(), name.to_owned(), Instant::now()));
                Ok(Some(status_ok()))
            }
            "Eviction" => {
                let grace = ctx.object.pointer("/deleteOptions/gracePeriodSeconds").and_then(Value::as_i64);
                ctx.client.delete::<Pod>(ctx.namespace, name)?;
                seen.lock().unwrap().push((ctx.namespace.to_owned(), name.to_owned(), grace));
                Ok(Some(status_ok()))
            }
            _ => Ok(None),
        }
    });
    let client = ClientBuilder::new()
        .with_resource::<TrainingJob>()
        .with_resource::<InferenceService>()
        .with_resource::<Tenant>()
        .with_resource::<SchedulingPolicy>()
        .with_resource::<AcceleratorModel>()
        .with_interceptor_funcs(funcs)
        .build()
        .await
        .unwrap();
    (client, evictions, bindings)
}

/// A node with `count` devices as a vendor plugin publishes them: allocatable `resource` and the
/// model label `label` = `value`, plus extra labels.
pub fn vendor_node(name: &str, resource: &str, count: u32, label: (&str, &str), extra: &[(&str, &str)]) -> Node {
    let mut n = Node::default();
    n.metadata.name = Some(name.into());
    let mut labels: BTreeMap<String, String> = extra.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
    labels.insert(label.0.into(), label.1.into());
    n.metadata.labels = Some(labels);
    n.status = Some(NodeStatus {
        allocatable: Some(
            [(resource.to_owned(), Quantity(count.to_string())), ("cpu".to_owned(), Quantity("128".into()))].into(),
        ),
        ..Default::default()
    });
    n
}

/// The `nvidia.com/gpu.product` label value of a catalogue model.
pub fn product_label(model: &str) -> (String, String) {
    let cat = tidepool_crds::Catalogue::builtin();
    let m = cat.get(model).unwrap();
    let (k, v) = m.spec.node_labels.iter().next().unwrap();
    (k.clone(), v.clone())
}

/// A node of `model` with 8 devices, as its vendor plugin publishes it.
pub fn model_node(name: &str, model: &str, extra: &[(&str, &str)]) -> Node {
    let cat = tidepool_crds::Catalogue::builtin();
    let m = cat.get(model).unwrap();
    let (k, v) = product_label(model);
    vendor_node(name, &m.spec.resource_names[0], 8, (&k, &v), extra)
}
