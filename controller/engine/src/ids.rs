//! Dense indices into the snapshot's tables. The engine works on indices, not names: lookups are
//! array reads and ties break by index, which is the snapshot's own order.

macro_rules! index {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The index as a `usize`, for slicing.
            pub fn ix(self) -> usize {
                self.0 as usize
            }
        }
    };
}

index!(
    /// A model in [`crate::Catalogue::models`].
    ModelId
);
index!(
    /// A family in [`crate::Catalogue::families`].
    FamilyId
);
index!(
    /// A cluster in [`crate::Snapshot::clusters`].
    ClusterId
);
index!(
    /// An interconnect group of nodes (a switch domain or supernode) in [`crate::Snapshot::groups`].
    GroupId
);
index!(
    /// A node in [`crate::Snapshot::nodes`].
    NodeId
);
index!(
    /// A tenant in [`crate::Snapshot::tenants`].
    TenantId
);
index!(
    /// A workload in [`crate::Snapshot::workloads`].
    WorkloadId
);

/// A point in time, in seconds since the Unix epoch. The engine never reads a clock: callers pass `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seconds(pub i64);
