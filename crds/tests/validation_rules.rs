//! One row per rule of the API: a valid object, one change that breaks one rule, and the field the
//! rejection must name. Each row is checked on both sides — the Rust `validate()` used by the
//! controller and simulator, and the CRD schema + CEL rules the API server applies — so the two
//! cannot drift apart.

mod common;

use common::api_server_errors;
use serde::Serialize;
use tidepool_crds::common::AcceleratorChoice;
use tidepool_crds::tenant::{Isolation, Quota, Tenant, validate_tenant_tree};
use tidepool_crds::training_job::Checkpoint;
use tidepool_crds::{
    AcceleratorModel, Catalogue, Family, InferenceService, SchedulingPolicy, TrainingJob, Validate, WorkloadClass,
};

const JOB: &str = r#"
apiVersion: tidepool.dev/v1alpha1
kind: TrainingJob
metadata: {name: fine-tune, namespace: bank-retail}
spec:
  template: {spec: {containers: [{name: trainer, image: trainer:1}]}}
  replicas: {min: 2, max: 4}
  devicesPerReplica: 8
  accelerators: [{model: nvidia-a100-80g}, {family: ascend, minMemoryGiB: 64}]
  workloadClass: llm-training
  expectedWork: "1200"
  checkpoint: {intervalSeconds: 1800, gracePeriodSeconds: 120}
"#;

const SERVICE: &str = r#"
apiVersion: tidepool.dev/v1alpha1
kind: InferenceService
metadata: {name: chatbot, namespace: bank-retail}
spec:
  template: {spec: {containers: [{name: server, image: server:1}]}}
  replicas: {min: 2, max: 8}
  accelerators: [{model: nvidia-h20, capacityRequestsPerSecond: "40"}]
  demand: {peakRequestsPerSecond: "300"}
"#;

const TENANT: &str = r#"
apiVersion: tidepool.dev/v1alpha1
kind: Tenant
metadata: {name: bank}
spec:
  parent: group
  namespaces: [bank-retail]
  quotas: [{family: ascend, nominal: 32, borrowingLimit: 16, lendingLimit: 8}]
"#;

fn parse<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
    serde_yaml::from_str(yaml).expect("base object parses")
}

/// Asserts the object breaks a rule at `field` for Rust and for the API server.
fn assert_rejected<T: Validate + Serialize>(kind: &str, object: &T, field: &str) {
    let violations = object.validate().expect_err(&format!("{field}: accepted by validate()"));
    assert!(violations.mentions(field), "expected {field}, got:\n{violations}");
    assert!(!api_server_errors(kind, object).is_empty(), "{field}: the API server would accept it");
}

fn assert_accepted<T: Validate + Serialize>(kind: &str, object: &T) {
    object.validate().unwrap_or_else(|v| panic!("rejected: {v}"));
    let server = api_server_errors(kind, object);
    assert!(server.is_empty(), "API server rejects: {server:?}");
}

#[test]
fn training_job_rules() {
    assert_accepted("TrainingJob", &parse::<TrainingJob>(JOB));
    type Change = fn(&mut TrainingJob);
    let rows: [(&str, Change); 8] = [
        ("spec.replicas.max", |j| j.spec.replicas.max = Some(1)),
        ("spec.accelerators", |j| j.spec.accelerators.clear()),
        ("spec.accelerators[0].model", |j| j.spec.accelerators[0].family = Some(Family::Nvidia)),
        ("spec.accelerators[1].model", |j| j.spec.accelerators[1] = AcceleratorChoice::default()),
        ("spec.checkpoint.gracePeriodSeconds", |j| {
            j.spec.checkpoint = Some(Checkpoint { interval_seconds: 600, grace_period_seconds: 600 })
        }),
        ("spec.expectedWork", |j| j.spec.expected_work = Some("-5".into())),
        ("spec.accelerators[0].relativeThroughput", |j| {
            j.spec.accelerators[0].relative_throughput = Some("fast".into())
        }),
        ("spec.devicesPerReplica", |j| j.spec.devices_per_replica = 0),
    ];
    for (field, change) in rows {
        let mut job = parse::<TrainingJob>(JOB);
        change(&mut job);
        assert_rejected("TrainingJob", &job, field);
    }
}

#[test]
fn a_training_job_with_a_serving_class_is_rejected_by_rust() {
    let mut job = parse::<TrainingJob>(JOB);
    job.spec.workload_class = WorkloadClass::LlmInference;
    assert!(job.validate().expect_err("rejected").mentions("spec.workloadClass"));
}

#[test]
fn inference_service_rules() {
    assert_accepted("InferenceService", &parse::<InferenceService>(SERVICE));
    type Change = fn(&mut InferenceService);
    let rows: [(&str, Change); 5] = [
        ("spec.accelerators[0].capacityRequestsPerSecond", |s| {
            s.spec.accelerators[0].capacity_requests_per_second = None
        }),
        ("spec.demand.hourlyProfile", |s| s.spec.demand.hourly_profile = vec!["0.5".into(); 23]),
        ("spec.demand.peakRequestsPerSecond", |s| s.spec.demand.peak_requests_per_second = "1e3".into()),
        ("spec.targetUtilizationPercent", |s| s.spec.target_utilization_percent = 0),
        ("spec.replicas.min", |s| s.spec.replicas.min = 0),
    ];
    for (field, change) in rows {
        let mut svc = parse::<InferenceService>(SERVICE);
        change(&mut svc);
        assert_rejected("InferenceService", &svc, field);
    }
}

#[test]
fn tenant_rules() {
    assert_accepted("Tenant", &parse::<Tenant>(TENANT));
    type Change = fn(&mut Tenant);
    let rows: [(&str, Change); 4] = [
        ("spec.quotas[0].lendingLimit", |t| t.spec.quotas[0].lending_limit = Some(33)),
        ("spec.quotas[1].family", |t| {
            t.spec.quotas.push(Quota {
                family: Some(Family::Ascend),
                model: None,
                nominal: 1,
                borrowing_limit: None,
                lending_limit: None,
            })
        }),
        ("spec.placement.dedicatedNodeSelector", |t| t.spec.placement.isolation = Isolation::Dedicated),
        ("spec.parent", |t| t.spec.parent = Some("bank".into())),
    ];
    for (field, change) in rows {
        let mut tenant = parse::<Tenant>(TENANT);
        change(&mut tenant);
        assert_rejected("Tenant", &tenant, field);
    }
}

#[test]
fn tenant_tree_rules() {
    let tenant = |name: &str, parent: Option<&str>, ns: &[&str], ascend: u32| {
        let mut t = parse::<Tenant>(TENANT);
        t.metadata.name = Some(name.into());
        t.spec.parent = parent.map(Into::into);
        t.spec.namespaces = ns.iter().map(|s| (*s).to_owned()).collect();
        t.spec.quotas[0].nominal = ascend;
        t.spec.quotas[0].lending_limit = None;
        t
    };
    let ok = [
        tenant("group", None, &[], 64),
        tenant("bank", Some("group"), &["a"], 32),
        tenant("insurer", Some("group"), &["b"], 32),
    ];
    validate_tenant_tree(&ok).expect("a tree that fits");

    let over = [
        tenant("group", None, &[], 64),
        tenant("bank", Some("group"), &["a"], 40),
        tenant("insurer", Some("group"), &["b"], 32),
    ];
    assert!(validate_tenant_tree(&over).expect_err("72 > 64").mentions("tenant/group: spec.quotas"));

    let orphan = [tenant("bank", Some("nobody"), &["a"], 1)];
    assert!(validate_tenant_tree(&orphan).expect_err("no parent").mentions("tenant/bank: spec.parent"));

    let cycle = [tenant("a", Some("b"), &[], 1), tenant("b", Some("a"), &[], 1)];
    assert!(validate_tenant_tree(&cycle).expect_err("cycle").mentions("tenant/a: spec.parent"));

    let shared_ns = [
        tenant("group", None, &[], 64),
        tenant("bank", Some("group"), &["a"], 1),
        tenant("insurer", Some("group"), &["a"], 1),
    ];
    assert!(validate_tenant_tree(&shared_ns).expect_err("namespace twice").mentions("tenant/insurer: spec.namespaces"));
}

#[test]
fn accelerator_model_rules() {
    let base = Catalogue::builtin().get("ascend-910b").cloned().expect("in the catalogue");
    assert_accepted("AcceleratorModel", &base);
    type Change = fn(&mut AcceleratorModel);
    let rows: [(&str, Change); 5] = [
        ("spec.prices.list", |m| m.spec.prices.list = "-3.50".into()),
        ("spec.prices.transfer", |m| m.spec.prices.transfer = "12,5".into()),
        ("spec.softwareStack", |m| m.spec.software_stack = tidepool_crds::SoftwareStack::Cuda),
        ("spec.relativeThroughput.llm-trainng", |m| {
            m.spec.relative_throughput.insert("llm-trainng".into(), "0.8".into());
        }),
        ("spec.resourceNames", |m| m.spec.resource_names.clear()),
    ];
    for (field, change) in rows {
        let mut model = base.clone();
        change(&mut model);
        assert_rejected("AcceleratorModel", &model, field);
    }
}

#[test]
fn scheduling_policy_rules() {
    let policy: SchedulingPolicy =
        parse("apiVersion: tidepool.dev/v1alpha1\nkind: SchedulingPolicy\nmetadata: {name: default}\nspec: {}\n");
    assert_accepted("SchedulingPolicy", &policy);
    assert_eq!(policy.spec.pricing.usage_class_multipliers.tidal, "0.50", "defaults apply to an empty spec");
    type Change = fn(&mut SchedulingPolicy);
    let rows: [(&str, Change); 3] = [
        ("spec.pricing.usageClassMultipliers.tidal", |p| p.spec.pricing.usage_class_multipliers.tidal = "half".into()),
        ("spec.utcOffsetHours", |p| p.spec.utc_offset_hours = 20),
        ("spec.pricing.currency", |p| p.spec.pricing.currency = "yuan".into()),
    ];
    for (field, change) in rows {
        let mut p = policy.clone();
        change(&mut p);
        assert_rejected("SchedulingPolicy", &p, field);
    }
}

#[test]
fn violations_are_all_reported_at_once() {
    let mut job = parse::<TrainingJob>(JOB);
    job.spec.replicas.max = Some(1);
    job.spec.expected_work = Some("lots".into());
    job.spec.accelerators[0].family = Some(Family::Nvidia);
    assert_eq!(job.validate().expect_err("three problems").0.len(), 3);
}
