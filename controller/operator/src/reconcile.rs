//! One reconcile pass: list → snapshot → `schedule` → apply. Usable from tests and from the
//! binary's loop. Every pass lists the cluster afresh; reflectors would replace the listing
//! later without changing the rest.

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, ListParams};
use serde::de::DeserializeOwned;
use tidepool_crds::{AcceleratorModel, InferenceService, SchedulingPolicy, Tenant, TrainingJob};
use tidepool_engine::{Seconds, schedule};

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

/// One pass with the inventories agents reported (nodes without one use what vendor plugins
/// publish). Errors of single objects are in the report; listing or snapshot errors end the pass.
pub async fn reconcile_once(ctx: &Context, inventories: &[NodeInventory]) -> Result<PassReport, Error> {
    let objects = list_objects(ctx).await?;
    let now = ctx.clock.now();
    let assembled = snapshot::assemble(&ctx.config.cluster, &objects, inventories, Seconds(now.as_second()))
        .map_err(|e| Error::Snapshot(e.to_string()))?;
    assembled.snapshot.check().map_err(|e| Error::Snapshot(e.to_string()))?;
    let plan = schedule(&assembled.snapshot, &assembled.policy, Seconds(now.as_second()));
    let applied = applier::apply(ctx, &assembled, &plan, &Time(now)).await;
    Ok(PassReport {
        workloads: assembled.workloads.len(),
        planned_binds: plan.binds.len(),
        pending: plan.pending.len(),
        applied,
    })
}
