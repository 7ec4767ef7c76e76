//! Everything a reconcile pass needs, in one place: the API client, the clock and the settings.

use std::sync::Arc;

use crate::clock::Clock;

/// What a reconcile pass runs with.
#[derive(Clone)]
pub struct Context {
    /// The Kubernetes API.
    pub client: kube::Client,
    /// The time source.
    pub clock: Arc<dyn Clock>,
    /// Settings.
    pub config: Config,
}

/// Settings of the controller.
#[derive(Clone, Debug)]
pub struct Config {
    /// Name of the cluster this controller schedules (placement status reports it).
    pub cluster: String,
    /// Most API calls in flight at once while applying a plan.
    pub concurrency: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self { cluster: "local".into(), concurrency: 64 }
    }
}

impl Context {
    /// A context with the given client and clock and default settings.
    pub fn new(client: kube::Client, clock: Arc<dyn Clock>) -> Self {
        Self { client, clock, config: Config::default() }
    }
}
