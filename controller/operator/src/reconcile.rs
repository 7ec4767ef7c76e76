//! One reconcile pass: objects → snapshot → `schedule` → apply. The running controller takes
//! the objects from its reflectors ([`crate::watch`]); [`reconcile_once`] lists them afresh,
//! for tests and one-off runs.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;
use tidepool_crds::{AcceleratorModel, InferenceService, SchedulingPolicy, Tenant, TrainingJob};
use tidepool_engine::{PendingCause, Seconds, schedule};

use crate::applier::{self, Applied};
use crate::context::Context;
use crate::error::Error;
use crate::inventory::NodeInventory;
use crate::labels;
use crate::snapshot::{self, Objects};

/// What one pass saw and did.
#[derive(Debug, Default)]
pub struct PassReport {
    /// Workloads in the snapshot.
    pub workloads: usize,
    /// Binds the engine planned.
    pub planned_binds: usize,
    /// Workloads left pending.
    pub pending: usize,
    /// Pending workloads by kind of obstacle.
    pub pending_by_cause: BTreeMap<PendingCause, u64>,
    /// What the applier did.
    pub applied: Applied,
}

async fn list<K>(ctx: &Context, kind: &'static str, params: &ListParams) -> Result<Vec<K>, Error>
where
    K: kube::Resource<DynamicType = ()> + Clone + DeserializeOwned + std::fmt::Debug,
{
    Api::<K>::all(ctx.client.clone()).list(params).await.map(|l| l.items).map_err(|source| Error::List { kind, source })
}

/// Lists everything one pass needs.
pub async fn list_objects(ctx: &Context) -> Result<Objects, Error> {
    let all = ListParams::default();
    Ok(Objects {
        nodes: list::<Node>(ctx, "Node", &all).await?,
        pods: list::<Pod>(ctx, "Pod", &ListParams::default().labels(labels::WORKLOAD)).await?,
        training_jobs: list::<TrainingJob>(ctx, "TrainingJob", &all).await?,
        inference_services: list::<InferenceService>(ctx, "InferenceService", &all).await?,
        tenants: list::<Tenant>(ctx, "Tenant", &all).await?,
        policies: list::<SchedulingPolicy>(ctx, "SchedulingPolicy", &all).await?,
        models: list::<AcceleratorModel>(ctx, "AcceleratorModel", &all).await?,
    })
}

/// One pass, listing the cluster first; see [`reconcile`].
pub async fn reconcile_once(ctx: &Context, inventories: &[NodeInventory]) -> Result<PassReport, Error> {
    reconcile(ctx, &list_objects(ctx).await?, inventories).await
}

/// One pass over `objects` with the inventories agents reported (nodes without one use what
/// vendor plugins publish). Errors of single objects are in the report; snapshot errors end the
/// pass.
pub async fn reconcile(ctx: &Context, objects: &Objects, inventories: &[NodeInventory]) -> Result<PassReport, Error> {
    let now = ctx.clock.now();
    let assembled = snapshot::assemble(&ctx.config.cluster, objects, inventories, Seconds(now.as_second()))
        .map_err(|e| Error::Snapshot(e.to_string()))?;
    assembled.snapshot.check().map_err(|e| Error::Snapshot(e.to_string()))?;
    let plan = schedule(&assembled.snapshot, &assembled.policy, Seconds(now.as_second()));
    let applied = applier::apply(ctx, &assembled, &plan, &Time(now)).await;
    let mut pending_by_cause = BTreeMap::new();
    for p in &plan.pending {
        *pending_by_cause.entry(p.cause).or_insert(0) += 1;
    }
    Ok(PassReport {
        workloads: assembled.workloads.len(),
        planned_binds: plan.binds.len(),
        pending: plan.pending.len(),
        pending_by_cause,
        applied,
    })
}
