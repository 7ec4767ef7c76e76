//! The telemetry endpoint over real HTTP/1.1 on loopback: `/metrics` after recording, `/readyz`
//! following the readiness handle, `/healthz`, and answers to unknown paths and methods.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tidepool_controller::telemetry::{Endpoints, Metrics, Readiness, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Sends one request and returns the status code and the whole response text.
async fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("the endpoint accepts");
    let head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.expect("the request is sent");
    let mut response = String::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response)).await;
    read.expect("an answer within 5 s").expect("a readable answer");
    let status = response.split(' ').nth(1).and_then(|code| code.parse().ok()).expect("a status line");
    (status, response)
}

async fn start(readiness: Readiness) -> (SocketAddr, Arc<Metrics>, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    let metrics = Arc::new(Metrics::new());
    let endpoints = Endpoints { metrics: Arc::clone(&metrics), readiness };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, endpoints, async {
        let _ = stopped.await;
    }));
    (addr, metrics, stop)
}

#[tokio::test]
async fn metrics_carry_every_family_after_recording() {
    let (addr, metrics, _stop) = start(Readiness::new(false)).await;
    metrics.observe_cycle(Duration::from_millis(12));
    metrics.set_pending([("quota-exhausted", 4)]);
    metrics.add_placements("ascend-910b", 3);
    metrics.add_preemptions(2);
    metrics.set_agents(5, 1);
    let (status, text) = request(addr, "GET", "/metrics").await;
    assert_eq!(status, 200);
    assert!(text.contains("content-type: text/plain; version=0.0.4; charset=utf-8"), "{text}");
    for line in [
        "# TYPE tidepool_scheduling_cycle_duration_seconds histogram",
        "tidepool_scheduling_cycle_duration_seconds_bucket{le=\"0.025\"} 1",
        "tidepool_scheduling_cycle_duration_seconds_count 1",
        "tidepool_pending_workloads{reason=\"quota-exhausted\"} 4",
        "tidepool_placements_total{model=\"ascend-910b\"} 3",
        "tidepool_preemptions_total 2",
        "tidepool_connected_agents 5",
        "tidepool_stale_nodes 1",
    ] {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
}

#[tokio::test]
async fn readyz_follows_the_first_cycle_and_leadership_and_healthz_is_always_ok() {
    let readiness = Readiness::new(true);
    let (addr, _metrics, stop) = start(readiness.clone()).await;
    assert_eq!(request(addr, "GET", "/healthz").await.0, 200);
    let (status, text) = request(addr, "GET", "/readyz").await;
    assert_eq!(status, 503);
    assert!(text.ends_with("not ready: not the leader\n"), "{text}");
    readiness.set_leading(true);
    let (status, text) = request(addr, "GET", "/readyz").await;
    assert_eq!(status, 503);
    assert!(text.ends_with("not ready: no scheduling cycle has run yet\n"), "{text}");
    readiness.cycle_ran();
    assert_eq!(request(addr, "GET", "/readyz").await.0, 200);
    readiness.set_leading(false);
    assert_eq!(request(addr, "GET", "/readyz").await.0, 503);
    assert_eq!(request(addr, "GET", "/healthz").await.0, 200);

    assert_eq!(request(addr, "GET", "/nowhere").await.0, 404);
    let (status, text) = request(addr, "POST", "/metrics").await;
    assert_eq!(status, 405);
    assert!(text.contains("allow: GET, HEAD"), "{text}");
    let (status, text) = request(addr, "HEAD", "/healthz").await;
    assert_eq!(status, 200);
    assert!(!text.contains("ok\n"), "{text}");

    // After shutdown nothing answers.
    stop.send(()).unwrap();
    let refused = async {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), refused).await.expect("the listener closes on shutdown");
}

#[tokio::test]
async fn garbage_requests_get_errors_not_panics() {
    let (addr, _metrics, _stop) = start(Readiness::new(false)).await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"\x00\x01garbage\r\n\r\n").await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response)).await.unwrap().unwrap();
    assert!(response.is_empty() || response.starts_with("HTTP/1.1 400"), "{response}");
    // The server still answers.
    assert_eq!(request(addr, "GET", "/healthz").await.0, 200);
}
