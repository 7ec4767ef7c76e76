//! End to end with real processes: the `tidepool-controller` binary, reaching the fake API over
//! HTTP through a kubeconfig (with watches, see `support::watching`), and three `tidepool-agent`
//! binaries with fake backends streaming to it over gRPC on loopback. Work lands on the devices the
//! agents report; an agent killed goes stale and its devices are not handed out until it is
//! back; SIGTERM stops the controller cleanly and hands the Lease back.
//!
//! `tidepool-agent` is another package's binary: `cargo test --workspace` (what `make test` runs)
//! builds it beside this test; alone, build it first with `cargo build -p tidepool-agent`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod peers;
mod support;

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, PostParams};
use tidepool_controller::labels;
use tidepool_crds::TrainingJob;
use tidepool_crds::manifests::ApiObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn job(name: &str, replicas: u32, devices: u32) -> TrainingJob {
    support::training("team-ns", name, replicas, devices, "nvidia-h100", "")
}

/// A binary of this workspace, next to the test's own directory.
fn binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    let path = deps.parent().unwrap().join(name);
    assert!(
        path.exists(),
        "{} is not built: run `cargo build -p {name}` (cargo test --workspace builds it)",
        path.display()
    );
    path
}

fn free_port() -> SocketAddr {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// A child process killed when dropped, so a failed assertion leaves nothing running.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn agent(dir: &Path, node: &str, gpus: u32, controller: SocketAddr) -> Process {
    let inventory = dir.join(format!("{node}.json"));
    peers::write_inventory(&inventory, &peers::nvidia(gpus));
    let child = Command::new(binary("tidepool-agent"))
        .args(["run", "--node-name", node, "--backend", "fake", "--no-device-plugin", "--insecure-plaintext"])
        .args(["--sampling-interval", "100ms", "--controller", &format!("http://{controller}")])
        .arg("--inventory-file")
        .arg(&inventory)
        .stdout(Stdio::null())
        .stderr(log_file(dir, node))
        .spawn()
        .unwrap();
    Process(child)
}

async fn metrics(http: SocketAddr) -> String {
    let Ok(mut stream) = tokio::net::TcpStream::connect(http).await else { return String::new() };
    let head = "GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response).await;
    response
}

/// Polls `check` for up to 15 s; on timeout, fails showing the processes' logs in `logs`.
async fn wait_for(logs: &Path, what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..300 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut shown = String::new();
    for entry in std::fs::read_dir(logs).unwrap().flatten().filter(|e| e.path().extension() == Some("log".as_ref())) {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(30).collect();
        shown +=
            &format!("--- {}\n{}\n", entry.path().display(), tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
    }
    panic!("timed out waiting for {what}\n{shown}");
}

fn log_file(dir: &Path, name: &str) -> Stdio {
    std::fs::File::create(dir.join(format!("{name}.log"))).unwrap().into()
}

fn bound_to(pods: &[Pod], workload: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = pods
        .iter()
        .filter(|p| p.metadata.labels.as_ref().is_some_and(|l| l[labels::WORKLOAD] == workload))
        .filter_map(|p| {
            let node = p.spec.as_ref()?.node_name.clone()?;
            Some((node, p.metadata.annotations.as_ref()?.get(labels::DEVICES)?.clone()))
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_process_and_three_agent_processes_place_work_and_handle_a_lost_agent() {
    let (fake, _) = support::fake::client().await;
    let client = support::watching::with_watches(fake);
    let policy = support::group_cloud().into_iter().filter(|o| matches!(o, ApiObject::SchedulingPolicy(_))).collect();
    support::submit(&client, policy).await;
    support::submit(&client, vec![ApiObject::Tenant(support::team(32))]).await;
    let nodes = ["node-a", "node-b", "node-c"].map(|name| {
        let mut node = Node::default();
        node.metadata.name = Some(name.into());
        node
    });
    support::add_nodes(&client, nodes.to_vec()).await;
    let api = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api_addr = api.local_addr().unwrap();
    tokio::spawn(support::watching::serve_http(client.clone(), api));

    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, support::watching::kubeconfig(api_addr)).unwrap();
    let (agents_addr, http_addr) = (free_port(), free_port());
    let mut controller = Process(
        Command::new(binary("tidepool-controller"))
            .env("KUBECONFIG", &kubeconfig)
            .env("POD_NAME", "controller-0")
            .args(["--cluster", "local", "--insecure-plaintext", "--agent-timeout-s", "2", "--resync-s", "1"])
            .args(["--min-interval-ms", "50", "--leader-election-namespace", "tidepool-system"])
            .args(["--agents-listen", &agents_addr.to_string(), "--http-listen", &http_addr.to_string()])
            .env("RUST_LOG", "info")
            .stdout(log_file(dir.path(), "controller"))
            .stderr(log_file(dir.path(), "controller-stderr"))
            .spawn()
            .unwrap(),
    );
    let mut node_a = agent(dir.path(), "node-a", 4, agents_addr);
    let _node_b = agent(dir.path(), "node-b", 4, agents_addr);
    let _node_c = agent(dir.path(), "node-c", 8, agents_addr);
    wait_for(dir.path(), "three agents connected", async || {
        metrics(http_addr).await.contains("tidepool_connected_agents 3")
    })
    .await;

    // Eight devices in one replica fit node-c only.
    let jobs = Api::<TrainingJob>::namespaced(client.clone(), "team-ns");
    jobs.create(&PostParams::default(), &job("wide", 1, 8)).await.unwrap();
    wait_for(dir.path(), "wide bound", async || bound_to(&support::pods(&client).await, "wide").len() == 1).await;
    let pods = support::pods(&client).await;
    let all_eight = "GPU-0,GPU-1,GPU-2,GPU-3,GPU-4,GPU-5,GPU-6,GPU-7".to_owned();
    assert_eq!(bound_to(&pods, "wide"), [("node-c".to_owned(), all_eight)]);
    let lease = Api::<Lease>::namespaced(client.clone(), "tidepool-system").get("tidepool-controller").await.unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity.as_deref(), Some("controller-0"));

    // node-a's agent dies: past the 2 s timeout its node is stale, and a gang that needs node-a
    // and node-b together waits instead of being placed on a node nobody vouches for.
    node_a.0.kill().unwrap();
    node_a.0.wait().unwrap();
    wait_for(dir.path(), "node-a stale", async || metrics(http_addr).await.contains("tidepool_stale_nodes 1")).await;
    jobs.create(&PostParams::default(), &job("pair", 2, 4)).await.unwrap();
    wait_for(dir.path(), "pair pending", async || {
        let status = jobs.get("pair").await.unwrap().status.unwrap_or_default();
        status.pending_reason.is_some_and(|r| r.contains("waiting for capacity"))
    })
    .await;
    assert!(bound_to(&support::pods(&client).await, "pair").is_empty());

    // The agent comes back: the node is usable again and the gang is placed.
    let _node_a = agent(dir.path(), "node-a", 4, agents_addr);
    wait_for(dir.path(), "pair bound", async || bound_to(&support::pods(&client).await, "pair").len() == 2).await;
    let first_four = "GPU-0,GPU-1,GPU-2,GPU-3".to_owned();
    assert_eq!(
        bound_to(&support::pods(&client).await, "pair"),
        [("node-a".to_owned(), first_four.clone()), ("node-b".to_owned(), first_four)]
    );

    // SIGTERM: a clean exit, the Lease handed back.
    let pid = controller.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let mut exited = None;
    for _ in 0..100 {
        exited = controller.0.try_wait().unwrap();
        if exited.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(exited.expect("the controller did not stop within 5 s of SIGTERM").success());
    let lease = Api::<Lease>::namespaced(client.clone(), "tidepool-system").get("tidepool-controller").await.unwrap();
    assert_eq!(lease.spec.unwrap().holder_identity, None);
}
