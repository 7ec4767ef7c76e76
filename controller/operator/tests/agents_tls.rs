//! The agent server over mutual TLS (rustls) with the agent crate's test PKI
//! (`agent/tests/certs`): the real agent with its client certificate gets through; without one,
//! or expecting another server name, it does not.

mod peers;

use std::sync::Arc;
use std::time::Duration;

use peers::{Controller, NODE, RunningAgent, cert, eventually, nvidia, write_inventory};
use tidepool_agent::report::tls::TlsFiles as AgentTls;
use tidepool_controller::SystemClock;
use tidepool_controller::agents::server::serve;
use tidepool_controller::agents::{AgentStreams, Registry, ServerConfig, TlsFiles, Transport};

fn server_tls(client_ca: bool) -> Transport {
    Transport::Tls(TlsFiles {
        cert: cert("server.pem"),
        key: cert("server.key"),
        client_ca: client_ca.then(|| cert("ca.pem")),
    })
}

fn agent_tls(client_cert: bool, server_name: Option<&str>) -> AgentTls {
    AgentTls {
        ca: cert("ca.pem"),
        client_identity: client_cert.then(|| (cert("client.pem"), cert("client.key"))),
        server_name: server_name.map(str::to_owned),
    }
}

fn connected(controller: &Controller) -> bool {
    controller.registry.node(NODE).is_some_and(|node| node.connected && node.devices.len() == 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_admits_only_agents_with_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.json");
    write_inventory(&file, &nvidia(2));
    let controller = Controller::start(server_tls(true), Duration::from_secs(30), Arc::new(SystemClock)).await;
    let address = format!("https://localhost:{}", controller.addr.port());

    for refused in [agent_tls(false, None), agent_tls(true, Some("controller.example"))] {
        let agent = RunningAgent::start(&file, address.clone(), Some(refused), Duration::from_millis(100));
        assert!(!eventually(Duration::from_secs(2), || connected(&controller)).await, "a refused agent got through");
        agent.stop().await;
    }
    assert!(controller.registry.node(NODE).is_none());

    let agent = RunningAgent::start(&file, address, Some(agent_tls(true, None)), Duration::from_millis(100));
    assert!(eventually(Duration::from_secs(10), || connected(&controller)).await, "no inventory over mutual TLS");
    agent.stop().await;
    controller.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_only_tls_admits_agents_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("inventory.json");
    write_inventory(&file, &nvidia(2));
    let controller = Controller::start(server_tls(false), Duration::from_secs(30), Arc::new(SystemClock)).await;
    let address = format!("https://localhost:{}", controller.addr.port());
    let agent = RunningAgent::start(&file, address, Some(agent_tls(false, None)), Duration::from_millis(100));
    assert!(eventually(Duration::from_secs(10), || connected(&controller)).await, "no inventory over TLS");
    agent.stop().await;
    controller.stop().await;
}

#[tokio::test]
async fn unreadable_or_malformed_tls_files_are_errors() {
    let listener = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() };
    let streams = || AgentStreams::new(Arc::new(Registry::new(Duration::from_secs(30))), Arc::new(SystemClock));

    let missing = Transport::Tls(TlsFiles { cert: cert("no-such.pem"), key: cert("server.key"), client_ca: None });
    let error = serve(listener().await, streams(), &ServerConfig::new(missing), std::future::pending()).await;
    assert!(error.unwrap_err().to_string().contains("no-such.pem"));

    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let malformed = Transport::Tls(TlsFiles { cert: garbage, key: cert("server.key"), client_ca: None });
    let served = tokio::time::timeout(
        Duration::from_secs(5),
        serve(listener().await, streams(), &ServerConfig::new(malformed), std::future::pending()),
    )
    .await;
    assert!(matches!(served, Ok(Err(_))), "a malformed certificate was accepted");
}
