//! The CustomResourceDefinitions, generated from the types. `make crds` writes them to
//! `crds/manifests/`; a test fails when the committed files differ from what the types generate.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::{AcceleratorModel, InferenceService, SchedulingPolicy, Tenant, TrainingJob};

/// Every Tidepool CRD, in a stable order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![AcceleratorModel::crd(), Tenant::crd(), TrainingJob::crd(), InferenceService::crd(), SchedulingPolicy::crd()]
}

/// The file name a CRD is written to: its full name (`trainingjobs.tidepool.dev.yaml`).
pub fn file_name(crd: &CustomResourceDefinition) -> String {
    format!("{}.yaml", crd.metadata.name.as_deref().unwrap_or("unnamed"))
}

/// The YAML written for a CRD, with a header saying where it comes from.
pub fn to_yaml(crd: &CustomResourceDefinition) -> Result<String, serde_yaml::Error> {
    Ok(format!(
        "# Generated from crds/src by `make crds`; do not edit. A test fails when this file drifts.\n{}",
        serde_yaml::to_string(crd)?
    ))
}
