//! `tidepool-controller`: connects to the cluster and runs a reconcile pass on a timer.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use tidepool_controller::context::{Config, Context};
use tidepool_controller::{SystemClock, reconcile_once};

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
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = Args::parse();
    let client = kube::Client::try_default().await?;
    let ctx = Context {
        client,
        clock: Arc::new(SystemClock),
        config: Config { cluster: args.cluster, concurrency: args.concurrency },
    };
    let mut tick = tokio::time::interval(Duration::from_millis(args.interval_ms.max(10)));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        match reconcile_once(&ctx, &[]).await {
            Ok(r) => {
                for e in &r.applied.errors {
                    tracing::warn!(error = %e, "will retry next pass");
                }
                tracing::info!(
                    workloads = r.workloads,
                    binds = r.applied.bound,
                    evicted = r.applied.evicted,
                    statuses = r.applied.statuses,
                    pending = r.pending,
                    "pass"
                );
            }
            Err(e) => tracing::error!(error = %e, "pass failed"),
        }
    }
}
