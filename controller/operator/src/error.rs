//! The reconcile pass's errors. Each names the object and, where it applies, the field.

/// An error of one reconcile pass.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Listing a kind of object failed.
    #[error("listing {kind}: {source}")]
    List {
        /// Kind listed.
        kind: &'static str,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// A call on one object failed.
    #[error("{action} {object}: {source}")]
    Object {
        /// What was being done (`creating`, `binding`, `evicting`, `patching status of`).
        action: &'static str,
        /// `Kind/namespace/name`.
        object: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// The cluster's objects do not make a consistent snapshot.
    #[error("snapshot: {0}")]
    Snapshot(String),
    /// An object could not be encoded.
    #[error("encoding {object}: {source}")]
    Encode {
        /// `Kind/namespace/name`.
        object: String,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
    /// A replica's previous pod still exists, stopped or being deleted.
    #[error("{object}: the replica's previous pod has not gone yet")]
    StillStopping {
        /// `Pod/namespace/name`.
        object: String,
    },
    /// A pod already exists bound somewhere the plan did not put it.
    #[error("{object}: spec.nodeName: already bound to {found}, the plan says {planned}")]
    BoundElsewhere {
        /// `Pod/namespace/name`.
        object: String,
        /// Node it is bound to.
        found: String,
        /// Node the plan chose.
        planned: String,
    },
}
