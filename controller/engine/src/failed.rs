//! Failures remembered within a cycle: when a gang could not start and nothing has changed since,
//! the next waiting gang of the same shape cannot start either, and waits for the same reason.
//!
//! A long queue is mostly gangs of a few shapes (tenant, size, accepted chips, priority) waiting
//! for the same capacity; trying each again would cost a full selection, placement and preemption
//! search per gang per cycle for the same answer. The memory is exact, not a heuristic: it is
//! emptied whenever the cycle's state changes (a bind, a preemption, a reservation, a scale-up),
//! and a gang only reuses a failure of a gang with at most its expected work (backfill lets
//! shorter work onto reserved nodes, never longer).

use std::collections::HashMap;

use crate::catalogue::WorkloadClass;
use crate::ids::TenantId;
use crate::workload::{Target, Workload, WorkloadKind};

/// Everything about a gang that decides whether it can start, except its expected work.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Shape {
    tenant: TenantId,
    kind: WorkloadKind,
    class: WorkloadClass,
    priority: i32,
    preemptible: bool,
    replicas: u32,
    devices_per_replica: u32,
    allow_mixed_models: bool,
    /// Target, least memory, and the measured throughput's bits.
    accepts: Vec<(Target, u32, Option<u64>)>,
}

impl Shape {
    /// The shape of `wl` starting `replicas` replicas from none.
    pub fn of(wl: &Workload, replicas: u32) -> Self {
        Shape {
            tenant: wl.tenant,
            kind: wl.kind,
            class: wl.class,
            priority: wl.priority,
            preemptible: wl.preemptible,
            replicas,
            devices_per_replica: wl.devices_per_replica,
            allow_mixed_models: wl.allow_mixed_models,
            accepts: wl.accepts.iter().map(|a| (a.target, a.min_memory_gib, a.throughput.map(f64::to_bits))).collect(),
        }
    }
}

/// Failed shapes since the cycle's state last changed, each with the least expected work that
/// failed (unknown work counts as endless) and the reason it waits.
#[derive(Default)]
pub(crate) struct Failed(HashMap<Shape, (f64, String)>);

impl Failed {
    /// Why a gang of `shape` with `work` waits, if one of that shape with no more work failed
    /// since the state last changed.
    pub fn reason(&self, shape: &Shape, work: Option<f64>) -> Option<&str> {
        let work = work.unwrap_or(f64::INFINITY);
        self.0.get(shape).filter(|(least, _)| *least <= work).map(|(_, reason)| reason.as_str())
    }

    /// Remembers that a gang of `shape` with `work` could not start, and why.
    pub fn remember(&mut self, shape: Shape, work: Option<f64>, reason: &str) {
        let work = work.unwrap_or(f64::INFINITY);
        let entry = self.0.entry(shape).or_insert((work, String::new()));
        if work <= entry.0 || entry.1.is_empty() {
            *entry = (work, reason.to_owned());
        }
    }

    /// The cycle's state changed: nothing remembered holds any more.
    pub fn forget(&mut self) {
        self.0.clear();
    }
}
