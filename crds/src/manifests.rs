//! Reading user manifests: multi-document YAML into typed Tidepool objects, with errors that name
//! the file, the document and the field.

use std::path::Path;

use kube::ResourceExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::validation::{Validate, Violations};
use crate::{AcceleratorModel, GROUP, InferenceService, SchedulingPolicy, Tenant, TrainingJob, VERSION};

/// Any Tidepool object.
#[derive(Clone, Debug)]
pub enum ApiObject {
    /// An `AcceleratorModel`.
    AcceleratorModel(AcceleratorModel),
    /// A `Tenant`.
    Tenant(Tenant),
    /// A `TrainingJob`.
    TrainingJob(Box<TrainingJob>),
    /// An `InferenceService`.
    InferenceService(Box<InferenceService>),
    /// A `SchedulingPolicy`.
    SchedulingPolicy(SchedulingPolicy),
}

impl ApiObject {
    /// `Kind/name`, or `Kind/namespace/name` for namespaced kinds.
    pub fn reference(&self) -> String {
        let (kind, ns, name) = match self {
            ApiObject::AcceleratorModel(o) => ("AcceleratorModel", o.namespace(), o.name_any()),
            ApiObject::Tenant(o) => ("Tenant", o.namespace(), o.name_any()),
            ApiObject::TrainingJob(o) => ("TrainingJob", o.namespace(), o.name_any()),
            ApiObject::InferenceService(o) => ("InferenceService", o.namespace(), o.name_any()),
            ApiObject::SchedulingPolicy(o) => ("SchedulingPolicy", o.namespace(), o.name_any()),
        };
        match ns {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        }
    }
}

impl Validate for ApiObject {
    fn validate(&self) -> Result<(), Violations> {
        match self {
            ApiObject::AcceleratorModel(o) => o.validate(),
            ApiObject::Tenant(o) => o.validate(),
            ApiObject::TrainingJob(o) => o.validate(),
            ApiObject::InferenceService(o) => o.validate(),
            ApiObject::SchedulingPolicy(o) => o.validate(),
        }
    }
}

/// A manifest that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What went wrong.
        source: std::io::Error,
    },
    /// A document is not YAML, or does not match the schema of its kind.
    #[error("{file}, document {document}: {message}")]
    Invalid {
        /// The file (or a label for in-memory text).
        file: String,
        /// 1-based index of the YAML document in the file.
        document: usize,
        /// What is wrong, with the field path when known.
        message: String,
    },
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeMeta {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
}

/// Parses every document of a multi-document YAML text. `file` labels errors.
pub fn parse(text: &str, file: &str) -> Result<Vec<ApiObject>, ManifestError> {
    let mut out = Vec::new();
    for (i, doc) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let document = i + 1;
        let invalid = |message: String| ManifestError::Invalid { file: file.to_owned(), document, message };
        let value = serde_yaml::Value::deserialize(doc).map_err(|e| invalid(e.to_string()))?;
        if value.is_null() {
            continue; // an empty document, e.g. after a trailing `---`
        }
        let meta: TypeMeta = serde_yaml::from_value(value.clone()).map_err(|e| invalid(e.to_string()))?;
        let expected = format!("{GROUP}/{VERSION}");
        if meta.api_version != expected {
            return Err(invalid(format!("apiVersion: {:?} is not {expected:?}", meta.api_version)));
        }
        let object = match meta.kind.as_str() {
            "AcceleratorModel" => ApiObject::AcceleratorModel(typed(value).map_err(invalid)?),
            "Tenant" => ApiObject::Tenant(typed(value).map_err(invalid)?),
            "TrainingJob" => ApiObject::TrainingJob(Box::new(typed(value).map_err(invalid)?)),
            "InferenceService" => ApiObject::InferenceService(Box::new(typed(value).map_err(invalid)?)),
            "SchedulingPolicy" => ApiObject::SchedulingPolicy(typed(value).map_err(invalid)?),
            other => {
                return Err(invalid(format!(
                    "kind: {other:?} is not a Tidepool kind (AcceleratorModel, Tenant, TrainingJob, InferenceService, SchedulingPolicy)"
                )));
            }
        };
        out.push(object);
    }
    Ok(out)
}

/// Deserialises a document into its kind's type; errors start with the field path
/// (`spec.replicas.min: invalid type: ...`).
fn typed<T: DeserializeOwned>(value: serde_yaml::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." { e.into_inner().to_string() } else { format!("{path}: {}", e.into_inner()) }
    })
}

/// Reads and parses one manifest file.
pub fn read_file(path: &Path) -> Result<Vec<ApiObject>, ManifestError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Io { file: file.clone(), source })?;
    parse(&text, &file)
}
