//! Registering a plugin with kubelet: `Registration.Register` on `kubelet.sock`.
//!
//! Kubelet answers, then dials the plugin back on the socket named in the request, so the plugin's
//! server must be listening before this is called. Retrying and re-registering after a kubelet
//! restart is the manager's business, not this module's.

use std::path::Path;
use std::time::Duration;

use tidepool_proto::deviceplugin::registration_client::RegistrationClient;
use tidepool_proto::deviceplugin::{DevicePluginOptions, RegisterRequest, VERSION};

use super::socket;

/// Why registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Kubelet's socket could not be reached.
    #[error("cannot reach kubelet at {socket}: {source}")]
    Connect {
        /// Kubelet's socket.
        socket: String,
        /// The transport error.
        source: tonic::transport::Error,
    },
    /// Kubelet refused the registration (unsupported version, name taken, ...).
    #[error("kubelet refused the registration: {0}")]
    Refused(tonic::Status),
    /// Kubelet did not answer in time.
    #[error("kubelet did not answer within {0:?}")]
    Timeout(Duration),
}

/// The options this agent's plugins register with: no `PreStartContainer` needed,
/// `GetPreferredAllocation` available.
pub fn options() -> DevicePluginOptions {
    DevicePluginOptions { pre_start_required: false, get_preferred_allocation_available: true }
}

/// Registers `resource`, served on the socket file `endpoint` (a name in kubelet's
/// device-plugin directory), with the kubelet listening on `kubelet_socket`.
pub async fn register(
    kubelet_socket: &Path,
    endpoint: &str,
    resource: &str,
    timeout: Duration,
) -> Result<(), RegisterError> {
    let channel = socket::connect(kubelet_socket, timeout)
        .await
        .map_err(|source| RegisterError::Connect { socket: kubelet_socket.display().to_string(), source })?;
    let request = RegisterRequest {
        version: VERSION.to_owned(),
        endpoint: endpoint.to_owned(),
        resource_name: resource.to_owned(),
        options: Some(options()),
    };
    match tokio::time::timeout(timeout, RegistrationClient::new(channel).register(request)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(status)) => Err(RegisterError::Refused(status)),
        Err(_) => Err(RegisterError::Timeout(timeout)),
    }
}
