//! Serving [`AgentStreams`] on a TCP listener: rustls TLS from PEM files (with client
//! certificates required when a client CA is given), or plaintext only when asked for by name.
//!
//! HTTP/2 keepalive pings close the connections of agents that stop answering, which is what lets
//! the registry treat an open stream as a live agent. This module does not authorise agents by
//! name: with mutual TLS any certificate the CA signed may speak for any node.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use tidepool_proto::agent::agent_service_server::AgentServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};
use tracing::info;

use super::service::AgentStreams;

/// The PEM files the server's TLS is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The server's certificate chain.
    pub cert: PathBuf,
    /// The server's private key.
    pub key: PathBuf,
    /// The CA that signs agents' client certificates; when given, agents must present one.
    pub client_ca: Option<PathBuf>,
}

/// How agents' connections are protected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TLS (rustls).
    Tls(TlsFiles),
    /// No protection at all: for development and tests, never chosen by default.
    InsecurePlaintext,
}

/// How to serve agents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// TLS or plaintext.
    pub transport: Transport,
    /// How often to ping an agent's connection.
    pub keepalive_interval: Duration,
    /// How long a ping may go unanswered before the connection is closed.
    pub keepalive_timeout: Duration,
}

impl ServerConfig {
    /// `transport` with keepalive pings every 10 s, answered within 10 s.
    pub fn new(transport: Transport) -> Self {
        ServerConfig {
            transport,
            keepalive_interval: Duration::from_secs(10),
            keepalive_timeout: Duration::from_secs(10),
        }
    }
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A TLS file could not be read.
    #[error("cannot read the TLS {what} {path}: {source}")]
    TlsFile {
        /// Which file.
        what: &'static str,
        /// Its path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// tonic refused the TLS configuration or the server failed.
    #[error("agent server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

fn read(what: &'static str, path: &PathBuf) -> Result<Vec<u8>, ServeError> {
    std::fs::read(path).map_err(|source| ServeError::TlsFile { what, path: path.display().to_string(), source })
}

impl TlsFiles {
    /// Reads the files into tonic's server TLS config. Certificates are parsed when the server
    /// starts, so a malformed PEM shows up then as [`ServeError::Transport`].
    pub fn server_config(&self) -> Result<ServerTlsConfig, ServeError> {
        let identity = Identity::from_pem(read("certificate", &self.cert)?, read("key", &self.key)?);
        let mut config = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.client_ca {
            config = config.client_ca_root(Certificate::from_pem(read("client CA", ca)?));
        }
        Ok(config)
    }
}

/// Serves `streams` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    streams: AgentStreams,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let mut server = Server::builder()
        .http2_keepalive_interval(Some(config.keepalive_interval))
        .http2_keepalive_timeout(Some(config.keepalive_timeout))
        .tcp_nodelay(true);
    let tls = match &config.transport {
        Transport::Tls(files) => {
            // rustls picks its crypto from crate features only when exactly one is enabled; a
            // build that also links aws-lc-rs (the fake API's test dependencies do) has two, so
            // name ring, the provider tonic is built with. Installing twice is harmless.
            let _ = rustls::crypto::ring::default_provider().install_default();
            server = server.tls_config(files.server_config()?)?;
            if files.client_ca.is_some() { "mutual TLS" } else { "TLS" }
        }
        Transport::InsecurePlaintext => "plaintext",
    };
    info!(address = ?listener.local_addr().ok(), tls, "serving agents");
    let (closing, closed) = watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        let _ = closing.send(true);
    };
    let service = AgentServiceServer::new(streams.closing_on(closed));
    server.serve_with_incoming_shutdown(service, TcpListenerStream::new(listener), shutdown).await?;
    Ok(())
}
