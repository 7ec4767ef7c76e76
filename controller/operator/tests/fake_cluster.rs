//! The controller against the in-memory API: the example group cloud placed on nodes published
//! by vendor plugins, idempotence across passes and restarts, quota, preemption with grace, and
//! invalid specs.

#![allow(clippy::unwrap_used)]

mod support;

use k8s_openapi::api::core::v1::{Pod, PodStatus};
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use support::fake::model_node;
use support::*;
use tidepool_controller::{labels, reconcile_once};
use tidepool_crds::manifests::ApiObject;
use tidepool_crds::{InferenceService, Tenant, TrainingJob};

async fn job_status(client: &kube::Client, ns: &str, name: &str) -> tidepool_crds::training_job::TrainingJobStatus {
    Api::<TrainingJob>::namespaced(client.clone(), ns).get(name).await.unwrap().status.unwrap()
}

fn bank_fleet() -> Vec<k8s_openapi::api::core::v1::Node> {
    let mut nodes: Vec<_> = (0..4)
        .map(|i| model_node(&format!("h800-{i}"), "nvidia-h800", &[("tidepool.dev/dedicated-tenant", "bank-risk")]))
        .collect();
    nodes.extend((0..2).map(|i| model_node(&format!("h20-{i}"), "nvidia-h20", &[])));
    nodes
}

#[tokio::test]
async fn the_group_cloud_is_bound_to_the_right_nodes_and_devices_with_statuses() {
    let (client, _) = fake::client().await;
    submit(&client, group_cloud()).await;
    add_nodes(&client, bank_fleet()).await;
    let (ctx, _) = context(&client, "sh-bank-dc");

    let report = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(report.applied.errors.is_empty(), "{:?}", report.applied.errors);

    let pods = pods(&client).await;
    let of = |w: &str| pods.iter().filter(|p| p.labels()[labels::WORKLOAD] == w).collect::<Vec<_>>();
    let risk = of("credit-risk-llm-sft");
    assert!(risk.len() >= 2, "gang of 2 at least: {}", risk.len());
    let mut devices = std::collections::BTreeSet::new();
    for p in &risk {
        let node = p.spec.as_ref().unwrap().node_name.clone().unwrap();
        assert!(node.starts_with("h800-"), "bank-risk is dedicated to its H800 nodes, got {node}");
        assert_eq!(p.labels()[labels::TENANT], "bank-risk");
        assert_eq!(p.spec.as_ref().unwrap().scheduler_name.as_deref(), Some("tidepool"));
        assert_eq!(p.owner_references()[0].kind, "TrainingJob");
        let ids = &p.annotations()[labels::DEVICES];
        assert_eq!(ids.split(',').count(), 8);
        for id in ids.split(',') {
            assert!(devices.insert(format!("{node}/{id}")), "device {node}/{id} given twice");
        }
    }
    let chat = of("cs-chatbot");
    assert!(chat.len() >= 2);
    assert!(chat.iter().all(|p| p.spec.as_ref().unwrap().node_name.as_deref().unwrap().starts_with("h20-")));

    let st = job_status(&client, "bank-risk-models", "credit-risk-llm-sft").await;
    assert_eq!(st.phase, tidepool_crds::training_job::TrainingPhase::Running);
    let placement = st.placement.unwrap();
    assert_eq!(placement.cluster.as_deref(), Some("sh-bank-dc"));
    assert_eq!(placement.model.as_deref(), Some("nvidia-h800"));
    assert_eq!(placement.devices.len(), risk.len() * 8);
    assert!(st.selection.is_some_and(|s| s.model == "nvidia-h800" && !s.reason.is_empty()));
    assert!(st.cost_per_hour.is_some());

    // The insurer's job may not run in the bank's data centre: it waits, saying why.
    let claims = job_status(&client, "insurer-claims-ai", "claims-doc-vit").await;
    assert_eq!(claims.phase, tidepool_crds::training_job::TrainingPhase::Pending);
    assert!(!claims.pending_reason.unwrap_or_default().is_empty());
    let svc = Api::<InferenceService>::namespaced(client.clone(), "bank-chatbot").get("cs-chatbot").await.unwrap();
    assert!(svc.status.unwrap().ready_replicas >= 2);

    // Tenant status counts what each tenant's workloads hold, and its children's under the parent.
    let tenant = |name: &'static str| {
        let client = client.clone();
        async move {
            let all = Api::<Tenant>::all(client).list(&Default::default()).await.unwrap().items;
            all.into_iter().find(|t| t.name_any() == name).unwrap().status.unwrap()
        }
    };
    let (risk_status, bank_status) = (tenant("bank-risk").await, tenant("bank").await);
    let risk_devices = risk.len() as u32 * 8;
    assert_eq!(risk_status.devices_in_use, risk_devices);
    assert_eq!(risk_status.quotas[0].family, Some(tidepool_crds::common::Family::Nvidia));
    assert_eq!(risk_status.quotas[0].in_use, risk_devices);
    let bank_nvidia = bank_status.quotas.iter().find(|q| q.family == Some(tidepool_crds::common::Family::Nvidia));
    assert!(bank_nvidia.unwrap().in_use >= risk_devices, "the bank's quota counts bank-risk's devices");
}

#[tokio::test]
async fn passes_repeated_and_after_a_restart_create_no_duplicates() {
    let (client, _) = fake::client().await;
    submit(&client, group_cloud()).await;
    add_nodes(&client, bank_fleet()).await;
    let (ctx, _) = context(&client, "sh-bank-dc");
    let first = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(first.applied.created > 0);
    let before: Vec<_> = pods(&client).await.iter().map(|p| (p.name_any(), p.uid())).collect();

    let second = reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!((second.applied.created, second.applied.statuses), (0, 0), "{second:?}");
    // A fresh controller (a restart) on the same API.
    let (restarted, _) = context(&client, "sh-bank-dc");
    let third = reconcile_once(&restarted, &[]).await.unwrap();
    assert_eq!(third.applied.created, 0, "{third:?}");
    let after: Vec<_> = pods(&client).await.iter().map(|p| (p.name_any(), p.uid())).collect();
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_pod_created_but_not_bound_before_a_crash_is_bound_not_duplicated() {
    let (client, _) = fake::client().await;
    submit(&client, group_cloud()).await;
    add_nodes(&client, bank_fleet()).await;
    let (ctx, _) = context(&client, "sh-bank-dc");
    reconcile_once(&ctx, &[]).await.unwrap();
    // Simulate a crash between create and bind: recreate one pod unbound.
    let api = Api::<Pod>::namespaced(client.clone(), "bank-chatbot");
    let mut pod = api.get("cs-chatbot-0").await.unwrap();
    api.delete("cs-chatbot-0", &Default::default()).await.unwrap();
    pod.metadata.resource_version = None;
    pod.metadata.uid = None;
    pod.spec.as_mut().unwrap().node_name = None;
    api.create(&PostParams::default(), &pod).await.unwrap();

    let (restarted, _) = context(&client, "sh-bank-dc");
    let r = reconcile_once(&restarted, &[]).await.unwrap();
    assert!(r.applied.errors.is_empty(), "{:?}", r.applied.errors);
    let pods = pods(&client).await;
    let chat: Vec<_> = pods.iter().filter(|p| p.labels()[labels::WORKLOAD] == "cs-chatbot").collect();
    assert!(chat.iter().all(|p| p.spec.as_ref().unwrap().node_name.is_some()));
    let mut names: Vec<_> = chat.iter().map(|p| p.name_any()).collect();
    names.dedup();
    assert_eq!(names.len(), chat.len());
}

fn small_job(name: &str, priority: i32, extra: &str) -> TrainingJob {
    training("team-ns", name, 1, 8, "nvidia-a100-80g", &format!("  priority: {priority}\n{extra}"))
}

async fn small_cluster(nodes: usize) -> (kube::Client, fake::Evictions) {
    let (client, evictions) = fake::client().await;
    let policy = group_cloud().into_iter().filter(|o| matches!(o, ApiObject::SchedulingPolicy(_))).collect();
    submit(&client, policy).await;
    submit(&client, vec![ApiObject::Tenant(team(8))]).await;
    add_nodes(&client, (0..nodes).map(|i| model_node(&format!("a100-{i}"), "nvidia-a100-80g", &[])).collect()).await;
    (client, evictions)
}

async fn create(client: &kube::Client, j: TrainingJob) {
    Api::<TrainingJob>::namespaced(client.clone(), "team-ns").create(&PostParams::default(), &j).await.unwrap();
}

#[tokio::test]
async fn a_job_over_quota_waits_with_a_reason() {
    let (client, _) = small_cluster(2).await;
    create(&client, small_job("first", 0, "")).await;
    create(&client, small_job("second", 0, "")).await;
    let (ctx, clock) = context(&client, "dc");
    reconcile_once(&ctx, &[]).await.unwrap();
    clock.advance(10);
    reconcile_once(&ctx, &[]).await.unwrap();
    let phases = [job_status(&client, "team-ns", "first").await, job_status(&client, "team-ns", "second").await];
    use tidepool_crds::training_job::TrainingPhase::*;
    let running = phases.iter().filter(|s| s.phase == Running).count();
    assert_eq!(running, 1, "quota of 8 devices admits one 8-device job: {phases:?}");
    let waiting = phases.iter().find(|s| s.phase == Pending).unwrap();
    let reason = waiting.pending_reason.clone().unwrap();
    assert!(reason.contains("tenant team has 8 nvidia devices in use"), "{reason}");
    assert_eq!(phases[0].phase, Running, "the older (then first by name) runs");
    assert_eq!(pods(&client).await.len(), 1, "free nodes are not used beyond quota");
}

#[tokio::test]
async fn a_high_priority_job_preempts_a_lower_one_with_its_grace_period() {
    let (client, evictions) = small_cluster(1).await;
    let checkpoint = "  checkpoint: {intervalSeconds: 1800, gracePeriodSeconds: 120}\n";
    create(&client, small_job("low", 0, checkpoint)).await;
    let (ctx, clock) = context(&client, "dc");
    reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!(pods(&client).await[0].name_any(), "low-0");

    create(&client, small_job("high", 500, "")).await;
    clock.advance(60);
    let r = reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!(r.applied.evicted, 1, "{r:?}");
    assert_eq!(evictions.lock().unwrap().as_slice(), [("team-ns".to_owned(), "low-0".to_owned(), Some(120))]);
    let low = job_status(&client, "team-ns", "low").await;
    assert_eq!(low.phase, tidepool_crds::training_job::TrainingPhase::Preempted);
    assert_eq!(low.preemptions, 1);

    clock.advance(120);
    reconcile_once(&ctx, &[]).await.unwrap();
    let names: Vec<_> = pods(&client).await.iter().map(|p| p.name_any()).collect();
    assert_eq!(names, ["high-0"]);
    assert_eq!(job_status(&client, "team-ns", "high").await.phase, tidepool_crds::training_job::TrainingPhase::Running);
}

#[tokio::test]
async fn an_invalid_spec_gets_a_condition_naming_the_field_until_its_generation_changes() {
    let (client, _) = small_cluster(1).await;
    let mut bad = small_job("bad", 0, "  checkpoint: {intervalSeconds: 600, gracePeriodSeconds: 900}\n");
    bad.spec.replicas.min = 1;
    create(&client, bad).await;
    let (ctx, _) = context(&client, "dc");
    reconcile_once(&ctx, &[]).await.unwrap();
    let st = job_status(&client, "team-ns", "bad").await;
    let accepted = st.conditions.iter().find(|c| c.type_ == "Accepted").unwrap();
    assert_eq!((accepted.status.as_str(), accepted.reason.as_str()), ("False", "InvalidSpec"));
    assert!(accepted.message.contains("spec.checkpoint.gracePeriodSeconds"), "{}", accepted.message);
    assert!(pods(&client).await.is_empty());

    let again = reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!(again.workloads, 0);
    assert_eq!(again.applied.statuses, 0, "not looked at again at the same generation");

    // A fixed spec is a new generation: it runs.
    let api = Api::<TrainingJob>::namespaced(client.clone(), "team-ns");
    let mut fixed = api.get("bad").await.unwrap();
    fixed.spec.checkpoint.as_mut().unwrap().grace_period_seconds = 60;
    api.replace("bad", &PostParams::default(), &fixed).await.unwrap();
    reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!(job_status(&client, "team-ns", "bad").await.phase, tidepool_crds::training_job::TrainingPhase::Running);
}

#[tokio::test]
async fn a_pod_bound_elsewhere_by_someone_else_is_reported_by_name_and_field() {
    let (client, _) = small_cluster(2).await;
    create(&client, small_job("solo", 0, "")).await;
    // Someone else's pod with the name Tidepool would give replica 0, already on a node.
    let api = Api::<Pod>::namespaced(client.clone(), "team-ns");
    let mut squatter = Pod::default();
    squatter.metadata.name = Some("solo-0".into());
    squatter.spec = Some(k8s_openapi::api::core::v1::PodSpec {
        node_name: Some("elsewhere".into()),
        containers: vec![Default::default()],
        ..Default::default()
    });
    api.create(&PostParams::default(), &squatter).await.unwrap();
    let (ctx, _) = context(&client, "dc");
    let r = reconcile_once(&ctx, &[]).await.unwrap();
    let msg = r.applied.errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
    assert!(msg.contains("Pod/team-ns/solo-0: spec.nodeName: already bound to elsewhere"), "{msg}");
    assert_ne!(job_status(&client, "team-ns", "solo").await.phase, tidepool_crds::training_job::TrainingPhase::Running);
}

async fn set_pod_phase(client: &kube::Client, name: &str, phase: &str, reason: Option<&str>) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "team-ns");
    let mut pod = pods.get(name).await.unwrap();
    pod.status = Some(PodStatus { phase: Some(phase.into()), reason: reason.map(str::to_owned), ..Default::default() });
    pods.replace_status(name, &PostParams::default(), &pod).await.unwrap();
}

#[tokio::test]
async fn a_job_whose_chief_succeeds_ends_and_frees_its_devices_for_the_next() {
    let (client, _) = small_cluster(1).await;
    let (ctx, _) = context(&client, "local");
    create(&client, small_job("first", 0, "")).await;
    reconcile_once(&ctx, &[]).await.unwrap();
    set_pod_phase(&client, "first-0", "Succeeded", None).await;
    create(&client, small_job("second", 0, "")).await;

    let pass = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(pass.applied.errors.is_empty(), "{:?}", pass.applied.errors);
    let first = job_status(&client, "team-ns", "first").await;
    assert_eq!(first.phase, tidepool_crds::training_job::TrainingPhase::Succeeded);
    assert!(first.completion_time.is_some() && first.placement.is_none());
    assert!(first.conditions.iter().any(|c| c.type_ == "Complete" && c.status == "True"));
    let second = job_status(&client, "team-ns", "second").await;
    assert_eq!(second.phase, tidepool_crds::training_job::TrainingPhase::Running, "{:?}", second.pending_reason);

    let again = reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!((again.applied.created, again.applied.statuses, again.applied.removed), (0, 0, 0), "{again:?}");
    assert_eq!(pods(&client).await.len(), 2, "the finished pod is kept for its logs");
}

#[tokio::test]
async fn a_failed_container_fails_the_job_and_an_evicted_pod_is_replaced() {
    let (client, _) = small_cluster(1).await;
    let (ctx, _) = context(&client, "local");
    create(&client, small_job("evicted", 0, "")).await;
    reconcile_once(&ctx, &[]).await.unwrap();
    let before = Api::<Pod>::namespaced(client.clone(), "team-ns").get("evicted-0").await.unwrap();
    set_pod_phase(&client, "evicted-0", "Failed", Some("Evicted")).await;
    let pass = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(pass.applied.errors.is_empty(), "{:?}", pass.applied.errors);
    assert_eq!((pass.applied.removed, pass.applied.created), (1, 1));
    let after = Api::<Pod>::namespaced(client.clone(), "team-ns").get("evicted-0").await.unwrap();
    assert_ne!(after.uid(), before.uid(), "a new pod for the same replica");
    assert_eq!(after.spec.unwrap().node_name.as_deref(), Some("a100-0"));
    assert_eq!(
        job_status(&client, "team-ns", "evicted").await.phase,
        tidepool_crds::training_job::TrainingPhase::Running
    );

    set_pod_phase(&client, "evicted-0", "Failed", None).await;
    reconcile_once(&ctx, &[]).await.unwrap();
    let failed = job_status(&client, "team-ns", "evicted").await;
    assert_eq!(failed.phase, tidepool_crds::training_job::TrainingPhase::Failed);
    let condition = failed.conditions.iter().find(|c| c.type_ == "Failed").unwrap();
    assert_eq!(condition.message, "pod evicted-0 failed: Error");
}

const SERVICE: &str = r#"
apiVersion: tidepool.dev/v1alpha1
kind: InferenceService
metadata: {name: chat, namespace: team-ns}
spec:
  workloadClass: llm-inference
  replicas: {min: 1, max: 8}
  devicesPerReplica: 1
  accelerators: [{model: nvidia-h20, capacityRequestsPerSecond: "6.0"}]
  demand:
    peakRequestsPerSecond: "36"
    hourlyProfile: ["0.02", "0.02", "0.02", "0.02", "0.02", "0.02", "0.1", "0.3", "0.6", "0.9", "1.0", "0.9",
                    "0.7", "0.8", "0.9", "0.9", "0.8", "0.6", "0.4", "0.3", "0.2", "0.1", "0.05", "0.02"]
  targetUtilizationPercent: 70
  template: {spec: {containers: [{name: main, image: server:1}]}}
"#;

#[tokio::test]
async fn an_inference_service_scales_with_its_hourly_demand() {
    let (client, _) = small_cluster(0).await;
    add_nodes(&client, (0..2).map(|i| model_node(&format!("h20-{i}"), "nvidia-h20", &[])).collect()).await;
    let ApiObject::InferenceService(svc) = tidepool_crds::manifests::parse(SERVICE, "svc.yaml").unwrap().remove(0)
    else {
        panic!("not an InferenceService")
    };
    Api::<InferenceService>::namespaced(client.clone(), "team-ns").create(&PostParams::default(), &svc).await.unwrap();
    // 10:00 at the policy's UTC+8 (02:00 UTC): 36 req/s ÷ (6.0 × 70%) = 8.6 → 9, capped at max 8.
    let ten_local = k8s_openapi::jiff::Timestamp::from_second(1_795_939_200 - 6 * 3600).unwrap();
    let clock = std::sync::Arc::new(tidepool_controller::ManualClock::new(ten_local));
    let (mut ctx, _) = context(&client, "local");
    ctx.clock = clock.clone();
    let live = |pods: Vec<Pod>| pods.into_iter().filter(|p| p.metadata.deletion_timestamp.is_none()).count();

    let pass = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(pass.applied.errors.is_empty(), "{:?}", pass.applied.errors);
    assert_eq!(live(pods(&client).await), 8);
    let status =
        Api::<InferenceService>::namespaced(client.clone(), "team-ns").get("chat").await.unwrap().status.unwrap();
    assert_eq!((status.desired_replicas, status.ready_replicas), (8, 8));

    // 03:00 the next night, share 0.02: 0.72 req/s needs one replica; the other seven go.
    clock.advance(17 * 3600);
    let pass = reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!(pass.applied.removed, 7, "{pass:?}");
    let left = pods(&client).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].metadata.name.as_deref(), Some("chat-0"), "the lowest replica stays");
    let status =
        Api::<InferenceService>::namespaced(client.clone(), "team-ns").get("chat").await.unwrap().status.unwrap();
    assert_eq!((status.desired_replicas, status.ready_replicas), (1, 1));
}

fn job_in(ns: &str, name: &str, replicas: u32, preemptible: bool) -> TrainingJob {
    let extra =
        format!("  preemptible: {preemptible}\n  checkpoint: {{intervalSeconds: 1800, gracePeriodSeconds: 90}}\n");
    training(ns, name, replicas, 8, "nvidia-a100-80g", &extra)
}

#[tokio::test]
async fn a_tenant_needing_its_guaranteed_devices_reclaims_them_from_a_borrower_with_grace() {
    let (client, evictions) = small_cluster(2).await;
    for (name, borrowing) in [("owner", 0), ("borrower", 8)] {
        let yaml = format!(
            "apiVersion: tidepool.dev/v1alpha1\nkind: Tenant\nmetadata: {{name: {name}}}\nspec:\n  \
             namespaces: [{name}-ns]\n  quotas: [{{family: nvidia, nominal: 8, borrowingLimit: {borrowing}}}]\n"
        );
        submit(&client, vec![ApiObject::Tenant(tenant(&yaml))]).await;
    }
    // The team tenant of small_cluster holds 8 nominal too, unused: 24 nominal on 16 devices.
    let (ctx, clock) = context(&client, "dc");
    let create_in = |j: TrainingJob| {
        let client = client.clone();
        async move {
            let ns = j.metadata.namespace.clone().unwrap();
            Api::<TrainingJob>::namespaced(client, &ns).create(&PostParams::default(), &j).await.unwrap();
        }
    };
    create_in(job_in("borrower-ns", "wide", 2, true)).await;
    reconcile_once(&ctx, &[]).await.unwrap();
    let wide = job_status(&client, "borrower-ns", "wide").await;
    assert_eq!(wide.phase, tidepool_crds::training_job::TrainingPhase::Running);
    assert_eq!(wide.placement.unwrap().devices.len(), 16, "8 guaranteed and 8 borrowed");

    create_in(job_in("owner-ns", "mine", 1, false)).await;
    clock.advance(60);
    let pass = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(pass.applied.errors.is_empty(), "{:?}", pass.applied.errors);
    let evicted = evictions.lock().unwrap().clone();
    assert_eq!(evicted.len(), 2, "the whole gang goes: {evicted:?}");
    assert!(evicted.iter().all(|(ns, _, grace)| ns == "borrower-ns" && *grace == Some(90)));
    assert_eq!(
        job_status(&client, "borrower-ns", "wide").await.phase,
        tidepool_crds::training_job::TrainingPhase::Preempted
    );

    clock.advance(90);
    reconcile_once(&ctx, &[]).await.unwrap();
    let mine = job_status(&client, "owner-ns", "mine").await;
    let held: Vec<_> =
        pods(&client).await.iter().map(|p| (p.name_any(), p.spec.as_ref().unwrap().node_name.clone())).collect();
    assert_eq!(mine.phase, tidepool_crds::training_job::TrainingPhase::Running, "{:?} {held:?}", mine.pending_reason);

    // The borrower's job waited for the owner's to start, and now waits for room: no ping-pong.
    clock.advance(60);
    reconcile_once(&ctx, &[]).await.unwrap();
    assert_eq!(evictions.lock().unwrap().len(), 2);
    assert_eq!(
        job_status(&client, "owner-ns", "mine").await.phase,
        tidepool_crds::training_job::TrainingPhase::Running
    );
}

#[tokio::test]
async fn an_idle_service_lends_its_devices_to_preemptible_work_and_takes_them_back_before_demand_returns() {
    let (client, evictions) = small_cluster(0).await;
    add_nodes(&client, (0..2).map(|i| model_node(&format!("h20-{i}"), "nvidia-h20", &[])).collect()).await;
    let nightly = "apiVersion: tidepool.dev/v1alpha1\nkind: Tenant\nmetadata: {name: nightly}\nspec:\n  \
                   namespaces: [nightly-ns]\n  quotas: [{family: nvidia, nominal: 0, borrowingLimit: 0}]\n";
    submit(&client, vec![ApiObject::Tenant(tenant(nightly))]).await;
    let lending = format!("{SERVICE}  tidal: {{mayLend: true, reclaimLeadTimeSeconds: 900}}\n");
    let ApiObject::InferenceService(svc) = tidepool_crds::manifests::parse(&lending, "svc.yaml").unwrap().remove(0)
    else {
        panic!("not an InferenceService")
    };
    Api::<InferenceService>::namespaced(client.clone(), "team-ns").create(&PostParams::default(), &svc).await.unwrap();
    let mut batch = job_in("nightly-ns", "batch", 1, true);
    batch.spec.devices_per_replica = 4;
    batch.spec.accelerators[0].model = Some("nvidia-h20".into());
    Api::<TrainingJob>::namespaced(client.clone(), "nightly-ns").create(&PostParams::default(), &batch).await.unwrap();

    // 02:00 at UTC+8: one replica serves the night; the day's peak needs 8, the next 2¼ hours 1,
    // so 7 devices are lent once the service runs. The nightly tenant has no quota: only tidal
    // capacity can take its job.
    let two_local = k8s_openapi::jiff::Timestamp::from_second(1_795_939_200 - 14 * 3600).unwrap();
    let clock = std::sync::Arc::new(tidepool_controller::ManualClock::new(two_local));
    let (mut ctx, _) = context(&client, "local");
    ctx.clock = clock.clone();
    reconcile_once(&ctx, &[]).await.unwrap();
    clock.advance(60);
    let pass = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(pass.applied.errors.is_empty(), "{:?}", pass.applied.errors);
    let batch_pod = Api::<Pod>::namespaced(client.clone(), "nightly-ns").get("batch-0").await.unwrap();
    let annotations = batch_pod.metadata.annotations.unwrap();
    assert_eq!((annotations[labels::USAGE].as_str(), annotations[labels::LENDER].as_str()), ("Tidal", "team-ns/chat"));
    let chat =
        Api::<InferenceService>::namespaced(client.clone(), "team-ns").get("chat").await.unwrap().status.unwrap();
    assert_eq!((chat.ready_replicas, chat.lent_devices), (1, 7));

    // 07:45: with 15 minutes' lead the service already wants 08:00's six replicas; it takes its
    // devices back from the batch job, which gets its 90 s of grace.
    clock.advance(5 * 3600 + 44 * 60);
    let pass = reconcile_once(&ctx, &[]).await.unwrap();
    assert!(pass.applied.errors.is_empty(), "{:?}", pass.applied.errors);
    assert_eq!(evictions.lock().unwrap().as_slice(), [("nightly-ns".to_owned(), "batch-0".to_owned(), Some(90))]);
    assert_eq!(
        job_status(&client, "nightly-ns", "batch").await.phase,
        tidepool_crds::training_job::TrainingPhase::Preempted
    );
    clock.advance(90);
    reconcile_once(&ctx, &[]).await.unwrap();
    let chat =
        Api::<InferenceService>::namespaced(client.clone(), "team-ns").get("chat").await.unwrap().status.unwrap();
    assert_eq!((chat.desired_replicas, chat.ready_replicas), (6, 6));
}
