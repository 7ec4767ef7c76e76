//! The pod of one replica, built from its workload's template for one bind: deterministic name
//! `<workload>-<replica>`, owner reference to the workload, Tidepool's labels, `schedulerName:
//! tidepool`, the device resource on the first container (requests = limits), the accelerator's
//! image when the chosen choice carries one, and annotations with the node, model, usage class and
//! device ids. Pure: creating and binding it is the applier's job.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Pod, PodSpec, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use tidepool_crds::{AcceleratorChoice, AcceleratorModel, Family};

use crate::labels;
use crate::snapshot::Object;

/// Where one replica goes.
#[derive(Clone, Debug)]
pub struct Placed<'a> {
    /// Replica index.
    pub replica: u32,
    /// Node name.
    pub node: &'a str,
    /// Device ids on the node.
    pub devices: Vec<String>,
    /// Catalogue model of the devices.
    pub model: &'a AcceleratorModel,
    /// Usage class, as `Guaranteed`, `Borrowed` or `Tidal`.
    pub usage: &'static str,
    /// Owning tenant's name.
    pub tenant: &'a str,
    /// On tidal capacity: the lending service, `namespace/name`.
    pub lender: Option<String>,
}

/// The pod for `placed` of `workload`.
pub fn replica_pod(workload: &Object, placed: &Placed<'_>) -> Pod {
    let (template, choices) = match workload {
        Object::Training(j) => (&j.spec.template, &j.spec.accelerators),
        Object::Inference(s) => (&s.spec.template, &s.spec.accelerators),
    };
    let meta = workload.meta();
    let mut pod_labels = template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default();
    pod_labels.insert(labels::TENANT.into(), placed.tenant.into());
    pod_labels.insert(labels::WORKLOAD.into(), workload.name());
    pod_labels.insert(labels::KIND.into(), workload.kind().into());
    pod_labels.insert(labels::REPLICA.into(), placed.replica.to_string());
    let mut annotations = template.metadata.as_ref().and_then(|m| m.annotations.clone()).unwrap_or_default();
    annotations.insert(labels::NODE.into(), placed.node.into());
    annotations.insert(labels::MODEL.into(), model_name(placed.model));
    annotations.insert(labels::USAGE.into(), placed.usage.into());
    annotations.insert(labels::DEVICES.into(), placed.devices.join(","));
    if let Some(lender) = &placed.lender {
        annotations.insert(labels::LENDER.into(), lender.clone());
    }

    let mut spec: PodSpec = template.spec.clone().unwrap_or_default();
    spec.scheduler_name = Some(labels::SCHEDULER_NAME.into());
    if let Some(first) = spec.containers.first_mut() {
        if let Some(resource) = placed.model.spec.resource_names.first() {
            let r = first.resources.get_or_insert_with(ResourceRequirements::default);
            let qty = Quantity(placed.devices.len().to_string());
            r.requests.get_or_insert_with(BTreeMap::new).insert(resource.clone(), qty.clone());
            r.limits.get_or_insert_with(BTreeMap::new).insert(resource.clone(), qty);
        }
        if let Some(image) = image_for(choices, placed.model) {
            first.image = Some(image);
        }
    }
    Pod {
        metadata: ObjectMeta {
            name: Some(labels::pod_name(&workload.name(), placed.replica)),
            namespace: meta.namespace.clone(),
            labels: Some(pod_labels),
            annotations: Some(annotations),
            owner_references: Some(vec![OwnerReference {
                api_version: format!("{}/{}", tidepool_crds::GROUP, tidepool_crds::VERSION),
                kind: workload.kind().into(),
                name: workload.name(),
                uid: meta.uid.clone().unwrap_or_default(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    }
}

fn model_name(m: &AcceleratorModel) -> String {
    m.metadata.name.clone().unwrap_or_default()
}

/// The image of the first choice that covers `model` and carries one.
fn image_for(choices: &[AcceleratorChoice], model: &AcceleratorModel) -> Option<String> {
    let name = model_name(model);
    let family: Family = model.spec.family;
    choices.iter().filter(|c| c.target().is_some_and(|t| t.covers(&name, family))).find_map(|c| c.image.clone())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use tidepool_crds::manifests::{self, ApiObject};

    use super::*;

    fn job() -> tidepool_crds::TrainingJob {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/group-cloud/training-jobs.yaml");
        manifests::read_file(&path)
            .unwrap()
            .into_iter()
            .find_map(|o| match o {
                ApiObject::TrainingJob(j) => Some(*j),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn a_replica_pod_carries_name_owner_labels_devices_and_the_stack_image() {
        let mut j = job();
        j.metadata.uid = Some("u-1".into());
        let cat = tidepool_crds::Catalogue::builtin();
        let ascend = cat.get("ascend-910b").unwrap();
        let placed = Placed {
            replica: 1,
            node: "n7",
            devices: vec!["0".into(), "1".into()],
            model: ascend,
            usage: "Guaranteed",
            tenant: "bank-risk",
            lender: None,
        };
        let pod = replica_pod(&Object::Training(j.clone()), &placed);
        assert_eq!(pod.metadata.name.as_deref(), Some("credit-risk-llm-sft-1"));
        let owner = &pod.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.uid.as_str()), ("TrainingJob", "u-1"));
        let l = pod.metadata.labels.as_ref().unwrap();
        assert_eq!(l[labels::TENANT], "bank-risk");
        assert_eq!(l[labels::REPLICA], "1");
        assert_eq!(l["app.kubernetes.io/component"], "trainer");
        assert_eq!(pod.metadata.annotations.as_ref().unwrap()[labels::DEVICES], "0,1");
        let spec = pod.spec.as_ref().unwrap();
        assert_eq!(spec.scheduler_name.as_deref(), Some("tidepool"));
        let c = &spec.containers[0];
        let resource = &ascend.spec.resource_names[0];
        assert_eq!(c.resources.as_ref().unwrap().limits.as_ref().unwrap()[resource].0, "2");
        assert_eq!(c.image.as_deref(), Some("registry.group.internal/bank/credit-llm:cann8.0-torch2.1"));

        let a100 = cat.get("nvidia-a100-80g").unwrap();
        let pod = replica_pod(&Object::Training(j), &Placed { model: a100, ..placed });
        assert_eq!(
            pod.spec.unwrap().containers[0].image.as_deref(),
            Some("registry.group.internal/bank/credit-llm:cuda12.4-torch2.3")
        );
    }
}
