//! Inventory files for the `fake` backend, written atomically so the agent never reads half a file.

use std::path::Path;

use serde_json::{Value, json};

/// `count` NVIDIA H100s with uuids `GPU-<i>`, NVLink islands of `island` devices (full mesh inside
/// each), NUMA node `i / island`, and some utilisation.
pub fn nvidia(count: u32, island: u32) -> Vec<Value> {
    (0..count)
        .map(|i| {
            let first = i / island * island;
            let peers: Vec<u32> = (first..first + island).filter(|&p| p != i && p < count).collect();
            json!({
                "family": "nvidia", "index": i, "uuid": format!("GPU-{i}"), "product_name": "NVIDIA H100",
                "memory_mib": 81920, "memory_used_mib": 1024 + u64::from(i), "utilisation_percent": 10 + i,
                "numa_node": i / island, "peers": peers, "pci_bus_id": format!("0000:{:02x}:00.0", 0x10 + i),
            })
        })
        .collect()
}

/// `count` Ascend 910B3 NPUs (no uuid: ids `ascend-<i>`).
pub fn ascend(count: u32) -> Vec<Value> {
    (0..count)
        .map(|i| json!({"family": "ascend", "index": i, "product_name": "910B3", "memory_mib": 65536, "numa_node": 0}))
        .collect()
}

/// Writes `devices` to `path` (JSON, which the fake backend reads as YAML).
pub fn write(path: &Path, devices: &[Value]) {
    let staging = path.with_extension("tmp");
    std::fs::write(&staging, serde_json::to_vec_pretty(&json!({ "devices": devices })).unwrap()).unwrap();
    std::fs::rename(&staging, path).unwrap();
}

/// Marks the device at `position` with `health` (and a reason when unhealthy).
pub fn set_health(path: &Path, devices: &mut [Value], position: usize, health: &str) {
    devices[position]["health"] = json!(health);
    devices[position]["health_reason"] = if health == "Healthy" { Value::Null } else { json!("XID 79 (test)") };
    write(path, devices);
}
