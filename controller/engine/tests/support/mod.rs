//! A small builder for test snapshots: clusters of nodes with 8 devices in two link domains,
//! a catalogue of three models, tenants and workloads described in a line each.

#![allow(dead_code, missing_docs)]

use rust_decimal::Decimal;
use tidepool_engine::*;

pub struct Builder {
    pub s: Snapshot,
}

pub const A100: ModelId = ModelId(0);
pub const ASCEND: ModelId = ModelId(1);
pub const MLU: ModelId = ModelId(2);

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Catalogue: nvidia-a100 (14.00/h, 1.0), ascend-910b (9.00/h, 0.6), cambricon-mlu590 (5.60/h, 0.3).
    pub fn new() -> Self {
        let model = |name: &str, family: u32, price: i64, tp: f64, mem: u32| Model {
            name: name.into(),
            family: FamilyId(family),
            memory_gib: mem,
            price_per_hour: Decimal::new(price, 2),
            throughput: [Some(tp); WorkloadClass::COUNT],
        };
        let s = Snapshot {
            catalogue: Catalogue {
                families: vec!["nvidia".into(), "ascend".into(), "cambricon".into()],
                models: vec![
                    model("nvidia-a100", 0, 1400, 1.0, 80),
                    model("ascend-910b", 1, 900, 0.6, 64),
                    model("cambricon-mlu590", 2, 560, 0.3, 96),
                ],
            },
            ..Default::default()
        };
        Builder { s }
    }

    pub fn cluster(&mut self, name: &str) -> ClusterId {
        self.s.clusters.push(Cluster { name: name.into() });
        ClusterId(self.s.clusters.len() as u32 - 1)
    }

    pub fn group(&mut self, cluster: ClusterId) -> GroupId {
        let n = self.s.groups.len();
        self.s.groups.push(Group { name: format!("g{n}"), cluster, rack: 0 });
        GroupId(n as u32)
    }

    /// A node of `devices` devices of `model`, in two link domains.
    pub fn node(&mut self, group: GroupId, model: ModelId, devices: usize) -> NodeId {
        let n = self.s.nodes.len();
        self.s.nodes.push(Node {
            name: format!("n{n}"),
            group,
            schedulable: true,
            dedicated_to: None,
            devices: (0..devices)
                .map(|d| Device {
                    id: format!("dev{d}"),
                    model,
                    link_domain: (d * 2 / devices.max(1)) as u8,
                    healthy: true,
                })
                .collect(),
        });
        NodeId(n as u32)
    }

    pub fn nodes(&mut self, group: GroupId, model: ModelId, count: usize, devices: usize) -> Vec<NodeId> {
        (0..count).map(|_| self.node(group, model, devices)).collect()
    }

    pub fn tenant(
        &mut self,
        name: &str,
        parent: Option<TenantId>,
        quotas: &[(ModelId, u32, Option<u32>, Option<u32>)],
    ) -> TenantId {
        self.s.tenants.push(Tenant {
            name: name.into(),
            parent,
            weight: 1,
            quotas: quotas
                .iter()
                .map(|&(m, nominal, borrowing_limit, lending_limit)| Quota {
                    key: QuotaKey::Model(m),
                    nominal,
                    borrowing_limit,
                    lending_limit,
                })
                .collect(),
            allowed_clusters: None,
            dedicated_only: false,
        });
        TenantId(self.s.tenants.len() as u32 - 1)
    }

    /// A training job accepting `models`, `replicas` × `devices`.
    pub fn job(&mut self, name: &str, tenant: TenantId, models: &[ModelId], replicas: u32, devices: u32) -> WorkloadId {
        self.s.workloads.push(Workload {
            name: name.into(),
            tenant,
            kind: WorkloadKind::Training,
            class: WorkloadClass::LlmTraining,
            priority: 0,
            preemptible: false,
            replicas_min: replicas,
            replicas_wanted: replicas,
            devices_per_replica: devices,
            accepts: models
                .iter()
                .map(|&m| Accept { target: Target::Model(m), min_memory_gib: 0, throughput: None })
                .collect(),
            allow_mixed_models: false,
            expected_work: Some(100.0),
            checkpoint: Some(Checkpoint { interval: 1800, grace: 120 }),
            deadline: None,
            submitted: Seconds(self.s.workloads.len() as i64),
        });
        WorkloadId(self.s.workloads.len() as u32 - 1)
    }

    pub fn workload(&mut self, w: WorkloadId) -> &mut Workload {
        &mut self.s.workloads[w.ix()]
    }

    /// Marks a workload running on the given devices of a node.
    pub fn running(&mut self, w: WorkloadId, node: NodeId, devices: &[u16], usage: UsageClass, started: i64) {
        let model = self.s.nodes[node.ix()].devices[0].model;
        let replica = self.s.allocations.iter().filter(|a| a.workload == w).count() as u32;
        self.s.allocations.push(Allocation {
            workload: w,
            replica,
            node,
            devices: mask::mask_of(devices),
            model,
            usage,
            started: Seconds(started),
            last_checkpoint: None,
        });
    }

    pub fn schedule(&self, policy: &Policy, now: i64) -> Plan {
        self.s.check().expect("test snapshot holds together");
        schedule(&self.s, policy, Seconds(now))
    }
}

/// Binds of one workload.
pub fn binds_of(plan: &Plan, w: WorkloadId) -> Vec<&Bind> {
    plan.binds.iter().filter(|b| b.workload == w).collect()
}

pub fn pending_reason(plan: &Plan, w: WorkloadId) -> Option<&str> {
    plan.pending.iter().find(|p| p.workload == w).map(|p| p.reason.as_str())
}
