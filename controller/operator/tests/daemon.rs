//! The running controller: it takes the Lease, mirrors the fake API through watches, a real agent
//! reports its devices over loopback, work submitted while it runs is placed on them at once, the
//! HTTP endpoints say so, and it stops when told, handing the Lease back.

#![allow(clippy::unwrap_used)]

mod peers;
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, PostParams};
use tidepool_controller::labels;
use tidepool_controller::leader::LeaseConfig;
use tidepool_crds::TrainingJob;
use tidepool_crds::manifests::ApiObject;

use tidepool_controller::agents::{ServerConfig, Transport};
use tidepool_controller::daemon::{self, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response)).await.unwrap().unwrap();
    (response.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap(), response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_leader_places_work_submitted_while_it_runs_on_an_agents_devices_and_stops() {
    let (fake, _) = support::fake::client().await;
    let client = support::watching::with_watches(fake);
    let policy = support::group_cloud().into_iter().filter(|o| matches!(o, ApiObject::SchedulingPolicy(_))).collect();
    support::submit(&client, policy).await;
    support::submit(&client, vec![ApiObject::Tenant(support::team(8))]).await;
    let mut node = Node::default();
    node.metadata.name = Some(peers::NODE.into());
    support::add_nodes(&client, vec![node]).await;

    let (mut context, _) = support::context(&client, "local");
    context.clock = Arc::new(tidepool_controller::SystemClock);
    let agents = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (agents_addr, http_addr) = (agents.local_addr().unwrap(), http.local_addr().unwrap());
    let settings = Settings {
        context,
        min_interval: Duration::from_millis(50),
        resync: Duration::from_secs(1),
        agents: Some((agents, ServerConfig::new(Transport::InsecurePlaintext))),
        agent_timeout: Duration::from_secs(30),
        http: Some(http),
        leader_election: Some(LeaseConfig {
            namespace: "tidepool-system".into(),
            name: "tidepool-controller".into(),
            identity: "replica-a".into(),
            duration: Duration::from_secs(3),
        }),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = daemon::run(settings, async {
        let _ = stopped.await;
    });
    let checks = async {
        let dir = tempfile::tempdir().unwrap();
        let inventory = dir.path().join("inventory.json");
        peers::write_inventory(&inventory, &peers::nvidia(2));
        let agent =
            peers::RunningAgent::start(&inventory, format!("http://{agents_addr}"), None, Duration::from_millis(100));
        let mut metrics = String::new();
        for _ in 0..100 {
            metrics = get(http_addr, "/metrics").await.1;
            if metrics.contains("tidepool_connected_agents 1") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(metrics.contains("tidepool_connected_agents 1"), "{metrics}");

        // Submitted while the controller runs: the watch wakes it, no timer needed.
        let job = support::training("team-ns", "fine-tune", 1, 2, "nvidia-h100", "");
        let submitted = Instant::now();
        Api::<TrainingJob>::namespaced(client.clone(), "team-ns").create(&PostParams::default(), &job).await.unwrap();
        let mut bound = Vec::new();
        for _ in 0..100 {
            bound = support::pods(&client).await;
            if bound.iter().any(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(peers::NODE)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let waited = submitted.elapsed();
        assert_eq!(bound.len(), 1, "one replica pod: {bound:?}");
        let pod = &bound[0];
        assert_eq!(pod.spec.as_ref().unwrap().node_name.as_deref(), Some(peers::NODE));
        assert_eq!(pod.metadata.annotations.as_ref().unwrap()[labels::DEVICES], "GPU-0,GPU-1");
        assert!(waited < Duration::from_secs(1), "bound {waited:?} after submission; resync is 1 s");

        let lease = Api::<Lease>::namespaced(client.clone(), "tidepool-system").get("tidepool-controller").await;
        assert_eq!(lease.unwrap().spec.unwrap().holder_identity.as_deref(), Some("replica-a"));
        assert_eq!(get(http_addr, "/readyz").await.0, 200, "leading, and a pass has run");
        assert_eq!(get(http_addr, "/healthz").await.0, 200);
        let metrics = get(http_addr, "/metrics").await.1;
        assert!(metrics.contains("tidepool_placements_total{model=\"nvidia-h100\"} 1"), "{metrics}");
        assert!(metrics.contains("tidepool_scheduling_cycle_duration_seconds_count"), "{metrics}");

        agent.stop().await;
        stop.send(()).unwrap();
    };
    tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(controller, checks) }).await.unwrap();
    assert!(tokio::net::TcpStream::connect(http_addr).await.is_err(), "the endpoints are closed");
    let lease = Api::<Lease>::namespaced(client.clone(), "tidepool-system").get("tidepool-controller").await;
    assert_eq!(lease.unwrap().spec.unwrap().holder_identity, None, "the lease is handed back on the way out");
}
