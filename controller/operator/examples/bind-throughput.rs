//! Bind throughput against the in-memory API: submits `--jobs` training jobs of `--pods-per-job`
//! one-device pods to a fleet large enough for all of them, runs reconcile passes until every
//! pod is bound, and prints pods bound, seconds, pods per second, and how long the first job took
//! from creation until all its pods were bound.
//!
//! `cargo run --release -p tidepool-controller --example bind-throughput -- --jobs 1000 --pods-per-job 8 --json`

#![allow(clippy::unwrap_used)]

#[path = "../tests/support/fake.rs"]
mod fake;

use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use kube::api::{Api, ApiResource, DynamicObject, PostParams};
use tidepool_controller::context::{Config, Context};
use tidepool_controller::{SystemClock, labels, reconcile_once};
use tidepool_crds::manifests::{self, ApiObject};
use tidepool_crds::{Tenant, TrainingJob};

/// Bind throughput against the in-memory API.
#[derive(Debug, Parser)]
struct Args {
    /// Training jobs to submit.
    #[arg(long, default_value_t = 1000)]
    jobs: u32,
    /// Pods (replicas, one device each) per job.
    #[arg(long, default_value_t = 8)]
    pods_per_job: u32,
    /// API calls in flight while applying.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Most passes before giving up.
    #[arg(long, default_value_t = 20)]
    max_passes: u32,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn parse_one(yaml: &str) -> ApiObject {
    manifests::parse(yaml, "bench.yaml").unwrap().pop().unwrap()
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let (client, _, bindings) = fake::client_with_bind_log().await;
    let devices = args.jobs * args.pods_per_job;
    let ApiObject::Tenant(tenant) = parse_one(&format!(
        "apiVersion: tidepool.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: bench}}\nspec:\n  namespaces: [bench]\n  quotas: [{{family: nvidia, nominal: {devices}}}]\n"
    )) else {
        panic!("not a tenant")
    };
    // The fake registers every custom kind as namespaced: store the tenant in a namespace.
    let resource = ApiResource::erase::<Tenant>(&());
    let tenants: Api<DynamicObject> = Api::namespaced_with(client.clone(), "tidepool-cluster-scoped", &resource);
    tenants
        .create(&PostParams::default(), &serde_json::from_value(serde_json::to_value(&tenant).unwrap()).unwrap())
        .await
        .unwrap();
    let nodes = Api::<k8s_openapi::api::core::v1::Node>::all(client.clone());
    for i in 0..devices.div_ceil(8) {
        nodes
            .create(&PostParams::default(), &fake::model_node(&format!("a100-{i:05}"), "nvidia-a100-80g", &[]))
            .await
            .unwrap();
    }

    let jobs = Api::<TrainingJob>::namespaced(client.clone(), "bench");
    let ctx = Context {
        client: client.clone(),
        clock: Arc::new(SystemClock),
        config: Config { cluster: "bench".into(), concurrency: args.concurrency },
    };
    let start = Instant::now();
    let mut first_created = None;
    for j in 0..args.jobs {
        let ApiObject::TrainingJob(job) = parse_one(&format!(
            "apiVersion: tidepool.dev/v1alpha1\nkind: TrainingJob\nmetadata: {{name: job-{j:05}, namespace: bench}}\nspec:\n  workloadClass: llm-training\n  replicas: {{min: {}}}\n  devicesPerReplica: 1\n  accelerators: [{{family: nvidia}}]\n  template: {{spec: {{containers: [{{name: main, image: trainer:1}}]}}}}\n",
            args.pods_per_job
        )) else {
            panic!("not a job")
        };
        jobs.create(&PostParams::default(), &job).await.unwrap();
        first_created.get_or_insert_with(Instant::now);
    }
    let submitted = start.elapsed().as_secs_f64();
    let t0 = Instant::now();
    let mut passes = 0;
    let mut bound = 0usize;
    while passes < args.max_passes && bound < devices as usize {
        let r = reconcile_once(&ctx, &[]).await.unwrap();
        assert!(r.applied.errors.is_empty(), "{:?}", r.applied.errors);
        passes += 1;
        bound = bindings.lock().unwrap().len();
    }
    let seconds = t0.elapsed().as_secs_f64();
    let log = bindings.lock().unwrap();
    let first_prefix = format!("{}-", "job-00000");
    let first_bound = log.iter().filter(|(_, pod, _)| pod.starts_with(&first_prefix)).map(|(_, _, at)| *at).max();
    let first_ms = match (first_created, first_bound) {
        (Some(c), Some(b)) => Some(b.duration_since(c).as_secs_f64() * 1000.0),
        _ => None,
    };
    let _ = labels::WORKLOAD;
    let out = serde_json::json!({
        "jobs": args.jobs,
        "pods_per_job": args.pods_per_job,
        "pods_bound": bound,
        "passes": passes,
        "seconds": seconds,
        "pods_per_sec": bound as f64 / seconds,
        "submit_seconds": submitted,
        "first_job_all_bound_ms": first_ms,
    });
    if args.json {
        println!("{out}");
    } else {
        println!("{}", serde_json::to_string_pretty(&out).unwrap());
    }
}
