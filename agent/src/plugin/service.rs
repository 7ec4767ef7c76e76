//! The `DevicePlugin` gRPC service for one extended resource name.
//!
//! It reads the latest [`Snapshot`] (never the backends) and keeps the devices named to its
//! resource. `ListAndWatch` sends that list at once and again whenever a device's health, NUMA node
//! or presence changes; unhealthy devices are listed as `Unhealthy`, so kubelet stops allocating
//! them. `Allocate` and `GetPreferredAllocation` check kubelet's ids against the list and answer
//! `InvalidArgument` for unknown or repeated ids or impossible sizes.

use std::sync::Arc;

use tidepool_proto::deviceplugin::device_plugin_server::DevicePlugin;
use tidepool_proto::deviceplugin::{
    self as api, AllocateRequest, AllocateResponse, ContainerPreferredAllocationResponse, DevicePluginOptions, Empty,
    ListAndWatchResponse, NumaNode, PreStartContainerRequest, PreStartContainerResponse, PreferredAllocationRequest,
    PreferredAllocationResponse, TopologyInfo,
};
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tracing::{debug, info};

use super::allocate::{AllocateConfig, container_response};
use super::naming::Naming;
use super::preferred::preferred;
use super::registration;
use crate::device::Device;
use crate::inventory::Snapshot;
use crate::shutdown::Shutdown;

/// What every plugin service of the agent shares.
#[derive(Clone)]
pub struct PluginContext {
    /// How devices are named to kubelet.
    pub naming: Arc<Naming>,
    /// Where allocation looks things up.
    pub allocate: Arc<AllocateConfig>,
    /// The latest snapshot of the node's devices.
    pub snapshots: watch::Receiver<Snapshot>,
}

/// The `DevicePlugin` service of one resource name.
pub struct PluginService {
    resource: String,
    context: PluginContext,
    /// Ends `ListAndWatch` streams when this service's server stops.
    stopped: Shutdown,
}

impl PluginService {
    /// The service for `resource`; its streams end when `stopped` fires.
    pub fn new(resource: &str, context: PluginContext, stopped: Shutdown) -> Self {
        PluginService { resource: resource.to_owned(), context, stopped }
    }

    /// The resource's devices in the latest snapshot.
    fn devices(&self) -> Vec<Device> {
        let snapshot = self.context.snapshots.borrow();
        own_devices(&snapshot.devices, &self.context.naming, &self.resource).cloned().collect()
    }

    /// The resource's devices with these ids, in the order given.
    fn lookup<'a>(&self, devices: &'a [Device], ids: &[String]) -> Result<Vec<&'a Device>, Status> {
        let mut found: Vec<&Device> = Vec::with_capacity(ids.len());
        for id in ids {
            let device = devices.iter().find(|device| device.id() == *id).ok_or_else(|| {
                Status::invalid_argument(format!("no device {id:?} among the devices of {}", self.resource))
            })?;
            if found.iter().any(|seen| seen.id() == *id) {
                return Err(Status::invalid_argument(format!("device {id:?} is listed twice")));
            }
            found.push(device);
        }
        Ok(found)
    }
}

/// The devices of `snapshot` named `resource`.
fn own_devices<'a>(devices: &'a [Device], naming: &'a Naming, resource: &'a str) -> impl Iterator<Item = &'a Device> {
    devices.iter().filter(move |device| naming.resource_name(device) == resource)
}

/// The device list kubelet sees for `resource`.
pub fn kubelet_devices(devices: &[Device], naming: &Naming, resource: &str) -> Vec<api::Device> {
    own_devices(devices, naming, resource)
        .map(|device| api::Device {
            id: device.id(),
            health: if device.health.is_healthy() { api::HEALTHY } else { api::UNHEALTHY }.to_owned(),
            topology: device.numa_node.map(|node| TopologyInfo { nodes: vec![NumaNode { id: i64::from(node) }] }),
        })
        .collect()
}

#[tonic::async_trait]
impl DevicePlugin for PluginService {
    type ListAndWatchStream = ReceiverStream<Result<ListAndWatchResponse, Status>>;

    async fn get_device_plugin_options(&self, _: Request<Empty>) -> Result<Response<DevicePluginOptions>, Status> {
        Ok(Response::new(registration::options()))
    }

    async fn list_and_watch(&self, _: Request<Empty>) -> Result<Response<Self::ListAndWatchStream>, Status> {
        let (sender, receiver) = mpsc::channel(4);
        let mut snapshots = self.context.snapshots.clone();
        let naming = Arc::clone(&self.context.naming);
        let resource = self.resource.clone();
        let stopped = self.stopped.clone();
        info!(%resource, "kubelet is watching");
        tokio::spawn(async move {
            let mut sent: Option<Vec<api::Device>> = None;
            loop {
                let devices = kubelet_devices(&snapshots.borrow_and_update().devices, &naming, &resource);
                if sent.as_ref() != Some(&devices) {
                    debug!(%resource, devices = devices.len(), "sending the device list to kubelet");
                    let response = ListAndWatchResponse { devices: devices.clone() };
                    if sender.send(Ok(response)).await.is_err() {
                        return;
                    }
                    sent = Some(devices);
                }
                tokio::select! {
                    changed = snapshots.changed() => {
                        if changed.is_err() {
                            return;
                        }
                    }
                    () = sender.closed() => return,
                    () = stopped.wait() => return,
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn get_preferred_allocation(
        &self,
        request: Request<PreferredAllocationRequest>,
    ) -> Result<Response<PreferredAllocationResponse>, Status> {
        let devices = self.devices();
        let mut container_responses = Vec::new();
        for container in request.into_inner().container_requests {
            let available = self.lookup(&devices, &container.available_device_i_ds)?;
            let must_include = self.lookup(&devices, &container.must_include_device_i_ds)?;
            let size = usize::try_from(container.allocation_size)
                .ok()
                .filter(|size| (1..=available.len()).contains(size) && *size >= must_include.len())
                .ok_or_else(|| {
                    Status::invalid_argument(format!(
                        "allocation size {} does not fit {} available and {} must-include devices",
                        container.allocation_size,
                        available.len(),
                        must_include.len()
                    ))
                })?;
            if let Some(outside) = must_include.iter().find(|must| available.iter().all(|a| a.id() != must.id())) {
                return Err(Status::invalid_argument(format!(
                    "must-include device {:?} is not available",
                    outside.id()
                )));
            }
            let chosen = preferred(&available, &must_include, size);
            container_responses
                .push(ContainerPreferredAllocationResponse { device_i_ds: chosen.iter().map(|d| d.id()).collect() });
        }
        Ok(Response::new(PreferredAllocationResponse { container_responses }))
    }

    async fn allocate(&self, request: Request<AllocateRequest>) -> Result<Response<AllocateResponse>, Status> {
        let devices = self.devices();
        let mut container_responses = Vec::new();
        for container in request.into_inner().container_requests {
            if container.devices_ids.is_empty() {
                return Err(Status::invalid_argument("a container request lists no devices"));
            }
            let chosen = self.lookup(&devices, &container.devices_ids)?;
            info!(resource = %self.resource, devices = ?container.devices_ids, "allocating");
            container_responses.push(container_response(&chosen, &self.context.allocate));
        }
        Ok(Response::new(AllocateResponse { container_responses }))
    }

    async fn pre_start_container(
        &self,
        _: Request<PreStartContainerRequest>,
    ) -> Result<Response<PreStartContainerResponse>, Status> {
        // Registered with pre_start_required = false: kubelet does not call this; answer anyway.
        Ok(Response::new(PreStartContainerResponse {}))
    }
}
