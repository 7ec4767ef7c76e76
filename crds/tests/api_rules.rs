//! The API's contract, end to end: the committed CRDs are what the types generate, the example
//! group cloud is valid for both the API server (schema + CEL) and the Rust validation, and every
//! wrong example is rejected by both with a message naming the field.

mod common;

use common::{api_server_errors, repo_root, yaml_files};
use tidepool_crds::manifests::{self, ApiObject};
use tidepool_crds::tenant::validate_tenant_tree;
use tidepool_crds::{Validate, crdgen};

fn server_errors(object: &ApiObject) -> Vec<String> {
    match object {
        ApiObject::AcceleratorModel(o) => api_server_errors("AcceleratorModel", o),
        ApiObject::Tenant(o) => api_server_errors("Tenant", o),
        ApiObject::TrainingJob(o) => api_server_errors("TrainingJob", o),
        ApiObject::InferenceService(o) => api_server_errors("InferenceService", o),
        ApiObject::SchedulingPolicy(o) => api_server_errors("SchedulingPolicy", o),
    }
}

#[test]
fn committed_crds_match_the_types() {
    let dir = repo_root().join("crds/manifests");
    let generated = crdgen::all();
    assert_eq!(yaml_files(&dir).len(), generated.len(), "stale or missing files in crds/manifests");
    for crd in generated {
        let path = dir.join(crdgen::file_name(&crd));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == crdgen::to_yaml(&crd).expect("CRD serialises"),
            "{} differs from what the types generate: run `make crds` and commit",
            path.display()
        );
    }
}

#[test]
fn the_example_group_cloud_is_valid() {
    let files = yaml_files(&repo_root().join("examples/group-cloud"));
    let mut objects = Vec::new();
    for path in &files {
        objects.extend(manifests::read_file(path).unwrap_or_else(|e| panic!("{e}")));
    }
    let count = |pred: fn(&ApiObject) -> bool| objects.iter().filter(|o| pred(o)).count();
    assert!(count(|o| matches!(o, ApiObject::TrainingJob(_))) >= 3);
    assert!(count(|o| matches!(o, ApiObject::InferenceService(_))) >= 2);
    assert!(count(|o| matches!(o, ApiObject::SchedulingPolicy(_))) >= 1);
    assert!(count(|o| matches!(o, ApiObject::Tenant(_))) >= 4);
    for object in &objects {
        if let Err(v) = object.validate() {
            panic!("{} is rejected by validate():\n{v}", object.reference());
        }
        let server = server_errors(object);
        assert!(
            server.is_empty(),
            "{} is rejected by the CRD schema or CEL:\n{}",
            object.reference(),
            server.join("\n")
        );
    }
    let tenants: Vec<_> = objects
        .iter()
        .filter_map(|o| match o {
            ApiObject::Tenant(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    validate_tenant_tree(&tenants).unwrap_or_else(|v| panic!("tenant tree: {v}"));
}

/// Each file in examples/invalid/ holds one wrong object and starts with `# expect: FIELD: ...`.
#[test]
fn every_invalid_example_is_rejected_naming_its_field() {
    let files = yaml_files(&repo_root().join("examples/invalid"));
    assert!(files.len() >= 5, "examples/invalid needs at least five wrong objects");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("readable example");
        let expected = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .and_then(|rest| rest.split(": ").next())
            .unwrap_or_else(|| panic!("{}: no `# expect: FIELD: ...` line", path.display()))
            .to_owned();
        let objects = manifests::parse(&text, &path.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(objects.len(), 1, "{}: one object per invalid example", path.display());
        let object = &objects[0];

        let violations = object.validate().expect_err(&format!("{} passes validate()", path.display()));
        assert!(
            violations.mentions(&expected),
            "{}: expected a violation at {expected}, got:\n{violations}",
            path.display()
        );
        assert!(violations.to_string().contains(&format!("{expected}: ")), "message names the field");

        let server = server_errors(object);
        assert!(!server.is_empty(), "{}: the API server would accept it", path.display());
    }
}
