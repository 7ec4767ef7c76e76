//! The benchmark's catalogue: five models of four families, with the transfer prices (CNY per
//! device-hour) and relative throughputs of the built-in catalogue (`crds/catalogue/builtin.yaml`),
//! and each model's share of the fleet.

use rust_decimal::Decimal;
use tidepool_engine::{Catalogue, FamilyId, Model, WorkloadClass};

/// Family names, indexed by `FamilyId`.
pub(super) const FAMILIES: [&str; 4] = ["nvidia", "ascend", "cambricon", "hygon"];

/// One model of the benchmark fleet.
pub(super) struct Spec {
    pub name: &'static str,
    pub family: u32,
    pub memory_gib: u32,
    /// Transfer price in CNY cents per device-hour.
    pub price_cents: i64,
    /// Relative throughput per class, in `WorkloadClass` order: llm-training, llm-inference,
    /// cv-training, cv-inference, recsys-training, recsys-inference.
    pub throughput: [f64; WorkloadClass::COUNT],
    /// Percent of each cluster's nodes.
    pub fleet_percent: u32,
    /// Whether devices on a node share a fast link (NVLink, HCCS, MLU-Link); PCIe-only cards are
    /// a link domain each.
    pub fast_link: bool,
}

/// The models, indexed by `ModelId`.
pub(super) const MODELS: [Spec; 5] = [
    Spec {
        name: "nvidia-a100-80g",
        family: 0,
        memory_gib: 80,
        price_cents: 1400,
        throughput: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
        fleet_percent: 35,
        fast_link: true,
    },
    Spec {
        name: "nvidia-h20",
        family: 0,
        memory_gib: 96,
        price_cents: 1240,
        throughput: [0.47, 1.66, 0.47, 0.47, 0.96, 0.96],
        fleet_percent: 15,
        fast_link: true,
    },
    Spec {
        name: "ascend-910b",
        family: 1,
        memory_gib: 64,
        price_cents: 902,
        throughput: [0.56, 0.50, 0.60, 0.60, 0.51, 0.53],
        fleet_percent: 30,
        fast_link: true,
    },
    Spec {
        name: "cambricon-mlu590",
        family: 2,
        memory_gib: 96,
        price_cents: 564,
        throughput: [0.30, 0.23, 0.32, 0.29, 0.24, 0.24],
        fleet_percent: 10,
        fast_link: true,
    },
    Spec {
        name: "hygon-k100-ai",
        family: 3,
        memory_gib: 64,
        price_cents: 524,
        throughput: [0.13, 0.37, 0.19, 0.22, 0.24, 0.30],
        fleet_percent: 10,
        fast_link: false,
    },
];

/// The engine's catalogue of [`MODELS`].
pub(super) fn catalogue() -> Catalogue {
    Catalogue {
        families: FAMILIES.iter().map(|f| (*f).to_owned()).collect(),
        models: MODELS
            .iter()
            .map(|m| Model {
                name: m.name.to_owned(),
                family: FamilyId(m.family),
                memory_gib: m.memory_gib,
                price_per_hour: Decimal::new(m.price_cents, 2),
                throughput: m.throughput.map(Some),
            })
            .collect(),
    }
}
