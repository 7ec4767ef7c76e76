//! Alibaba's GPU cluster trace v2023, "openb" (`alibaba_gpu_v2023_openb/`; Weng et al., *Beware of
//! Fragmentation*, USENIX ATC 2023): a heterogeneous fleet of 1,523 nodes and the pods (tasks)
//! submitted to it, with their QoS, GPU share, GPU-model constraints and times.
//!
//! - [`NodeReader`] streams a node list (`openb_node_list_*.csv[.gz]`) as [`NodeRecord`]s;
//!   [`FleetSummary`] adds them up (nodes, GPU nodes, GPUs per model).
//! - [`PodReader`] streams a pod list (`openb_pod_list_*.csv[.gz]`, either of its two schemas) as
//!   [`PodRecord`]s in the file's order; [`PodSummary`] adds them up; [`arrival_order`] says
//!   whether the file is in `creation_time` order and, if not, gives the index that replays it so.
//! - [`map_pod`] turns a pod into an [`OpenbWorkload`] for the simulator, or says why it is
//!   skipped; the rules (QoS to kind, priority and preemption; GPU sharing as one whole device;
//!   running time and work) are in the [`mapping`] module's documentation.
//!
//! The readers take the path from the caller and read gzip directly when the name ends in `.gz`,
//! plain CSV otherwise; they never hold a whole file. Each is an iterator that yields the first
//! [`OpenbError`] it meets — naming the file, the line and, for a bad value, the column — and then
//! ends: a trace wrong in one row is not replayed with that row silently dropped. No input makes
//! them panic.
//!
//! Figures of the published files, checked by `tests/openb_trace.rs`: the node lists hold 1,523
//! nodes, 1,213 with GPUs, 6,212 GPUs (G2 4,392, T4 842, G3 312, P100 265, V100M32 204, V100M16
//! 195, A10 2); the default pod list holds 8,152 pods, `creation_time` 0..=12,901,761 s, but all
//! except 27 were created in the last 35 days (from day 115 on): the early ones are long-lived
//! services still there when the trace was taken.
//!
//! This module does not build engine snapshots, assign tenants or replay anything; the simulator
//! does, with these records.

mod error;
mod input;
pub mod mapping;
mod nodes;
mod pods;

pub use error::OpenbError;
pub use mapping::{MappingOptions, MappingTally, OpenbWorkload, Skip, catalogue_model, map_pod};
pub use nodes::{FleetSummary, NODE_COLUMNS, NodeReader, NodeRecord};
pub use pods::{
    ArrivalOrder, Lifecycle, POD_COLUMNS, POD_RESOURCE_COLUMNS, PodPhase, PodReader, PodRecord, PodSchema, PodSummary,
    Qos, arrival_order,
};
