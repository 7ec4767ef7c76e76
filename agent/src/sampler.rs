//! The sampling loop: reads every backend once per sampling interval and publishes a
//! [`Snapshot`] for the plugin servers and the reporter.
//!
//! Backends are read on tokio's blocking pool (they run vendor tools). A backend that fails keeps
//! its last devices for a few reads, so one bad tool run does not withdraw a node's devices; if it
//! keeps failing, its devices are published as unhealthy (`Unknown`) until it recovers. The loop
//! logs health changes; it does not talk to kubelet or the controller.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{info, warn};

use crate::backend::{Backend, BackendError};
use crate::clock::Clock;
use crate::device::{Device, Health};
use crate::inventory::{Snapshot, diff};
use crate::settings::Settings;
use crate::shutdown::Shutdown;

/// Consecutive failed reads after which a backend's devices are published as unhealthy.
pub const STALE_AFTER_FAILURES: u32 = 3;

/// The health given to devices whose backend keeps failing.
pub const UNKNOWN_STATE: &str = "Unknown";

/// Reads the backends and remembers what each last returned.
pub struct Sampler {
    backends: Arc<[Box<dyn Backend>]>,
    clock: Arc<dyn Clock>,
    last: Vec<BackendState>,
    sequence: u64,
}

#[derive(Default)]
struct BackendState {
    devices: Vec<Device>,
    failures: u32,
}

impl Sampler {
    /// A sampler over `backends`, stamping snapshots with `clock`.
    pub fn new(backends: Vec<Box<dyn Backend>>, clock: Arc<dyn Clock>) -> Self {
        let last = backends.iter().map(|_| BackendState::default()).collect();
        Sampler { backends: backends.into(), clock, last, sequence: 0 }
    }

    /// The names of the backends read.
    pub fn backend_names(&self) -> Vec<String> {
        self.backends.iter().map(|backend| backend.name().to_owned()).collect()
    }

    /// Reads every backend once (on the blocking pool) and returns the node's devices.
    pub async fn sample(&mut self) -> Snapshot {
        let backends = Arc::clone(&self.backends);
        let read = tokio::task::spawn_blocking(move || backends.iter().map(|backend| backend.discover()).collect());
        let results: Vec<Result<Vec<Device>, BackendError>> = match read.await {
            Ok(results) => results,
            Err(error) => {
                // A backend panicked; count it as every backend failing this time.
                let message = format!("reading the backends panicked: {error}");
                self.backends
                    .iter()
                    .map(|backend| {
                        Err(BackendError::Unavailable {
                            backend: backend.name(),
                            what: "discover".to_owned(),
                            problem: message.clone(),
                        })
                    })
                    .collect()
            }
        };
        let snapshot = self.merge(results);
        self.sequence += 1;
        snapshot
    }

    /// Folds one read's results into the remembered state and builds the snapshot.
    fn merge(&mut self, results: Vec<Result<Vec<Device>, BackendError>>) -> Snapshot {
        let mut devices = Vec::new();
        for ((state, result), backend) in self.last.iter_mut().zip(results).zip(self.backends.iter()) {
            match result {
                Ok(read) => {
                    if state.failures >= STALE_AFTER_FAILURES {
                        info!(backend = backend.name(), "backend recovered");
                    }
                    state.devices = read;
                    state.failures = 0;
                    devices.extend(state.devices.iter().cloned());
                }
                Err(error) => {
                    state.failures += 1;
                    warn!(backend = backend.name(), failures = state.failures, %error, "reading the backend failed");
                    if state.failures >= STALE_AFTER_FAILURES {
                        devices.extend(state.devices.iter().cloned().map(|mut device| {
                            device.health = Health::Unhealthy(UNKNOWN_STATE.to_owned());
                            device.health_reason = Some(format!(
                                "{} consecutive reads of the {} backend failed; last: {error}",
                                state.failures,
                                backend.name()
                            ));
                            device
                        }));
                    } else {
                        devices.extend(state.devices.iter().cloned());
                    }
                }
            }
        }
        Snapshot { sequence: self.sequence, observed_at_unix_ms: self.clock.now_unix_ms(), devices: devices.into() }
    }

    /// Samples every interval (read from `settings`, so the controller can change it) and
    /// publishes each snapshot on `snapshots`, until `shutdown`.
    pub async fn run(
        mut self,
        mut settings: watch::Receiver<Settings>,
        snapshots: watch::Sender<Snapshot>,
        shutdown: Shutdown,
    ) {
        let mut period = settings.borrow_and_update().sampling_interval;
        let mut ticks = interval_after(period);
        // Without a reporter nobody changes the settings; the sampler keeps its interval.
        let mut settings_open = true;
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    let snapshot = self.sample().await;
                    log_changes(&snapshots.borrow().devices, &snapshot.devices);
                    snapshots.send_replace(snapshot);
                }
                changed = settings.changed(), if settings_open => {
                    if changed.is_err() {
                        settings_open = false;
                        continue;
                    }
                    let new_period = settings.borrow_and_update().sampling_interval;
                    if new_period != period {
                        info!(from = ?period, to = ?new_period, "sampling interval changed");
                        period = new_period;
                        ticks = interval_after(period);
                    }
                }
                () = shutdown.wait() => return,
            }
        }
    }
}

/// Ticks every `period`, the first one `period` from now, never bunching up missed ticks.
fn interval_after(period: Duration) -> tokio::time::Interval {
    let mut ticks = tokio::time::interval_at(Instant::now() + period, period);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ticks
}

fn log_changes(old: &[Device], new: &[Device]) {
    let changes = diff(old, new);
    if changes.inventory_changed {
        info!(devices = new.len(), "inventory changed");
    }
    for &position in &changes.health_changed {
        let device = &new[position];
        let health = String::from(device.health.clone());
        let reason = device.health_reason.as_deref().unwrap_or("");
        if device.health.is_healthy() {
            info!(device = %device.id(), %health, "device healthy again");
        } else {
            warn!(device = %device.id(), %health, reason, "device unhealthy");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tidepool_crds::{Catalogue, Family};

    use super::*;
    use crate::backend::Presence;
    use crate::clock::FixedClock;

    /// A backend that replays a script of results, then repeats the last one.
    struct Scripted(Mutex<Vec<Result<Vec<Device>, String>>>);

    impl Backend for Scripted {
        fn name(&self) -> &'static str {
            "scripted"
        }
        fn presence(&self) -> Presence {
            Presence::Present("script".into())
        }
        fn discover(&self) -> Result<Vec<Device>, BackendError> {
            let mut script = self.0.lock().unwrap();
            let next = if script.len() > 1 { script.remove(0) } else { script[0].clone() };
            next.map_err(|problem| BackendError::Unavailable { backend: "scripted", what: "tool".into(), problem })
        }
    }

    fn device() -> Device {
        Device::new(Family::Ascend, 0, "910B3", 65536, &Catalogue::builtin())
    }

    #[tokio::test]
    async fn a_failing_backend_keeps_its_devices_then_marks_them_unknown() {
        let mut script = vec![Ok(vec![device()])];
        script.extend((0..STALE_AFTER_FAILURES).map(|_| Err("tool crashed".to_owned())));
        script.push(Ok(vec![device()]));
        let backend = Scripted(Mutex::new(script));
        let mut sampler = Sampler::new(vec![Box::new(backend)], Arc::new(FixedClock(42)));

        let first = sampler.sample().await;
        assert_eq!((first.sequence, first.observed_at_unix_ms, first.devices.len()), (0, 42, 1));
        for _ in 1..STALE_AFTER_FAILURES {
            assert!(sampler.sample().await.devices[0].health.is_healthy());
        }
        let stale = sampler.sample().await;
        assert_eq!(stale.devices[0].health, Health::Unhealthy(UNKNOWN_STATE.into()));
        assert!(stale.devices[0].health_reason.as_deref().unwrap().contains("tool crashed"));
        assert!(sampler.sample().await.devices[0].health.is_healthy());
    }

    #[tokio::test]
    async fn a_backend_that_never_worked_has_no_devices() {
        let backend = Scripted(Mutex::new(vec![Err("no tool".to_owned())]));
        let mut sampler = Sampler::new(vec![Box::new(backend)], Arc::new(FixedClock(0)));
        for _ in 0..=STALE_AFTER_FAILURES {
            assert!(sampler.sample().await.devices.is_empty());
        }
    }
}
