//! The names Tidepool writes on the pods it creates: labels that tie a pod to its tenant,
//! workload and replica, and annotations that record which devices it was given. The snapshot
//! reads them back, so a restarted controller sees the same placements.

/// Label: tenant that owns the pod's workload.
pub const TENANT: &str = "tidepool.dev/tenant";
/// Label: name of the pod's workload (in the pod's namespace).
pub const WORKLOAD: &str = "tidepool.dev/workload";
/// Label: kind of the pod's workload, `TrainingJob` or `InferenceService`.
pub const KIND: &str = "tidepool.dev/kind";
/// Label: replica index of the pod.
pub const REPLICA: &str = "tidepool.dev/replica";
/// Annotation: the chosen device ids on the node, comma separated.
pub const DEVICES: &str = "tidepool.dev/devices";
/// Annotation: the node the devices are on.
pub const NODE: &str = "tidepool.dev/node";
/// Annotation: the catalogue model of the devices.
pub const MODEL: &str = "tidepool.dev/model";
/// Annotation: usage class of the devices (`Guaranteed`, `Borrowed`, `Tidal`).
pub const USAGE: &str = "tidepool.dev/usage";
/// Annotation on a pod running on tidal capacity: the inference service that lent its devices,
/// as `namespace/name`.
pub const LENDER: &str = "tidepool.dev/lender";
/// Node label naming the node's interconnect group (switch domain or supernode).
pub const GROUP: &str = "tidepool.dev/interconnect-group";
/// `spec.schedulerName` of Tidepool's pods.
pub const SCHEDULER_NAME: &str = "tidepool";
/// The one field manager of every status Tidepool writes.
pub const FIELD_MANAGER: &str = "tidepool-controller";

/// The name of a workload's replica pod: `<workload>-<replica>`.
pub fn pod_name(workload: &str, replica: u32) -> String {
    format!("{workload}-{replica}")
}
