//! The agent's shutdown signal: one trigger, any number of listeners.
//!
//! Every long-running task (sampler, plugin servers, `ListAndWatch` streams, reporter) holds a
//! [`Shutdown`] and stops when it fires. This module does not catch signals; the command line
//! turns SIGTERM and Ctrl-C into [`ShutdownTrigger::trigger`].

use tokio::sync::watch;

/// Fires the shutdown signal. Dropping the trigger fires it too, so no task outlives its owner.
#[derive(Debug)]
pub struct ShutdownTrigger {
    sender: watch::Sender<bool>,
}

/// Waits for the shutdown signal; clones are cheap and all see the same signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

/// A new trigger and its signal.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (ShutdownTrigger { sender }, Shutdown { receiver })
}

impl ShutdownTrigger {
    /// Fires the signal; every [`Shutdown::wait`] returns.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }
}

impl Shutdown {
    /// Returns once the signal has fired (or its trigger was dropped).
    pub async fn wait(&self) {
        let mut receiver = self.receiver.clone();
        // An error means the trigger is gone, which counts as shutting down.
        let _ = receiver.wait_for(|fired| *fired).await;
    }

    /// Whether the signal has fired.
    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow() || self.receiver.has_changed().is_err()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn trigger_and_drop_both_release_waiters() {
        let (trigger, shutdown) = channel();
        assert!(!shutdown.is_triggered());
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.wait().await }
        });
        trigger.trigger();
        waiter.await.unwrap();
        assert!(shutdown.is_triggered());

        let (trigger, shutdown) = channel();
        drop(trigger);
        shutdown.wait().await;
        assert!(shutdown.is_triggered());
    }
}
