//! The pod calls of the applier, each idempotent: make sure a replica's pod exists and is bound
//! to its node (create, then `pods/binding`), and evict a pod with a grace period
//! (`pods/eviction`). A restart between any two calls is safe: an existing pod bound where the
//! plan says is left alone; an unbound one from an older plan is replaced.
//!
//! These go through `kube::Api` subresource calls only, so a test API can route them (the
//! in-memory fake does, through its create interceptor).

use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod};
use k8s_openapi::api::policy::v1::Eviction;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::DeleteOptions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, PostParams};

use crate::error::Error;
use crate::labels;

fn reference(pods: &Api<Pod>, name: &str) -> String {
    let ns = pods.namespace().unwrap_or_default();
    format!("Pod/{ns}/{name}")
}

fn conflict(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

/// What [`ensure_bound`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Created and bound now.
    Created,
    /// The pod existed unbound and was bound now.
    BoundExisting,
    /// The pod was already bound to the node.
    AlreadyBound,
}

/// Makes sure `pod` exists and is bound to `node`.
pub async fn ensure_bound(pods: &Api<Pod>, pod: &Pod, node: &str) -> Result<Bound, Error> {
    let name = pod.name_any();
    let object = || reference(pods, &name);
    match pods.create(&PostParams::default(), pod).await {
        Ok(_) => {
            bind(pods, &name, node).await?;
            return Ok(Bound::Created);
        }
        Err(e) if conflict(&e) => {}
        Err(source) => return Err(Error::Object { action: "creating", object: object(), source }),
    }
    let existing =
        pods.get(&name).await.map_err(|source| Error::Object { action: "reading", object: object(), source })?;
    let phase = existing.status.as_ref().and_then(|s| s.phase.as_deref());
    if existing.metadata.deletion_timestamp.is_some() || matches!(phase, Some("Succeeded" | "Failed")) {
        // The replica's previous pod has stopped and is being removed; its name frees up soon.
        return Err(Error::StillStopping { object: object() });
    }
    match existing.spec.as_ref().and_then(|s| s.node_name.as_deref()) {
        Some(n) if n == node => Ok(Bound::AlreadyBound),
        Some(n) => Err(Error::BoundElsewhere { object: object(), found: n.to_owned(), planned: node.to_owned() }),
        None if same_devices(&existing, pod) => {
            bind(pods, &name, node).await?;
            Ok(Bound::BoundExisting)
        }
        None => {
            // Created for an older plan and never bound: it never ran, replace it.
            match pods.delete(&name, &DeleteParams::default().grace_period(0)).await {
                Ok(_) => {}
                Err(e) if not_found(&e) => {}
                Err(source) => return Err(Error::Object { action: "replacing", object: object(), source }),
            }
            pods.create(&PostParams::default(), pod).await.map_err(|source| Error::Object {
                action: "creating",
                object: object(),
                source,
            })?;
            bind(pods, &name, node).await?;
            Ok(Bound::Created)
        }
    }
}

fn same_devices(a: &Pod, b: &Pod) -> bool {
    let get = |p: &Pod, k: &str| p.annotations().get(k).cloned();
    [labels::NODE, labels::DEVICES, labels::MODEL].iter().all(|k| get(a, k) == get(b, k))
}

/// Binds pod `name` to `node` through `pods/binding`; a pod already bound there is fine.
pub async fn bind(pods: &Api<Pod>, name: &str, node: &str) -> Result<(), Error> {
    let binding = Binding {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: pods.namespace().map(str::to_owned),
            ..Default::default()
        },
        target: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Node".into()),
            name: Some(node.to_owned()),
            ..Default::default()
        },
    };
    match pods.create_subresource::<_, serde_json::Value>("binding", name, &PostParams::default(), &binding).await {
        Ok(_) => Ok(()),
        Err(e) if conflict(&e) => {
            let pod = pods.get(name).await.map_err(|source| Error::Object {
                action: "reading",
                object: reference(pods, name),
                source,
            })?;
            match pod.spec.and_then(|s| s.node_name) {
                Some(n) if n == node => Ok(()),
                found => Err(Error::BoundElsewhere {
                    object: reference(pods, name),
                    found: found.unwrap_or_default(),
                    planned: node.to_owned(),
                }),
            }
        }
        Err(source) => Err(Error::Object { action: "binding", object: reference(pods, name), source }),
    }
}

/// Evicts pod `name` with `grace_seconds` of notice; a pod already gone is fine.
pub async fn evict(pods: &Api<Pod>, name: &str, grace_seconds: i64) -> Result<(), Error> {
    // `pods/eviction` with a policy/v1 `Eviction` body. (kube's `Api::evict` sends its delete
    // options as `delete_options`, a key the API server does not read, so the grace would be lost.)
    let eviction = Eviction {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: pods.namespace().map(str::to_owned),
            ..Default::default()
        },
        delete_options: Some(DeleteOptions { grace_period_seconds: Some(grace_seconds.max(0)), ..Default::default() }),
    };
    match pods.create_subresource::<_, serde_json::Value>("eviction", name, &PostParams::default(), &eviction).await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(source) => Err(Error::Object { action: "evicting", object: reference(pods, name), source }),
    }
}

/// Deletes a pod (with its own grace period); one already gone is fine.
pub async fn remove(pods: &Api<Pod>, name: &str) -> Result<(), Error> {
    match pods.delete(name, &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(source) => Err(Error::Object { action: "deleting", object: reference(pods, name), source }),
    }
}
