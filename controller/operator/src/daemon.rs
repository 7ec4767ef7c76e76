//! The running controller: serves node agents and the HTTP endpoints, and runs a reconcile pass
//! on a timer with the agents' inventories, recording metrics, until told to stop.
//!
//! Not here yet: watches (each pass lists), leader election, and the plan-level metrics (pending
//! by reason, placements by model, preemptions), which need the plan out of [`reconcile_once`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::agents::{self, AgentStreams, Registry, ServerConfig};
use crate::telemetry::{self, Endpoints, Metrics, Readiness};
use crate::{Context, NodeInventory, reconcile_once};

/// What the running controller needs.
pub struct Settings {
    /// Cluster client, clock and applier configuration.
    pub context: Context,
    /// Time between reconcile passes.
    pub interval: Duration,
    /// Where and how to serve node agents; `None` takes inventories from vendor device plugins only.
    pub agents: Option<(TcpListener, ServerConfig)>,
    /// How long an agent may be gone before its node's devices are unavailable.
    pub agent_timeout: Duration,
    /// Where to serve `/metrics`, `/healthz` and `/readyz`.
    pub http: Option<TcpListener>,
}

/// Runs until `shutdown` completes (the binary passes [`termination`]), then stops the servers
/// and returns.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) {
    let registry = Arc::new(Registry::new(settings.agent_timeout));
    let metrics = Arc::new(Metrics::new());
    let readiness = Readiness::new(false);
    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let mut servers: Vec<JoinHandle<()>> = Vec::new();
    if let Some((listener, config)) = settings.agents {
        let streams = AgentStreams::new(registry.clone(), settings.context.clock.clone());
        let shutdown = until_stopped(stopped.clone());
        servers.push(tokio::spawn(async move {
            if let Err(problem) = agents::serve(listener, streams, &config, shutdown).await {
                error!(%problem, "agent server stopped");
            }
        }));
    }
    if let Some(listener) = settings.http {
        let endpoints = Endpoints { metrics: metrics.clone(), readiness: readiness.clone() };
        servers.push(tokio::spawn(telemetry::serve(listener, endpoints, until_stopped(stopped.clone()))));
    }
    let mut tick = tokio::time::interval(settings.interval);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = &mut shutdown => break,
        }
        let now = settings.context.clock.now();
        let inventories: Vec<NodeInventory> = registry.inventories(now).iter().map(NodeInventory::from).collect();
        let started = Instant::now();
        match reconcile_once(&settings.context, &inventories).await {
            Ok(pass) => {
                for problem in &pass.applied.errors {
                    warn!(%problem, "will retry next pass");
                }
                info!(
                    workloads = pass.workloads,
                    created = pass.applied.created,
                    bound = pass.applied.bound,
                    evicted = pass.applied.evicted,
                    pending = pass.pending,
                    "pass"
                );
                readiness.cycle_ran();
            }
            Err(problem) => error!(%problem, "pass failed"),
        }
        metrics.observe_cycle(started.elapsed());
        let counts = registry.counts(now);
        metrics.set_agents(counts.connected as u64, counts.stale as u64);
    }
    info!("stopping");
    let _ = stop.send(true);
    for server in servers {
        let _ = server.await;
    }
}

/// SIGTERM (how Kubernetes stops a pod) or Ctrl-C.
pub async fn termination() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(problem) => {
            warn!(%problem, "cannot listen for SIGTERM; Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
