//! The device-plugin server against a fake kubelet, over real gRPC on unix sockets: registration,
//! ListAndWatch, Allocate, GetPreferredAllocation, health changes, kubelet restarts, shutdown.

mod support;

use std::time::{Duration, Instant};

use support::agent::{Wiring, agent};
use support::inventory;
use support::kubelet::FakeKubelet;
use tidepool_agent::shutdown;
use tidepool_proto::deviceplugin::{
    AllocateRequest, ContainerAllocateRequest, ContainerPreferredAllocationRequest, Empty, ListAndWatchResponse,
    PreferredAllocationRequest,
};
use tonic::{Code, Streaming};

const SAMPLING: Duration = Duration::from_millis(500);
const MARGIN: Duration = Duration::from_millis(500);
const WAIT: Duration = Duration::from_secs(5);

/// `(id, health)` of each device in the next ListAndWatch response.
async fn next_list(stream: &mut Streaming<ListAndWatchResponse>, timeout: Duration) -> Option<Vec<(String, String)>> {
    let response = tokio::time::timeout(timeout, stream.message()).await.ok()?.ok()??;
    Some(response.devices.into_iter().map(|device| (device.id, device.health)).collect())
}

#[tokio::test]
async fn kubelet_registers_lists_allocates_and_sees_a_device_turn_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let inventory_file = dir.path().join("inventory.json");
    let mut devices = [inventory::nvidia(8, 4), inventory::ascend(2)].concat();
    inventory::write(&inventory_file, &devices);
    let mut kubelet = FakeKubelet::start(dir.path());
    let (trigger, stop) = shutdown::channel();
    let running = tokio::spawn(
        agent(Wiring {
            inventory: &inventory_file,
            socket_dir: Some(dir.path()),
            controller: None,
            sampling: SAMPLING,
        })
        .run(stop),
    );

    // One registration per resource name, each naming a socket that exists.
    let mut registrations = Vec::new();
    for _ in 0..2 {
        registrations.push(kubelet.next_registration(WAIT).await.expect("the agent registers"));
    }
    registrations.sort_by(|a, b| a.resource_name.cmp(&b.resource_name));
    let names: Vec<&str> = registrations.iter().map(|r| r.resource_name.as_str()).collect();
    assert_eq!(names, ["huawei.com/Ascend910B3", "nvidia.com/gpu"]);
    for registration in &registrations {
        assert_eq!(registration.version, "v1beta1");
        assert!(dir.path().join(&registration.endpoint).exists(), "{}", registration.endpoint);
        let options = registration.options.unwrap();
        assert!(options.get_preferred_allocation_available && !options.pre_start_required);
    }

    // Kubelet dials the GPU plugin back.
    let mut gpus = kubelet.dial(&registrations[1].endpoint).await;
    let options = gpus.get_device_plugin_options(Empty {}).await.unwrap().into_inner();
    assert!(options.get_preferred_allocation_available);
    let mut watch = gpus.list_and_watch(Empty {}).await.unwrap().into_inner();
    let first = next_list(&mut watch, WAIT).await.expect("an initial device list");
    assert_eq!(first.len(), 8);
    assert!(first.iter().all(|(id, health)| id.starts_with("GPU-") && health == "Healthy"));

    // Allocate: the NVIDIA runtime's variable and device nodes.
    let request = AllocateRequest {
        container_requests: vec![ContainerAllocateRequest { devices_ids: vec!["GPU-1".into(), "GPU-2".into()] }],
    };
    let response = gpus.allocate(request).await.unwrap().into_inner();
    let container = &response.container_responses[0];
    assert_eq!(container.envs["NVIDIA_VISIBLE_DEVICES"], "GPU-1,GPU-2");
    let nodes: Vec<&str> = container.devices.iter().map(|spec| spec.host_path.as_str()).collect();
    assert_eq!(nodes, ["/dev/nvidia1", "/dev/nvidia2", "/dev/nvidiactl", "/dev/nvidia-uvm"]);

    // GetPreferredAllocation keeps four GPUs inside GPU-5's NVLink island.
    let all: Vec<String> = (0..8).map(|i| format!("GPU-{i}")).collect();
    let request = PreferredAllocationRequest {
        container_requests: vec![ContainerPreferredAllocationRequest {
            available_device_i_ds: all.clone(),
            must_include_device_i_ds: vec!["GPU-5".into()],
            allocation_size: 4,
        }],
    };
    let response = gpus.get_preferred_allocation(request).await.unwrap().into_inner();
    assert_eq!(response.container_responses[0].device_i_ds, ["GPU-4", "GPU-5", "GPU-6", "GPU-7"]);

    // Bad requests are errors, not panics.
    let unknown =
        AllocateRequest { container_requests: vec![ContainerAllocateRequest { devices_ids: vec!["GPU-9".into()] }] };
    assert_eq!(gpus.allocate(unknown).await.unwrap_err().code(), Code::InvalidArgument);
    let too_many = PreferredAllocationRequest {
        container_requests: vec![ContainerPreferredAllocationRequest {
            available_device_i_ds: all,
            must_include_device_i_ds: vec![],
            allocation_size: 9,
        }],
    };
    assert_eq!(gpus.get_preferred_allocation(too_many).await.unwrap_err().code(), Code::InvalidArgument);
    let must_outside = PreferredAllocationRequest {
        container_requests: vec![ContainerPreferredAllocationRequest {
            available_device_i_ds: vec!["GPU-0".into(), "GPU-1".into()],
            must_include_device_i_ds: vec!["GPU-7".into()],
            allocation_size: 1,
        }],
    };
    assert_eq!(gpus.get_preferred_allocation(must_outside).await.unwrap_err().code(), Code::InvalidArgument);
    let twice = AllocateRequest {
        container_requests: vec![ContainerAllocateRequest { devices_ids: vec!["GPU-1".into(), "GPU-1".into()] }],
    };
    assert_eq!(gpus.allocate(twice).await.unwrap_err().code(), Code::InvalidArgument);

    // The Ascend plugin hands out Ascend devices with Ascend's variable and nodes.
    let mut npus = kubelet.dial(&registrations[0].endpoint).await;
    let request =
        AllocateRequest { container_requests: vec![ContainerAllocateRequest { devices_ids: vec!["ascend-1".into()] }] };
    let container = npus.allocate(request).await.unwrap().into_inner().container_responses.remove(0);
    assert_eq!(container.envs["ASCEND_VISIBLE_DEVICES"], "1");
    let nodes: Vec<&str> = container.devices.iter().map(|spec| spec.host_path.as_str()).collect();
    assert_eq!(nodes, ["/dev/davinci1", "/dev/davinci_manager", "/dev/devmm_svm", "/dev/hisi_hdc"]);
    let gpu_id =
        AllocateRequest { container_requests: vec![ContainerAllocateRequest { devices_ids: vec!["GPU-0".into()] }] };
    assert_eq!(npus.allocate(gpu_id).await.unwrap_err().code(), Code::InvalidArgument);

    // GPU-3 fails: the stream shows it Unhealthy within one sampling interval.
    let marked = Instant::now();
    inventory::set_health(&inventory_file, &mut devices, 3, "Unhealthy");
    let update = next_list(&mut watch, SAMPLING + MARGIN).await.expect("an update within one sampling interval");
    assert!(marked.elapsed() <= SAMPLING + MARGIN);
    let health = |list: &[(String, String)], id: &str| list.iter().find(|(i, _)| i == id).map(|(_, h)| h.clone());
    assert_eq!(health(&update, "GPU-3").as_deref(), Some("Unhealthy"));
    assert_eq!(update.iter().filter(|(_, h)| h == "Healthy").count(), 7);

    // And healthy again.
    inventory::set_health(&inventory_file, &mut devices, 3, "Healthy");
    let update = next_list(&mut watch, SAMPLING + MARGIN).await.expect("an update");
    assert_eq!(health(&update, "GPU-3").as_deref(), Some("Healthy"));

    // Shutdown ends the stream and removes the plugin sockets.
    trigger.trigger();
    tokio::time::timeout(WAIT, running).await.expect("the agent stops").unwrap();
    assert!(next_list(&mut watch, WAIT).await.is_none());
    for registration in &registrations {
        assert!(!dir.path().join(&registration.endpoint).exists(), "{} left behind", registration.endpoint);
    }
}

#[tokio::test]
async fn the_agent_registers_again_when_kubelet_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let inventory_file = dir.path().join("inventory.json");
    inventory::write(&inventory_file, &inventory::nvidia(2, 2));

    // The agent starts before kubelet: it waits and registers once kubelet listens.
    let (trigger, stop) = shutdown::channel();
    let running = tokio::spawn(
        agent(Wiring {
            inventory: &inventory_file,
            socket_dir: Some(dir.path()),
            controller: None,
            sampling: SAMPLING,
        })
        .run(stop),
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut kubelet = FakeKubelet::start(dir.path());
    let first = kubelet.next_registration(WAIT).await.expect("registration once kubelet listens");
    assert!(kubelet.next_registration(Duration::from_millis(500)).await.is_none(), "registered only once");

    // Kubelet restarts, deleting the plugin sockets and recreating kubelet.sock; then restarts
    // again leaving the plugin socket in place: a new kubelet.sock alone means registering again.
    for remove_plugin_sockets in [true, false] {
        kubelet.restart(remove_plugin_sockets);
        let again = kubelet.next_registration(WAIT).await.expect("registration after the kubelet restart");
        assert_eq!((&again.resource_name, &again.endpoint), (&first.resource_name, &first.endpoint));
        let mut client = kubelet.dial(&again.endpoint).await;
        let mut watch = client.list_and_watch(Empty {}).await.unwrap().into_inner();
        assert_eq!(next_list(&mut watch, WAIT).await.unwrap().len(), 2);
        assert!(kubelet.next_registration(Duration::from_millis(300)).await.is_none(), "registered only once");
    }

    trigger.trigger();
    tokio::time::timeout(WAIT, running).await.expect("the agent stops").unwrap();
}
