//! The running controller: a real agent reports to its agent server over loopback, each pass
//! runs on the fake API, and the HTTP endpoints say so; it stops when told.

#![allow(clippy::unwrap_used)]

mod peers;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

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
async fn the_controller_serves_agents_and_endpoints_runs_passes_and_stops() {
    let (client, _) = support::fake::client().await;
    support::submit(&client, support::group_cloud()).await;
    let (context, _) = support::context(&client, "sh-bank-dc");
    let agents = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (agents_addr, http_addr) = (agents.local_addr().unwrap(), http.local_addr().unwrap());
    let settings = Settings {
        context,
        interval: Duration::from_millis(50),
        agents: Some((agents, ServerConfig::new(Transport::InsecurePlaintext))),
        agent_timeout: Duration::from_secs(30),
        http: Some(http),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let controller = daemon::run(settings, async {
        let _ = stopped.await;
    });
    let checks = async move {
        let dir = tempfile::tempdir().unwrap();
        let inventory = dir.path().join("inventory.json");
        peers::write_inventory(&inventory, &peers::nvidia(2));
        let agent =
            peers::RunningAgent::start(&inventory, format!("http://{agents_addr}"), None, Duration::from_millis(100));

        let mut seen = String::new();
        for _ in 0..100 {
            let (_, metrics) = get(http_addr, "/metrics").await;
            seen = metrics;
            if seen.contains("tidepool_connected_agents 1") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(seen.contains("tidepool_connected_agents 1"), "{seen}");
        assert!(seen.contains("tidepool_scheduling_cycle_duration_seconds_count"), "passes are timed: {seen}");
        assert_eq!(get(http_addr, "/readyz").await.0, 200, "ready once a pass has run");
        assert_eq!(get(http_addr, "/healthz").await.0, 200);

        agent.stop().await;
        stop.send(()).unwrap();
    };
    tokio::time::timeout(Duration::from_secs(30), async { tokio::join!(controller, checks) }).await.unwrap();
    assert!(tokio::net::TcpStream::connect(http_addr).await.is_err(), "the endpoints are closed");
}
