//! The reporter over mutual TLS (rustls) to a test controller, with the test PKI in `certs/`.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use support::agent::{Wiring, agent, reporter_config};
use support::controller::TestController;
use support::inventory;
use tidepool_agent::report::Reporter;
use tidepool_agent::report::tls::TlsFiles;
use tidepool_agent::shutdown;
use tidepool_proto::agent::agent_message::Body;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

fn cert(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/certs").join(name)
}

/// The controller's TLS: its certificate, and client certificates required, signed by the CA.
fn server_tls() -> ServerTlsConfig {
    let read = |name| std::fs::read(cert(name)).expect("the test certificates are in tests/certs");
    ServerTlsConfig::new()
        .identity(Identity::from_pem(read("server.pem"), read("server.key")))
        .client_ca_root(Certificate::from_pem(read("ca.pem")))
}

fn agent_tls(with_client_cert: bool) -> TlsFiles {
    TlsFiles {
        ca: cert("ca.pem"),
        client_identity: with_client_cert.then(|| (cert("client.pem"), cert("client.key"))),
        server_name: None,
    }
}

#[tokio::test]
async fn mutual_tls_round_trip_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let inventory_file = dir.path().join("inventory.json");
    inventory::write(&inventory_file, &inventory::nvidia(2, 2));
    let mut controller = TestController::start(Some(server_tls()));
    let port = controller.addr().port();

    // Refused TLS: nothing reaches the controller.
    for (address, tls) in [
        // No client certificate.
        (format!("https://localhost:{port}"), agent_tls(false)),
        // The controller's certificate (localhost) does not carry the name the agent expects.
        (
            format!("https://localhost:{port}"),
            TlsFiles { server_name: Some("controller.example".into()), ..agent_tls(true) },
        ),
    ] {
        let (trigger, stop) = shutdown::channel();
        let wiring = Wiring {
            inventory: &inventory_file,
            socket_dir: None,
            controller: Some((address, Some(tls))),
            sampling: Duration::from_secs(1),
        };
        let running = tokio::spawn(agent(wiring).run(stop));
        assert!(controller.next_message(Duration::from_secs(2)).await.is_none(), "a refused agent got through");
        trigger.trigger();
        running.await.unwrap();
    }

    // With its certificate, over TLS, the agent says hello and sends its inventory.
    let (trigger, stop) = shutdown::channel();
    let wiring = Wiring {
        inventory: &inventory_file,
        socket_dir: None,
        controller: Some((format!("https://localhost:{port}"), Some(agent_tls(true)))),
        sampling: Duration::from_secs(1),
    };
    let running = tokio::spawn(agent(wiring).run(stop));
    let (_, hello) = controller.next_message(Duration::from_secs(5)).await.expect("a hello over TLS");
    assert!(matches!(hello.body, Some(Body::Hello(_))));
    let (_, inventory) = controller.next_message(Duration::from_secs(5)).await.expect("an inventory over TLS");
    let Some(Body::Inventory(inventory)) = inventory.body else { panic!("not an inventory") };
    assert_eq!(inventory.devices.len(), 2);
    trigger.trigger();
    running.await.unwrap();
}

#[test]
fn tls_and_the_address_scheme_must_agree() {
    let tls = Some(agent_tls(true));
    assert!(Reporter::new(reporter_config("https://localhost:1".into(), tls.clone(), None)).is_ok());
    let plain_with_tls = Reporter::new(reporter_config("http://localhost:1".into(), tls, None)).unwrap_err();
    assert!(plain_with_tls.to_string().contains("https://"), "{plain_with_tls}");
    let tls_without = Reporter::new(reporter_config("https://localhost:1".into(), None, None)).unwrap_err();
    assert!(tls_without.to_string().contains("--insecure-plaintext"), "{tls_without}");
    let missing_ca = TlsFiles { ca: cert("absent.pem"), client_identity: None, server_name: None };
    let error = Reporter::new(reporter_config("https://localhost:1".into(), Some(missing_ca), None)).unwrap_err();
    assert!(error.to_string().contains("absent.pem"), "{error}");
    assert!(Reporter::new(reporter_config("not a uri".into(), None, None)).is_err());
}
