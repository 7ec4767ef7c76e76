//! The `tidepool.dev/v1alpha1` API: the custom resources platform teams and ML teams write, the
//! defaults applied to them, their validation, and the built-in accelerator catalogue.
//!
//! This crate holds types and rules only. It talks to no cluster and starts no runtime: the
//! controller, the agent and the simulator all build on it. The same rules are enforced twice —
//! by the API server, through the OpenAPI schema and CEL rules generated from these types, and in
//! Rust through [`Validate`], which reports every violation with its field path.

// kube's `printcolumn(...)` attributes repeat `type_ = "string"` by design.
#![allow(clippy::duplicated_attributes)]

pub mod accelerator_model;
pub mod catalogue;
pub mod common;
pub mod crdgen;
pub mod defaults;
pub mod inference_service;
pub mod manifests;
pub mod scheduling_policy;
pub mod tenant;
pub mod training_job;
pub mod validation;
pub mod workload;

pub use accelerator_model::{AcceleratorModel, AcceleratorModelSpec};
pub use catalogue::Catalogue;
pub use common::{AcceleratorChoice, AcceleratorRef, Family, SoftwareStack, WorkloadClass};
pub use inference_service::{InferenceService, InferenceServiceSpec};
pub use scheduling_policy::{SchedulingPolicy, SchedulingPolicySpec};
pub use tenant::{Tenant, TenantSpec};
pub use training_job::{TrainingJob, TrainingJobSpec};
pub use validation::{Validate, Violation, Violations};

/// The API group of every Tidepool resource.
pub const GROUP: &str = "tidepool.dev";
/// The API version this crate describes.
pub const VERSION: &str = "v1alpha1";
