//! The running controller: serves node agents and the HTTP endpoints, mirrors the cluster with
//! reflectors, and runs a scheduling pass when something relevant changed (a watched object, an
//! agent's inventory or health), at most every `min_interval`, and at least every `resync` (grace
//! periods end and agents go stale by time alone). With leader election only the lease holder
//! runs passes; every replica serves agents and endpoints.
//!
//! A pass is not planned on stores that do not yet show the previous pass's bindings and
//! evictions ([`Expectations`]), so devices are never handed out twice; after
//! [`EXPECTATIONS_TIMEOUT`] it plans anyway and says so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

use crate::agents::{self, AgentStreams, Registry, ServerConfig};
use crate::expectations::Expectations;
use crate::leader::{Elector, LeaseConfig};
use crate::telemetry::{self, Endpoints, Metrics, Readiness};
use crate::watch::Reflectors;
use crate::{Context, NodeInventory, reconcile};

/// How long a pass waits for the stores to show what the previous pass did.
pub const EXPECTATIONS_TIMEOUT: Duration = Duration::from_secs(10);

/// What the running controller needs.
pub struct Settings {
    /// Cluster client, clock and applier configuration.
    pub context: Context,
    /// Shortest time between two passes.
    pub min_interval: Duration,
    /// Longest time between two passes.
    pub resync: Duration,
    /// Where and how to serve node agents; `None` takes inventories from vendor device plugins only.
    pub agents: Option<(TcpListener, ServerConfig)>,
    /// How long an agent may be gone before its node's devices are unavailable.
    pub agent_timeout: Duration,
    /// Where to serve `/metrics`, `/healthz` and `/readyz`.
    pub http: Option<TcpListener>,
    /// The lease to hold before running passes; `None` runs them unconditionally.
    pub leader_election: Option<LeaseConfig>,
}

/// Runs until `shutdown` completes (the binary passes [`termination`]), then stops the servers,
/// gives up the lease, and returns.
pub async fn run(settings: Settings, shutdown: impl Future<Output = ()>) {
    let registry = Arc::new(Registry::new(settings.agent_timeout));
    let metrics = Arc::new(Metrics::new());
    let readiness = Readiness::new(settings.leader_election.is_some());
    let (stop, stopped) = watch::channel(false);
    let until_stopped = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let mut tasks: Vec<JoinHandle<()>> = Vec::new();
    if let Some((listener, config)) = settings.agents {
        let streams = AgentStreams::new(registry.clone(), settings.context.clock.clone());
        let shutdown = until_stopped(stopped.clone());
        tasks.push(tokio::spawn(async move {
            if let Err(problem) = agents::serve(listener, streams, &config, shutdown).await {
                error!(%problem, "agent server stopped");
            }
        }));
    }
    if let Some(listener) = settings.http {
        let endpoints = Endpoints { metrics: metrics.clone(), readiness: readiness.clone() };
        tasks.push(tokio::spawn(telemetry::serve(listener, endpoints, until_stopped(stopped.clone()))));
    }
    let (leading_tx, mut leading) = watch::channel(settings.leader_election.is_none());
    // Without an election nobody sends, but the sender must live, or `changed` would fire forever.
    let _always_leading = match settings.leader_election {
        Some(lease) => {
            let elector = Elector::new(settings.context.client.clone(), lease, settings.context.clock.clone());
            tasks.push(tokio::spawn(elector.run(leading_tx, stopped.clone())));
            None
        }
        None => Some(leading_tx),
    };

    let ctx = &settings.context;
    let reflectors = Reflectors::start(&ctx.client);
    tokio::pin!(shutdown);
    tokio::select! {
        () = reflectors.stores.ready() => info!("caches synced"),
        () = &mut shutdown => return stop_all(stop, tasks).await,
    }
    let mut expectations = Expectations::default();
    let mut expected_since = Instant::now();
    let mut last_pass: Option<Instant> = None;
    loop {
        if let Some(at) = last_pass {
            tokio::select! {
                () = reflectors.changed.notified() => {}
                () = registry.changed() => {}
                _ = leading.changed() => {}
                () = tokio::time::sleep(settings.resync) => {}
                () = &mut shutdown => break,
            }
            tokio::select! {
                () = tokio::time::sleep_until((at + settings.min_interval).into()) => {}
                () = &mut shutdown => break,
            }
        }
        let leads = *leading.borrow_and_update();
        readiness.set_leading(leads);
        if !leads {
            continue;
        }
        let objects = reflectors.stores.objects();
        if !expectations.met_by(&objects) {
            if expected_since.elapsed() < EXPECTATIONS_TIMEOUT {
                continue;
            }
            warn!(
                pods = expectations.len(),
                "the watches have not shown the last pass's pods in time; planning anyway"
            );
        }
        let now = ctx.clock.now();
        let inventories: Vec<NodeInventory> = registry.inventories(now).iter().map(NodeInventory::from).collect();
        let started = Instant::now();
        last_pass = Some(started);
        match reconcile(ctx, &objects, &inventories).await {
            Ok(mut pass) => {
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
                metrics.set_pending(pass.pending_by_cause.iter().map(|(cause, n)| (cause.as_str(), *n)));
                for (model, n) in &pass.applied.placed {
                    metrics.add_placements(model, *n);
                }
                metrics.add_preemptions(pass.applied.preempted as u64);
                expectations = std::mem::take(&mut pass.applied.expectations);
                expected_since = Instant::now();
                readiness.cycle_ran();
            }
            Err(problem) => error!(%problem, "pass failed"),
        }
        metrics.observe_cycle(started.elapsed());
        let counts = registry.counts(now);
        metrics.set_agents(counts.connected as u64, counts.stale as u64);
    }
    stop_all(stop, tasks).await;
}

async fn stop_all(stop: watch::Sender<bool>, tasks: Vec<JoinHandle<()>>) {
    info!("stopping");
    let _ = stop.send(true);
    for task in tasks {
        let _ = task.await;
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
