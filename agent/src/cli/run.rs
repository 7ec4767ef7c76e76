//! `tidepool-agent run`: the node agent. Parses flags (each with an environment fallback), sets
//! up logging and a single-threaded tokio runtime, builds the [`Agent`] and runs it until SIGTERM
//! or Ctrl-C.

use std::hash::{BuildHasher, RandomState};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use tidepool_crds::Catalogue;
use tracing::{info, warn};

use super::duration::parse_duration;
use crate::backend::{self, Backend, Source};
use crate::clock::SystemClock;
use crate::daemon::Agent;
use crate::logging::{self, LogFormat};
use crate::plugin::allocate::AllocateConfig;
use crate::plugin::manager::ManagerConfig;
use crate::plugin::naming::{Naming, NamingMode};
use crate::report::session::Identity;
use crate::report::tls::TlsFiles;
use crate::report::{Reporter, ReporterConfig};
use crate::sampler::Sampler;
use crate::settings::Settings;
use crate::shutdown;

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The Kubernetes node this agent runs on [default: the host name].
    #[arg(long, env = "TIDEPOOL_NODE_NAME", value_name = "NAME")]
    node_name: Option<String>,
    /// How often to read the devices (`500ms`, `5s`, `1m`); the controller may change it.
    #[arg(long, env = "TIDEPOOL_SAMPLING_INTERVAL", value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    sampling_interval: Duration,
    /// Read only these backends, comma-separated [default: every backend present on the node].
    #[arg(long = "backend", env = "TIDEPOOL_BACKENDS", value_name = "NAME", value_delimiter = ',')]
    backends: Vec<String>,
    /// The inventory file the `fake` backend reads (read again at every sample).
    #[arg(long, env = "TIDEPOOL_INVENTORY_FILE", value_name = "PATH")]
    inventory_file: Option<PathBuf>,
    /// Kubelet's device-plugin directory, where `kubelet.sock` is and the plugin sockets go.
    #[arg(long, env = "TIDEPOOL_SOCKET_DIR", value_name = "DIR", default_value = "/var/lib/kubelet/device-plugins")]
    socket_dir: PathBuf,
    /// Resource names: `vendor` (the vendors' own, e.g. nvidia.com/gpu) or `tidepool`
    /// (tidepool.dev/<catalogue model>).
    #[arg(long, env = "TIDEPOOL_NAMING", value_name = "MODE", default_value_t = NamingMode::Vendor)]
    naming: NamingMode,
    /// Do not serve kubelet; only report to the controller (e.g. beside the vendors' plugins).
    #[arg(long, env = "TIDEPOOL_NO_DEVICE_PLUGIN")]
    no_device_plugin: bool,
    /// How often to look for a restarted kubelet or a removed plugin socket.
    #[arg(long, env = "TIDEPOOL_KUBELET_WATCH_INTERVAL", value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    kubelet_watch_interval: Duration,
    /// The controller's agent API, `https://host:port` [default: report to no controller].
    #[arg(long, env = "TIDEPOOL_CONTROLLER", value_name = "URL")]
    controller: Option<String>,
    /// The CA bundle (PEM) that signs the controller's certificate; required with --controller
    /// unless --insecure-plaintext.
    #[arg(long, env = "TIDEPOOL_TLS_CA_FILE", value_name = "PATH")]
    tls_ca_file: Option<PathBuf>,
    /// The agent's certificate (PEM), for mutual TLS; needs --tls-key-file.
    #[arg(long, env = "TIDEPOOL_TLS_CERT_FILE", value_name = "PATH", requires = "tls_key_file")]
    tls_cert_file: Option<PathBuf>,
    /// The agent's private key (PEM), for mutual TLS; needs --tls-cert-file.
    #[arg(long, env = "TIDEPOOL_TLS_KEY_FILE", value_name = "PATH", requires = "tls_cert_file")]
    tls_key_file: Option<PathBuf>,
    /// The name the controller's certificate must carry, when not the host in --controller.
    #[arg(long, env = "TIDEPOOL_TLS_SERVER_NAME", value_name = "NAME")]
    tls_server_name: Option<String>,
    /// Talk to the controller in the clear (`http://`). For tests and loopback only: anyone on
    /// the path can read and forge the inventory.
    #[arg(long, env = "TIDEPOOL_INSECURE_PLAINTEXT", conflicts_with_all = ["tls_ca_file", "tls_cert_file", "tls_key_file", "tls_server_name"])]
    insecure_plaintext: bool,
    /// Log lines as `text` or `json`; the filter comes from TIDEPOOL_LOG (or RUST_LOG), e.g.
    /// `info,tidepool_agent=debug`.
    #[arg(long, env = "TIDEPOOL_LOG_FORMAT", value_name = "FORMAT", default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// Runs the agent until SIGTERM or Ctrl-C.
pub fn run(args: RunArgs) -> Result<(), Box<dyn std::error::Error>> {
    logging::init(args.log_format).map_err(|error| format!("logging: {error}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async move {
        let agent = build(&args)?;
        let (trigger, shutdown) = shutdown::channel();
        tokio::spawn(async move {
            match stop_signal().await {
                Ok(signal) => info!(signal, "shutting down"),
                Err(error) => warn!(%error, "cannot listen for signals; shutting down"),
            }
            trigger.trigger();
        });
        agent.run(shutdown).await;
        Ok(())
    })
}

/// Waits for SIGTERM (the kubelet stopping the pod) or SIGINT (Ctrl-C); names the one received.
async fn stop_signal() -> std::io::Result<&'static str> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = terminate.recv() => Ok("SIGTERM"),
        interrupted = tokio::signal::ctrl_c() => interrupted.map(|()| "SIGINT"),
    }
}

fn build(args: &RunArgs) -> Result<Agent, Box<dyn std::error::Error>> {
    let catalogue = Catalogue::builtin();
    let backends = backends(args, &catalogue)?;
    if backends.is_empty() {
        warn!(known = ?backend::names(), "no accelerator backend found on this node; serving none");
    }
    let settings = Settings::new(args.sampling_interval)?;
    let naming = Arc::new(Naming::new(args.naming, catalogue));
    let sampler = Sampler::new(backends, Arc::new(SystemClock));
    if !args.no_device_plugin && !args.socket_dir.is_dir() {
        let dir = args.socket_dir.display();
        return Err(format!("the device-plugin directory {dir} does not exist (or use --no-device-plugin)").into());
    }
    let plugins = (!args.no_device_plugin).then(|| {
        let manager = ManagerConfig {
            socket_dir: args.socket_dir.clone(),
            watch_interval: args.kubelet_watch_interval,
            register_timeout: Duration::from_secs(5),
        };
        (manager, AllocateConfig::default())
    });
    let reporter = match &args.controller {
        Some(address) => Some(Reporter::new(ReporterConfig {
            address: address.clone(),
            tls: tls_files(args)?,
            identity: Identity {
                node_name: node_name(args)?,
                agent_version: env!("CARGO_PKG_VERSION").to_owned(),
                backends: sampler.backend_names(),
            },
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            jitter_seed: RandomState::new().hash_one(address),
            naming: plugins.is_some().then(|| Arc::clone(&naming)),
        })?),
        None => {
            info!("no --controller given: not reporting");
            None
        }
    };
    Ok(Agent { sampler, settings, naming, plugins, reporter })
}

fn backends(args: &RunArgs, catalogue: &Catalogue) -> Result<Vec<Box<dyn Backend>>, Box<dyn std::error::Error>> {
    if args.backends.is_empty() {
        if args.inventory_file.is_some() {
            return Err("--inventory-file is read by the fake backend: add --backend fake".into());
        }
        return Ok(backend::detect(catalogue));
    }
    let mut chosen = Vec::new();
    for name in &args.backends {
        let source = if name == backend::fake::NAME {
            let file = args.inventory_file.clone().ok_or("the fake backend needs --inventory-file")?;
            Source::File(file)
        } else {
            Source::Node
        };
        chosen.push(backend::by_name(name, source, catalogue)?);
    }
    Ok(chosen)
}

fn tls_files(args: &RunArgs) -> Result<Option<TlsFiles>, Box<dyn std::error::Error>> {
    if args.insecure_plaintext {
        warn!("--insecure-plaintext: the stream to the controller is not encrypted");
        return Ok(None);
    }
    let ca = args
        .tls_ca_file
        .clone()
        .ok_or("--controller needs --tls-ca-file (or --insecure-plaintext to send in the clear)")?;
    let client_identity = args.tls_cert_file.clone().zip(args.tls_key_file.clone());
    Ok(Some(TlsFiles { ca, client_identity, server_name: args.tls_server_name.clone() }))
}

fn node_name(args: &RunArgs) -> Result<String, Box<dyn std::error::Error>> {
    if let Some(name) = &args.node_name {
        return Ok(name.clone());
    }
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let hostname = hostname.trim();
    if hostname.is_empty() {
        return Err("cannot tell the node name: give --node-name (or TIDEPOOL_NODE_NAME)".into());
    }
    Ok(hostname.to_owned())
}
