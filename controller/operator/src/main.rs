//! `tidepool-controller`: connects to the cluster, serves node agents and the HTTP endpoints, and
//! runs a reconcile pass on a timer (see [`tidepool_controller::daemon`]).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tidepool_controller::SystemClock;
use tidepool_controller::agents::{ServerConfig, TlsFiles, Transport};
use tidepool_controller::context::{Config, Context};
use tidepool_controller::daemon::{self, Settings};
use tokio::net::TcpListener;

/// Tidepool's controller for one cluster.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Name of this cluster, as tenants' allowedClusters name it.
    #[arg(long, env = "TIDEPOOL_CLUSTER", default_value = "local")]
    cluster: String,
    /// Milliseconds between reconcile passes.
    #[arg(long, env = "TIDEPOOL_INTERVAL_MS", default_value_t = 1000)]
    interval_ms: u64,
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
    /// Address to serve /metrics, /healthz and /readyz on.
    #[arg(long, env = "TIDEPOOL_HTTP_LISTEN", default_value = "0.0.0.0:8080")]
    http_listen: SocketAddr,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
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
        interval: Duration::from_millis(args.interval_ms.max(10)),
        agents,
        agent_timeout: Duration::from_secs(args.agent_timeout_s),
        http: Some(TcpListener::bind(args.http_listen).await?),
    };
    daemon::run(settings, daemon::termination()).await;
    Ok(())
}
