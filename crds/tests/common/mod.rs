//! Helpers shared by the integration tests: paths, example loading, and an API-server-side check
//! that applies the committed CRD's OpenAPI schema and CEL rules to an object, as kube-apiserver
//! would on create.

#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};

use serde::Serialize;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("crds/ has a parent").to_path_buf()
}

/// The YAML files of a directory, sorted.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// The committed CRD for a kind, as JSON.
fn committed_schema(kind: &str) -> serde_json::Value {
    let dir = repo_root().join("crds/manifests");
    for path in yaml_files(&dir) {
        let crd: serde_json::Value =
            serde_yaml::from_str(&std::fs::read_to_string(&path).expect("readable CRD")).expect("CRD is YAML");
        if crd["spec"]["names"]["kind"] == kind {
            return crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"].clone();
        }
    }
    panic!("no committed CRD for kind {kind}");
}

/// What kube-apiserver would say about `object` on create: structural schema violations
/// (types, patterns, ranges, required fields, list sizes) and failed CEL rules. The object is
/// serialised from the Rust type, so defaults are applied exactly as the API server applies the
/// schema's defaults (both come from the same serde attributes).
pub fn api_server_errors<T: Serialize>(kind: &str, object: &T) -> Vec<String> {
    let schema = committed_schema(kind);
    let value = serde_json::to_value(object).expect("object serialises");
    let mut errors = Vec::new();
    let validator = jsonschema::validator_for(&schema).expect("CRD schema compiles");
    for e in validator.iter_errors(&value) {
        errors.push(format!("{}: {e}", e.instance_path()));
    }
    if let Err(cel) = kube::core::cel::Validator::new().validate(&schema, &value, None) {
        for e in cel.into_vec() {
            errors.push(format!("{}: {}", e.field_path, e.message));
        }
    }
    errors
}
