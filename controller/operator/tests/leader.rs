//! Leader election on a Lease in the fake API, with a manual clock: one leader at a time, a
//! lapsed lease taken over, a released one taken at once, a stopped leader handing over.

#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::api::Api;
use tidepool_controller::ManualClock;
use tidepool_controller::leader::{Elector, LeaseConfig};

fn config(identity: &str) -> LeaseConfig {
    LeaseConfig {
        namespace: "tidepool-system".into(),
        name: "tidepool-controller".into(),
        identity: identity.into(),
        duration: Duration::from_secs(15),
    }
}

async fn lease(client: &kube::Client) -> Lease {
    Api::<Lease>::namespaced(client.clone(), "tidepool-system").get("tidepool-controller").await.unwrap()
}

#[tokio::test]
async fn one_replica_leads_until_its_lease_lapses_then_another_takes_over() {
    let (client, _) = support::fake::client().await;
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_800_000_000).unwrap()));
    let a = Elector::new(client.clone(), config("replica-a"), clock.clone());
    let b = Elector::new(client.clone(), config("replica-b"), clock.clone());

    assert!(a.try_acquire_or_renew().await.unwrap(), "the first to ask creates the lease");
    assert!(!b.try_acquire_or_renew().await.unwrap());
    clock.advance(10);
    assert!(a.try_acquire_or_renew().await.unwrap(), "renewed");
    clock.advance(14);
    assert!(!b.try_acquire_or_renew().await.unwrap(), "renewed since b last looked: still a's");
    clock.advance(14);
    assert!(!b.try_acquire_or_renew().await.unwrap(), "b has seen it unchanged for 14 s only");
    let held = lease(&client).await.spec.unwrap();
    assert_eq!(held.holder_identity.as_deref(), Some("replica-a"));
    assert_eq!(held.lease_transitions, Some(0));

    clock.advance(1);
    assert!(b.try_acquire_or_renew().await.unwrap(), "unchanged for 15 s: lapsed");
    assert!(!a.try_acquire_or_renew().await.unwrap(), "a finds it taken");
    let held = lease(&client).await.spec.unwrap();
    assert_eq!(held.holder_identity.as_deref(), Some("replica-b"));
    assert_eq!(held.lease_transitions, Some(1));
    assert_eq!(held.acquire_time.unwrap().0, clock_now(&clock));
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    use tidepool_controller::Clock;
    clock.now()
}

#[tokio::test]
async fn a_released_lease_is_taken_at_once() {
    let (client, _) = support::fake::client().await;
    let clock = Arc::new(ManualClock::new(Timestamp::from_second(1_800_000_000).unwrap()));
    let a = Elector::new(client.clone(), config("replica-a"), clock.clone());
    let b = Elector::new(client.clone(), config("replica-b"), clock.clone());
    assert!(a.try_acquire_or_renew().await.unwrap());
    b.release().await.unwrap();
    assert!(!b.try_acquire_or_renew().await.unwrap(), "b cannot release a's lease");
    a.release().await.unwrap();
    assert!(b.try_acquire_or_renew().await.unwrap(), "no need to wait for it to lapse");
}

#[tokio::test]
async fn two_replicas_campaigning_never_lead_at_once_and_the_leader_hands_over_on_stop() {
    let (client, _) = support::fake::client().await;
    let clock: Arc<ManualClock> = Arc::new(ManualClock::new(Timestamp::now()));
    let campaign = |identity: &str| {
        let mut config = config(identity);
        config.duration = Duration::from_millis(300);
        let (leading_tx, leading) = tokio::sync::watch::channel(false);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(Elector::new(client.clone(), config, clock.clone()).run(leading_tx, stopped));
        (leading, stop, task)
    };
    let (mut a_leads, stop_a, a) = campaign("replica-a");
    tokio::time::timeout(Duration::from_secs(2), a_leads.wait_for(|l| *l)).await.unwrap().unwrap();
    let (mut b_leads, _stop_b, _b) = campaign("replica-b");
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            *a_leads.borrow() && !*b_leads.borrow(),
            "a keeps leading, b waits: {} {}",
            *a_leads.borrow(),
            *b_leads.borrow()
        );
    }
    stop_a.send(true).unwrap();
    a.await.unwrap();
    assert!(!*a_leads.borrow(), "stopped, no longer leading");
    // b asks every 100 ms; the lease would lapse only after 300 ms.
    tokio::time::timeout(Duration::from_millis(250), b_leads.wait_for(|l| *l)).await.unwrap().unwrap();
}
