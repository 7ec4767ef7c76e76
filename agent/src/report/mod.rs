//! The reporter: streams the node's inventory, health changes and utilisation to the controller
//! (`tidepool.agent.v1.AgentService/Connect`) and applies the configuration it sends back.
//!
//! - [`session`]: one stream, from dialing to its end;
//! - [`backoff`]: the delays between attempts (exponential, jittered, capped);
//! - [`convert`]: devices as wire messages;
//! - [`tls`]: rustls client config from PEM files.
//!
//! A lost stream is dialed again after a backoff delay; every new stream starts over with hello
//! and the full inventory, so nothing has to be replayed. The delay starts again from its initial
//! value once a stream has been acknowledged by the controller. The reporter reads snapshots; it
//! never reads a backend.

pub mod backoff;
pub mod convert;
pub mod session;
pub mod tls;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tonic::transport::{Endpoint, Uri};
use tracing::{info, warn};

use self::backoff::Backoff;
use self::session::{Identity, Session};
use self::tls::{TlsError, TlsFiles};
use crate::inventory::Snapshot;
use crate::plugin::naming::Naming;
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Where and how to reach the controller.
#[derive(Clone, Debug)]
pub struct ReporterConfig {
    /// The controller's address: `https://host:port`, or `http://host:port` for plaintext.
    pub address: String,
    /// TLS files; `None` sends in the clear, which the command line allows only when asked
    /// explicitly (`--insecure-plaintext`).
    pub tls: Option<TlsFiles>,
    /// What the agent says about itself.
    pub identity: Identity,
    /// The first reconnection delay.
    pub initial_backoff: Duration,
    /// The longest reconnection delay.
    pub max_backoff: Duration,
    /// How long dialing may take.
    pub connect_timeout: Duration,
    /// Seeds the backoff jitter; differs between agents.
    pub jitter_seed: u64,
    /// Names devices' resources in inventories (when the agent serves kubelet).
    pub naming: Option<Arc<Naming>>,
}

/// A reporter configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    /// The address is not a URI.
    #[error("controller address {address:?} is not a URI: {problem}")]
    Address {
        /// The address given.
        address: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The address's scheme does not match the TLS choice.
    #[error("controller address {address:?}: {problem}")]
    Scheme {
        /// The address given.
        address: String,
        /// What is wrong, and what to do.
        problem: &'static str,
    },
    /// A TLS file could not be read.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// tonic refused the TLS configuration.
    #[error("TLS configuration refused: {0}")]
    TlsConfig(tonic::transport::Error),
}

/// A configured reporter, ready to run.
#[derive(Debug)]
pub struct Reporter {
    endpoint: Endpoint,
    config: ReporterConfig,
}

impl Reporter {
    /// Checks `config` (address, scheme against TLS, TLS files) without dialing.
    pub fn new(config: ReporterConfig) -> Result<Self, ReporterError> {
        let uri: Uri = config.address.parse().map_err(|error: tonic::codegen::http::uri::InvalidUri| {
            ReporterError::Address { address: config.address.clone(), problem: error.to_string() }
        })?;
        let problem = match (config.tls.is_some(), uri.scheme_str()) {
            (true, Some("https")) | (false, Some("http")) => None,
            (true, _) => Some("with TLS the address must start with https://"),
            (false, _) => Some("without TLS (--insecure-plaintext) the address must start with http://"),
        };
        if let Some(problem) = problem {
            return Err(ReporterError::Scheme { address: config.address.clone(), problem });
        }
        let mut endpoint = Endpoint::from(uri)
            .connect_timeout(config.connect_timeout)
            .tcp_nodelay(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .keep_alive_timeout(Duration::from_secs(10))
            .keep_alive_while_idle(true);
        if let Some(tls) = &config.tls {
            endpoint = endpoint.tls_config(tls.client_config()?).map_err(ReporterError::TlsConfig)?;
        }
        Ok(Reporter { endpoint, config })
    }

    /// Streams to the controller until `shutdown`, dialing again with backoff whenever the
    /// stream is lost. Reads `snapshots`; writes the controller's configuration to `settings`.
    pub async fn run(
        self,
        mut snapshots: watch::Receiver<Snapshot>,
        settings: watch::Sender<Settings>,
        shutdown: Shutdown,
    ) {
        let config = &self.config;
        let mut backoff = Backoff::new(config.initial_backoff, config.max_backoff, config.jitter_seed);
        loop {
            let mut session = Session::new(config.naming.clone());
            let result = session.run(&self.endpoint, &config.identity, &mut snapshots, &settings, &shutdown).await;
            let error = match result {
                Ok(()) => {
                    info!("closed the stream to the controller");
                    return;
                }
                Err(error) => error,
            };
            if session.acked() > 0 {
                backoff.reset();
            }
            let delay = backoff.next_delay();
            warn!(address = %config.address, %error, retry_in = ?delay, "no stream to the controller");
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = shutdown.wait() => return,
            }
        }
    }
}
