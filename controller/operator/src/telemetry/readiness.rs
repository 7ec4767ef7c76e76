//! Whether the operator is ready: the first scheduling cycle has run and, when leader election
//! is on, this replica leads. A cheap shared handle the scheduling loop and the leader elector
//! write and `/readyz` reads; it does not run cycles or elections itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The readiness handle; clones share the same state.
#[derive(Clone, Debug)]
pub struct Readiness {
    cycle_ran: Arc<AtomicBool>,
    leading: Option<Arc<AtomicBool>>,
}

impl Readiness {
    /// Not ready yet; with `leader_election`, readiness also waits for leadership.
    pub fn new(leader_election: bool) -> Self {
        Readiness { cycle_ran: Arc::default(), leading: leader_election.then(Arc::default) }
    }

    /// Notes that a scheduling cycle has run.
    pub fn cycle_ran(&self) {
        self.cycle_ran.store(true, Ordering::Release);
    }

    /// Notes whether this replica leads; ignored without leader election.
    pub fn set_leading(&self, leading: bool) {
        if let Some(flag) = &self.leading {
            flag.store(leading, Ordering::Release);
        }
    }

    /// `Ok` when ready, otherwise why not.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.leading.as_ref().is_some_and(|leading| !leading.load(Ordering::Acquire)) {
            return Err("not the leader");
        }
        if !self.cycle_ran.load(Ordering::Acquire) {
            return Err("no scheduling cycle has run yet");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_after_a_cycle_without_election() {
        let readiness = Readiness::new(false);
        assert_eq!(readiness.check(), Err("no scheduling cycle has run yet"));
        readiness.set_leading(false);
        readiness.clone().cycle_ran();
        assert_eq!(readiness.check(), Ok(()));
    }

    #[test]
    fn with_election_readiness_follows_leadership() {
        let readiness = Readiness::new(true);
        readiness.cycle_ran();
        assert_eq!(readiness.check(), Err("not the leader"));
        readiness.set_leading(true);
        assert_eq!(readiness.check(), Ok(()));
        readiness.set_leading(false);
        assert_eq!(readiness.check(), Err("not the leader"));
    }
}
