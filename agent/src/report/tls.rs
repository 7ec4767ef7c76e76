//! TLS for the controller connection: rustls through tonic, from PEM files.
//!
//! The controller's certificate is checked against the given CA file only (no system roots: a
//! cluster's controller is signed by the cluster's own CA). A client certificate and key, given
//! together, let the controller authenticate the agent (mutual TLS). This module reads files and
//! builds the config; it does not dial.

use std::path::PathBuf;

use tonic::transport::{Certificate, ClientTlsConfig, Identity};

/// The PEM files TLS is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// The CA bundle that signs the controller's certificate.
    pub ca: PathBuf,
    /// The agent's certificate and private key, for mutual TLS.
    pub client_identity: Option<(PathBuf, PathBuf)>,
    /// The name to check the controller's certificate against, when not the address's host.
    pub server_name: Option<String>,
}

/// A TLS file that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the TLS {what} {path}: {source}")]
pub struct TlsError {
    /// Which file (`CA`, `client certificate`, `client key`).
    pub what: &'static str,
    /// Its path.
    pub path: String,
    /// The I/O error.
    pub source: std::io::Error,
}

fn read(what: &'static str, path: &PathBuf) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError { what, path: path.display().to_string(), source })
}

impl TlsFiles {
    /// Reads the files into tonic's client TLS config. Certificates are parsed when dialing, so
    /// a malformed PEM shows up as a connection error then.
    pub fn client_config(&self) -> Result<ClientTlsConfig, TlsError> {
        // rustls picks its crypto from crate features only when exactly one is enabled; a build
        // that links aws-lc-rs too (a workspace build with other crates' test dependencies) has
        // two, so name ring, the provider tonic is built with. Installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("CA", &self.ca)?));
        if let Some((cert, key)) = &self.client_identity {
            config = config.identity(Identity::from_pem(read("client certificate", cert)?, read("client key", key)?));
        }
        if let Some(name) = &self.server_name {
            config = config.domain_name(name.clone());
        }
        Ok(config)
    }
}
