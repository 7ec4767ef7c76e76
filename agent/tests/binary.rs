//! `tidepool-agent run` as a process: flags, serving kubelet and reporting, and a clean exit on
//! SIGTERM (sockets removed, stream closed).

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::controller::{Event, TestController};
use support::inventory;
use support::kubelet::FakeKubelet;
use support::process::wait_for_exit;
use tidepool_proto::agent::agent_message::Body;

const AGENT: &str = env!("CARGO_BIN_EXE_tidepool-agent");

#[tokio::test]
async fn run_serves_reports_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let inventory_file = dir.path().join("inventory.json");
    inventory::write(&inventory_file, &inventory::nvidia(2, 2));
    let mut kubelet = FakeKubelet::start(dir.path());
    let mut controller = TestController::start(None);

    let mut child = Command::new(AGENT)
        .args(["run", "--backend", "fake", "--insecure-plaintext", "--log-format", "json"])
        .arg("--controller")
        .arg(format!("http://{}", controller.addr()))
        .env("TIDEPOOL_INVENTORY_FILE", &inventory_file)
        .env("TIDEPOOL_SOCKET_DIR", dir.path())
        .env("TIDEPOOL_NODE_NAME", "node-from-env")
        .env("TIDEPOOL_SAMPLING_INTERVAL", "200ms")
        .env("TIDEPOOL_NAMING", "tidepool")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();

    let registration = kubelet.next_registration(Duration::from_secs(10)).await.expect("the agent registers");
    assert_eq!(registration.resource_name, "tidepool.dev/nvidia-h100");
    let (_, hello) = controller.next_message(Duration::from_secs(10)).await.expect("a hello");
    let Some(Body::Hello(hello)) = hello.body else { panic!("not a hello") };
    assert_eq!(hello.node_name, "node-from-env");
    assert_eq!(hello.sampling_interval_ms, 200);
    let (_, inventory) = controller.next_message(Duration::from_secs(5)).await.expect("an inventory");
    let Some(Body::Inventory(inventory)) = inventory.body else { panic!("not an inventory") };
    assert_eq!(inventory.devices[0].resource_name, "tidepool.dev/nvidia-h100");

    let status = Command::new("sh").arg("-c").arg(format!("kill -TERM {}", child.id())).status().unwrap();
    assert!(status.success());
    let (status, child) = tokio::task::spawn_blocking(move || (wait_for_exit(&mut child), child)).await.unwrap();
    let status = status.expect("the agent exits after SIGTERM");
    let logs = std::io::read_to_string(child.stderr.unwrap()).unwrap();
    assert!(status.success(), "exit {status:?}; logs:\n{logs}");
    assert!(logs.lines().all(|line| line.starts_with('{')), "JSON logs expected:\n{logs}");
    assert!(logs.contains("SIGTERM"), "{logs}");
    assert!(!dir.path().join(&registration.endpoint).exists(), "the plugin socket is left behind");
    loop {
        match controller.next_event(Duration::from_secs(5)).await.expect("the stream closes") {
            Event::Closed(_) => break,
            _ => continue,
        }
    }
}

#[test]
fn bad_flags_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let inventory_file = dir.path().join("inventory.json");
    inventory::write(&inventory_file, &inventory::nvidia(1, 1));
    let run = |args: &[&str]| {
        let mut child = Command::new(AGENT)
            .arg("run")
            .args(["--backend", "fake", "--inventory-file"])
            .arg(&inventory_file)
            .args(args)
            .env("TIDEPOOL_SOCKET_DIR", dir.path())
            .env_remove("TIDEPOOL_INSECURE_PLAINTEXT")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status =
            wait_for_exit(&mut child).unwrap_or_else(|| panic!("{args:?} was accepted: the agent kept running"));
        assert!(!status.success(), "{args:?} was accepted");
        std::io::read_to_string(child.stderr.take().unwrap()).unwrap()
    };
    assert!(run(&["--controller", "https://controller:8443"]).contains("--tls-ca-file"));
    assert!(run(&["--controller", "https://controller:8443", "--insecure-plaintext"]).contains("http://"));
    assert!(run(&["--insecure-plaintext", "--tls-ca-file", "ca.pem"]).contains("cannot be used with"));
    assert!(run(&["--tls-cert-file", "c.pem"]).contains("--tls-key-file"));
    assert!(run(&["--sampling-interval", "10ms"]).contains("sampling interval"));
    assert!(run(&["--naming", "other"]).contains("vendor, tidepool"));
    assert!(run(&["--backend", "nonesuch"]).contains("unknown backend"));
    let missing_dir = dir.path().join("absent");
    assert!(run(&["--socket-dir", missing_dir.to_str().unwrap()]).contains("does not exist"));
}
