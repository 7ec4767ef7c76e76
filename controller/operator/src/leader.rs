//! Leader election through a `coordination.k8s.io/v1` Lease, the way client-go's
//! `leaderelection` does it: the holder renews the lease every few seconds; another replica takes
//! it over only once it has seen the lease unchanged for a whole lease duration, timed on its own
//! clock (so clock skew between replicas does not matter); every write carries the
//! resourceVersion it read, so two replicas racing for it cannot both win. A leader that cannot
//! renew steps down before its lease could be taken, so two never act at once.
//!
//! Only the scheduling loop is guarded: every replica serves agents and endpoints, so agents
//! stay connected across a failover.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ObjectMeta, PostParams};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::clock::Clock;

/// Which lease, who we are, and how long a lease lasts.
#[derive(Clone, Debug)]
pub struct LeaseConfig {
    /// Namespace of the Lease.
    pub namespace: String,
    /// Name of the Lease.
    pub name: String,
    /// This replica's identity, as written into `holderIdentity`.
    pub identity: String,
    /// How long a lease lasts without renewal (client-go's default: 15 s).
    pub duration: Duration,
}

impl LeaseConfig {
    /// Time between renewals: a third of the lease, so two renewals can fail before it lapses.
    pub fn renew_every(&self) -> Duration {
        self.duration / 3
    }

    /// How long a leader keeps acting without a successful renewal: two thirds of the lease,
    /// so it has stopped well before anyone else may take over.
    pub fn renew_deadline(&self) -> Duration {
        self.duration * 2 / 3
    }
}

/// Takes part in the election for one lease.
pub struct Elector {
    api: Api<Lease>,
    config: LeaseConfig,
    clock: Arc<dyn Clock>,
    /// The holder and renew time last read, and when (on our clock) they were first seen.
    observed: Mutex<Option<(Observed, Timestamp)>>,
}

type Observed = (Option<String>, Option<Timestamp>);

fn conflict_or_exists(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 409)
}

fn not_found(e: &kube::Error) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == 404)
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

impl Elector {
    /// An elector for `config`'s lease on `client`.
    pub fn new(client: kube::Client, config: LeaseConfig, clock: Arc<dyn Clock>) -> Self {
        Elector { api: Api::namespaced(client, &config.namespace), config, clock, observed: Mutex::new(None) }
    }

    /// Whether the lease, as read now, has gone unchanged for a whole lease duration.
    fn lapsed(&self, spec: &LeaseSpec, now: Timestamp) -> bool {
        let record: Observed = (spec.holder_identity.clone(), spec.renew_time.as_ref().map(|t| t.0));
        let mut observed = self.observed.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let since = match observed.as_ref() {
            Some((seen, at)) if *seen == record => *at,
            _ => {
                *observed = Some((record, now));
                now
            }
        };
        now >= since + signed(self.config.duration)
    }

    fn held_spec(&self, now: Timestamp, previous: Option<&LeaseSpec>) -> LeaseSpec {
        let ours = previous.is_some_and(|p| p.holder_identity.as_deref() == Some(&self.config.identity));
        let transitions = previous.and_then(|p| p.lease_transitions).unwrap_or(0);
        LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: Some(self.config.duration.as_secs().max(1).try_into().unwrap_or(i32::MAX)),
            acquire_time: if ours { previous.and_then(|p| p.acquire_time.clone()) } else { Some(MicroTime(now)) },
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(if ours || previous.is_none() { transitions } else { transitions + 1 }),
            ..Default::default()
        }
    }

    /// One round: creates, renews or takes over the lease where allowed. True when this replica
    /// holds it afterwards. Losing a race is `Ok(false)`; only the API failing is an error.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let now = self.clock.now();
        let current = match self.api.get(&self.config.name).await {
            Ok(lease) => lease,
            Err(e) if not_found(&e) => {
                let lease = Lease {
                    metadata: ObjectMeta { name: Some(self.config.name.clone()), ..Default::default() },
                    spec: Some(self.held_spec(now, None)),
                };
                return match self.api.create(&PostParams::default(), &lease).await {
                    Ok(_) => Ok(true),
                    Err(e) if conflict_or_exists(&e) => Ok(false),
                    Err(e) => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        let spec = current.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.as_deref().filter(|h| !h.is_empty());
        if holder.is_some_and(|h| h != self.config.identity) && !self.lapsed(&spec, now) {
            return Ok(false);
        }
        let lease = Lease { metadata: current.metadata.clone(), spec: Some(self.held_spec(now, Some(&spec))) };
        match self.api.replace(&self.config.name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(true),
            Err(e) if conflict_or_exists(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the lease up if this replica holds it, so a standby takes over at once instead of
    /// waiting for it to lapse.
    pub async fn release(&self) -> Result<(), kube::Error> {
        let mut lease = match self.api.get(&self.config.name).await {
            Ok(lease) => lease,
            Err(e) if not_found(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(spec) = lease.spec.as_mut() else { return Ok(()) };
        if spec.holder_identity.as_deref() != Some(&self.config.identity) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = None;
        spec.acquire_time = None;
        match self.api.replace(&self.config.name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(()),
            Err(e) if conflict_or_exists(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Campaigns until `stop` turns true, publishing whether this replica leads on `leading`;
    /// releases the lease on the way out.
    pub async fn run(self, leading: watch::Sender<bool>, mut stop: watch::Receiver<bool>) {
        let mut last_renewed: Option<Timestamp> = None;
        loop {
            let now = self.clock.now();
            let leads = match self.try_acquire_or_renew().await {
                Ok(true) => {
                    last_renewed = Some(now);
                    true
                }
                Ok(false) => false,
                Err(problem) => {
                    warn!(%problem, lease = %self.config.name, "cannot reach the lease");
                    // Keep acting only while the last renewal is within the renew deadline.
                    last_renewed.is_some_and(|at| now < at + signed(self.config.renew_deadline()))
                }
            };
            if leads != *leading.borrow() {
                info!(identity = %self.config.identity, lease = %self.config.name, leads, "leadership changed");
            }
            leading.send_replace(leads);
            tokio::select! {
                () = tokio::time::sleep(self.config.renew_every()) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        leading.send_replace(false);
        if let Err(problem) = self.release().await {
            warn!(%problem, "could not release the lease; a standby takes over once it lapses");
        }
    }
}
