//! `tidepool-controller`: connects to the cluster, serves node agents and the HTTP endpoints, and
//! runs a scheduling pass on relevant changes, leader-elected (see [`tidepool_controller::daemon`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tidepool_controller::SystemClock;
use tidepool_controller::agents::{ServerConfig, TlsFiles, Transport};
use tidepool_controller::context::{Config, Context};
use tidepool_controller::daemon::{self, Settings};
use tidepool_controller::leader::LeaseConfig;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Tidepool's controller for one cluster.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Name of this cluster, as tenants' allowedClusters name it.
    #[arg(long, env = "TIDEPOOL_CLUSTER", default_value = "local")]
    cluster: String,
    /// Shortest time between two scheduling passes, in milliseconds: changes arriving closer
    /// together are handled in one pass.
    #[arg(long, env = "TIDEPOOL_MIN_INTERVAL_MS", default_value_t = 200)]
    min_interval_ms: u64,
    /// Longest time between two passes, in seconds, when nothing changes (grace periods end and
    /// agents go stale by time alone).
    #[arg(long, env = "TIDEPOOL_RESYNC_S", default_value_t = 10)]
    resync_s: u64,
    /// Run passes only while holding the Lease (`--leader-elect=false` for a single replica
    /// that must not wait for one).
    #[arg(long, env = "TIDEPOOL_LEADER_ELECT", default_value_t = true, action = clap::ArgAction::Set)]
    leader_elect: bool,
    /// Namespace of the Lease (the controller's own, in a cluster).
    #[arg(long, env = "POD_NAMESPACE", default_value = "tidepool-system")]
    leader_election_namespace: String,
    /// Name of the Lease.
    #[arg(long, env = "TIDEPOOL_LEASE_NAME", default_value = "tidepool-controller")]
    lease_name: String,
    /// This replica's name in the Lease (default: the pod's name, else the host name and process id).
    #[arg(long, env = "POD_NAME")]
    leader_identity: Option<String>,
    /// Seconds a Lease lasts without renewal before a standby may take over.
    #[arg(long, env = "TIDEPOOL_LEASE_DURATION_S", default_value_t = 15)]
    lease_duration_s: u64,
    /// Most API calls in flight while applying a plan.
    #[arg(long, env = "TIDEPOOL_CONCURRENCY", default_value_t = 64)]
    concurrency: usize,
    /// Address to serve node agents on (e.g. 0.0.0.0:8443); without it, inventories come from
    /// vendor device plugins only.
    #[arg(long, env = "TIDEPOOL_AGENTS_LISTEN")]
    agents_listen: Option<SocketAddr>,
    /// Seconds an agent may be gone before its node's devices are unavailable.
    #[arg(long, env = "TIDEPOOL_AGENT_TIMEOUT_S", default_value_t = 30)]
    agent_timeout_s: u64,
    /// The agent server's certificate chain (PEM).
    #[arg(long, env = "TIDEPOOL_TLS_CERT_FILE", requires = "tls_key_file")]
    tls_cert_file: Option<PathBuf>,
    /// The agent server's private key (PEM).
    #[arg(long, env = "TIDEPOOL_TLS_KEY_FILE", requires = "tls_cert_file")]
    tls_key_file: Option<PathBuf>,
    /// CA that signs agents' client certificates: agents must then present one (mutual TLS).
    #[arg(long, env = "TIDEPOOL_TLS_CLIENT_CA_FILE", requires = "tls_cert_file")]
    tls_client_ca_file: Option<PathBuf>,
    /// Serve agents without TLS (development and tests only).
    #[arg(long, env = "TIDEPOOL_INSECURE_PLAINTEXT", conflicts_with = "tls_cert_file")]
    insecure_plaintext: bool,
    /// Log lines as text or JSON objects (filter: `RUST_LOG`, `info` by default).
    #[arg(long, env = "TIDEPOOL_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Address to serve /metrics, /healthz and /readyz on.
    #[arg(long, env = "TIDEPOOL_HTTP_LISTEN", default_value = "0.0.0.0:8080")]
    http_listen: SocketAddr,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    // One TLS provider for the API client and the agent server: some dependency builds enable
    // rustls's aws-lc-rs as well, and rustls then refuses to pick one by itself.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let agents = match (args.agents_listen, args.tls_cert_file, args.tls_key_file) {
        (None, _, _) => None,
        (Some(address), Some(cert), Some(key)) => {
            let files = TlsFiles { cert, key, client_ca: args.tls_client_ca_file };
            Some((TcpListener::bind(address).await?, ServerConfig::new(Transport::Tls(files))))
        }
        (Some(address), _, _) if args.insecure_plaintext => {
            Some((TcpListener::bind(address).await?, ServerConfig::new(Transport::InsecurePlaintext)))
        }
        (Some(_), _, _) => {
            return Err("--agents-listen needs --tls-cert-file and --tls-key-file, or --insecure-plaintext".into());
        }
    };
    let context = Context {
        client: kube::Client::try_default().await?,
        clock: Arc::new(SystemClock),
        config: Config { cluster: args.cluster, concurrency: args.concurrency },
    };
    let settings = Settings {
        context,
        min_interval: Duration::from_millis(args.min_interval_ms.max(10)),
        resync: Duration::from_secs(args.resync_s.max(1)),
        agents,
        agent_timeout: Duration::from_secs(args.agent_timeout_s),
        http: Some(TcpListener::bind(args.http_listen).await?),
        leader_election: args.leader_elect.then(|| LeaseConfig {
            namespace: args.leader_election_namespace,
            name: args.lease_name,
            identity: args.leader_identity.unwrap_or_else(default_identity),
            duration: Duration::from_secs(args.lease_duration_s.max(3)),
        }),
    };
    daemon::run(settings, daemon::termination()).await;
    Ok(())
}

/// The host name and process id: unique among replicas even on one host.
fn default_identity() -> String {
    let host = std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_default();
    let host = if host.is_empty() { "tidepool-controller".to_owned() } else { host };
    format!("{host}-{}", std::process::id())
}
