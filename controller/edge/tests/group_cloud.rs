//! The example group cloud (`examples/group-cloud/`) converted and scheduled on a small mixed
//! fleet: every workload starts or says why not, data residency and isolation hold.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use tidepool_crds::manifests::{self, ApiObject};
use tidepool_crds::scheduling_policy::PriceBasis;
use tidepool_edge as edge;
use tidepool_engine::*;

const CLUSTERS: [&str; 4] = ["sh-group-dc", "sh-bank-dc", "bj-insurer-dc", "sz-sec-dc"];

fn objects() -> Vec<ApiObject> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/group-cloud");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.iter().flat_map(|f| manifests::read_file(f).unwrap()).collect()
}

fn api_tenants(objects: &[ApiObject]) -> Vec<tidepool_crds::Tenant> {
    objects
        .iter()
        .filter_map(|o| match o {
            ApiObject::Tenant(t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

/// (cluster, model, nodes, dedicated tenant name)
const FLEET: [(usize, &str, usize, Option<&str>); 9] = [
    (1, "nvidia-h800", 4, Some("bank-risk")),
    (1, "ascend-910b", 4, None),
    (0, "nvidia-a100-80g", 4, None),
    (0, "nvidia-h20", 2, None),
    (0, "nvidia-l20", 2, None),
    (0, "kunlunxin-p800", 2, None),
    (2, "cambricon-mlu590", 2, None),
    (2, "hygon-k100-ai", 2, None),
    (3, "nvidia-h800", 2, None),
];

#[test]
fn the_example_group_cloud_schedules_with_residency_and_isolation() {
    let objects = objects();
    let catalogue = edge::catalogue(&tidepool_crds::Catalogue::builtin(), PriceBasis::Transfer);
    let api_tenants = api_tenants(&objects);
    let clusters: Vec<String> = CLUSTERS.iter().map(|c| (*c).to_owned()).collect();
    let tenants = edge::tenants(&api_tenants, &catalogue, &clusters).unwrap();
    let policy = objects
        .iter()
        .find_map(|o| match o {
            ApiObject::SchedulingPolicy(p) => Some(edge::policy(&p.spec)),
            _ => None,
        })
        .unwrap();

    let mut s = Snapshot { catalogue, ..Default::default() };
    s.clusters = clusters.iter().map(|c| Cluster { name: c.clone() }).collect();
    for (i, &(cluster, model, count, dedicated)) in FLEET.iter().enumerate() {
        s.groups.push(Group { name: format!("g{i}"), cluster: ClusterId(cluster as u32), rack: 0 });
        let model = s.catalogue.model_id(model).unwrap();
        for n in 0..count {
            s.nodes.push(Node {
                name: format!("{}-{model:?}-{n}", CLUSTERS[cluster]),
                group: GroupId(i as u32),
                schedulable: true,
                dedicated_to: dedicated.map(|d| tenants.by_name[d]),
                devices: (0..8)
                    .map(|d| Device { id: format!("{d}"), model, link_domain: d / 4, healthy: true })
                    .collect(),
            });
        }
    }
    s.tenants = tenants.tenants.clone();
    for (i, o) in objects.iter().enumerate() {
        let at = Seconds(i as i64);
        match o {
            ApiObject::TrainingJob(j) => s.workloads.push(edge::training_job(j, &tenants, &s.catalogue, at).unwrap()),
            ApiObject::InferenceService(svc) => {
                s.workloads.push(edge::inference_service(svc, 4, &tenants, &s.catalogue, at).unwrap())
            }
            _ => {}
        }
    }
    s.check().unwrap();
    let plan = schedule(&s, &policy, Seconds(0));

    for w in s.workload_ids() {
        let wl = &s.workloads[w.ix()];
        let binds: Vec<_> = plan.binds.iter().filter(|b| b.workload == w).collect();
        let pending = plan.pending.iter().find(|p| p.workload == w);
        assert!(!binds.is_empty() || pending.is_some(), "{} neither placed nor pending", wl.name);
        let tenant = &s.tenants[wl.tenant.ix()];
        for b in &binds {
            let cluster = s.cluster_of(b.node);
            assert!(tenant.allows_cluster(cluster), "{} in {}", wl.name, CLUSTERS[cluster.ix()]);
            if tenant.dedicated_only {
                assert_eq!(s.nodes[b.node.ix()].dedicated_to, Some(wl.tenant), "{} off its dedicated nodes", wl.name);
            }
        }
    }
    let placed = |name: &str| {
        let w = s.workloads.iter().position(|w| w.name == name).unwrap();
        plan.binds.iter().any(|b| b.workload.ix() == w)
    };
    assert!(placed("bank-risk-models/credit-risk-llm-sft"), "{:#?}", plan.pending);
    assert!(placed("bank-chatbot/cs-chatbot"), "{:#?}", plan.pending);
}

#[test]
fn a_job_naming_an_unknown_model_is_reported_with_its_field() {
    let catalogue = edge::catalogue(&tidepool_crds::Catalogue::builtin(), PriceBasis::Transfer);
    let objects = objects();
    let api_tenants = api_tenants(&objects);
    let tenants = edge::tenants(&api_tenants, &catalogue, &[]).unwrap();
    let mut job = objects
        .iter()
        .find_map(|o| match o {
            ApiObject::TrainingJob(j) => Some((**j).clone()),
            _ => None,
        })
        .unwrap();
    job.spec.accelerators[0].model = Some("nvidia-b300".into());
    let err = edge::training_job(&job, &tenants, &catalogue, Seconds(0)).unwrap_err();
    assert_eq!(err.field, "spec.accelerators[0].model");
    assert!(err.to_string().contains("\"nvidia-b300\" is not in the catalogue"));
}
