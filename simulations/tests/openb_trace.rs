//! The openb trace reader on the real files in `../shared/traces/alibaba_gpu_v2023_openb` (the
//! figures below were counted from the data with zcat and awk), on malformed input, and on
//! arbitrary bytes. The trace directory must exist: these tests fail, never skip, without it.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use flate2::Compression;
use flate2::write::GzEncoder;
use proptest::prelude::*;
use tidepool_engine::{Catalogue, Model, WorkloadClass, WorkloadKind};
use tidepool_sim::traces::openb::{
    ArrivalOrder, FleetSummary, MappingOptions, MappingTally, NodeReader, OpenbError, PodPhase, PodReader, PodRecord,
    PodSchema, PodSummary, Qos, Skip, arrival_order, catalogue_model, map_pod,
};

fn trace_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/traces/alibaba_gpu_v2023_openb");
    assert!(
        dir.is_dir(),
        "the openb trace is missing: expected the directory {} (shared/traces next to the workspace root); \
         these tests read the real files and do not skip without them",
        dir.display()
    );
    dir
}

fn default_pods() -> PathBuf {
    trace_dir().join("openb_pod_list_default.csv.gz")
}

/// Every pod of the default list, read once for the tests that look at single pods.
static DEFAULT: LazyLock<Vec<PodRecord>> =
    LazyLock::new(|| PodReader::open(default_pods()).unwrap().collect::<Result<_, _>>().unwrap());

#[test]
fn default_pod_list_has_the_published_figures() {
    let s = PodSummary::from_file(default_pods()).unwrap();
    assert_eq!(s.pods, 8152);
    assert_eq!(s.by_num_gpu, BTreeMap::from([(0, 1088), (1, 6989), (2, 16), (4, 15), (8, 44)]));
    let qos = |q| s.by_qos.get(&q).copied().unwrap_or(0);
    assert_eq!(
        [qos(Qos::LatencySensitive), qos(Qos::BestEffort), qos(Qos::Burstable), qos(Qos::Guaranteed)],
        [4647, 3398, 100, 7]
    );
    assert_eq!(s.creation_span, Some((0, 12_901_761)));
    let phase = |p| s.by_phase.get(&p).copied().unwrap_or(0);
    assert_eq!(
        [phase(PodPhase::Running), phase(PodPhase::Succeeded), phase(PodPhase::Failed), phase(PodPhase::Pending)],
        [5193, 192, 1870, 897]
    );
    assert_eq!(s.never_scheduled, 897);
    assert_eq!(s.gpu_sharing, 3078);
    assert_eq!(s.constrained, 0, "the default list has no gpu_spec");
}

#[test]
fn default_pod_list_comes_in_creation_order_and_only_pending_pods_lack_a_scheduled_time() {
    assert_eq!(arrival_order(default_pods()).unwrap(), ArrivalOrder::FileOrder { rows: 8152 });
    let pods = &*DEFAULT;
    assert_eq!(pods.len(), 8152);
    let mut ties = 0;
    for pair in pods.windows(2) {
        let (a, b) = (pair[0].lifecycle.unwrap(), pair[1].lifecycle.unwrap());
        assert!(a.creation_time <= b.creation_time);
        ties += usize::from(a.creation_time == b.creation_time);
    }
    assert_eq!(ties, 199, "rows sharing the creation_time of the row above");
    for pod in pods {
        let life = pod.lifecycle.unwrap();
        assert_eq!(life.scheduled_time.is_none(), life.phase == PodPhase::Pending, "{}", pod.name);
    }
    let first = &pods[0];
    assert_eq!(first.name, "openb-pod-0000");
    assert_eq!((first.cpu_milli, first.memory_mib, first.num_gpu, first.gpu_milli), (12000, 16384, 1, 1000));
    let last_deletion = pods.iter().map(|p| p.lifecycle.unwrap().deletion_time).max();
    assert_eq!(last_deletion, Some(12_902_960));
}

#[test]
fn node_lists_have_the_published_fleet() {
    let models = BTreeMap::from(
        [("G2", 4392), ("T4", 842), ("G3", 312), ("P100", 265), ("V100M32", 204), ("V100M16", 195), ("A10", 2)]
            .map(|(m, n)| (m.to_owned(), n)),
    );
    let all = FleetSummary::from_file(trace_dir().join("openb_node_list_all_node.csv.gz")).unwrap();
    assert_eq!((all.nodes, all.gpu_nodes, all.gpus), (1523, 1213, 6212));
    assert_eq!(all.gpus_per_model, models);
    let gpu = FleetSummary::from_file(trace_dir().join("openb_node_list_gpu_node.csv.gz")).unwrap();
    assert_eq!((gpu.nodes, gpu.gpu_nodes, gpu.gpus), (1213, 1213, 6212));
    assert_eq!(gpu.gpus_per_model, models);
    assert_eq!(gpu.nodes_per_model, all.nodes_per_model);
}

#[test]
fn the_two_node_lists_number_their_nodes_apart() {
    let first = |file: &str| NodeReader::open(trace_dir().join(file)).unwrap().next().unwrap().unwrap();
    let all = first("openb_node_list_all_node.csv.gz");
    let gpu = first("openb_node_list_gpu_node.csv.gz");
    assert_eq!((all.name.as_str(), all.gpus, all.gpu_model), ("openb-node-0000", 0, None));
    assert_eq!((gpu.name.as_str(), gpu.gpus, gpu.gpu_model.as_deref()), ("openb-node-0000", 2, Some("P100")));
}

#[test]
fn every_pod_list_parses_and_says_its_order() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(trace_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("openb_pod_list_"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 24, "{files:?}");
    let mut in_order = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_str().unwrap().trim_end_matches(".csv.gz").to_owned();
        let reader = PodReader::open(file).unwrap();
        let schema = reader.schema();
        let mut times = Vec::new();
        for pod in reader {
            let pod = pod.unwrap_or_else(|e| panic!("{e}"));
            times.push(pod.lifecycle.map(|l| l.creation_time));
        }
        assert_eq!(schema == PodSchema::ResourcesOnly, name.contains("multigpu"), "{name}");
        match arrival_order(file).unwrap() {
            ArrivalOrder::FileOrder { rows } => {
                assert_eq!(rows, times.len());
                in_order.push(name);
            }
            ArrivalOrder::Sorted { rows, steps_back, order } => {
                assert_eq!(rows, times.len());
                assert!(steps_back > 0);
                let mut seen = order.clone();
                seen.sort_unstable();
                assert!(seen.iter().copied().eq(0..rows), "{name}: not a permutation");
                assert!(order.windows(2).all(|w| (times[w[0]], w[0]) < (times[w[1]], w[1])), "{name}: not stable");
            }
            ArrivalOrder::Untimed { rows } => {
                assert_eq!(schema, PodSchema::ResourcesOnly);
                assert_eq!(rows, times.len());
            }
        }
    }
    let expected = ["cpu0", "default", "gpuspec05", "gpuspec10", "gpuspec20", "gpuspec25", "gpuspec33"];
    assert_eq!(in_order, expected.map(|n| format!("openb_pod_list_{n}")));
}

#[test]
fn default_pod_list_maps_by_the_documented_rules() {
    let options = MappingOptions::default();
    let mut tally = MappingTally::default();
    for pod in &*DEFAULT {
        let mapped = map_pod(pod, &options);
        tally.add(&mapped);
        let Ok(w) = mapped else { continue };
        let life = pod.lifecycle.unwrap();
        assert_eq!(w.submitted, life.creation_time);
        assert_eq!(w.run_time, life.deletion_time - life.scheduled_time.unwrap());
        assert_eq!(w.devices, pod.num_gpu);
        match w.qos {
            Qos::LatencySensitive => {
                assert_eq!(
                    (w.kind, w.preemptible, w.priority, w.expected_work),
                    (WorkloadKind::Inference, false, 100, None)
                );
                assert_eq!(w.class, WorkloadClass::CvInference);
            }
            qos => {
                assert_eq!(w.kind, WorkloadKind::Training);
                assert_eq!(w.preemptible, qos != Qos::Guaranteed);
                let work = w.run_time as f64 / 3600.0 * f64::from(w.devices) * 0.13;
                assert!((w.expected_work.unwrap() - work).abs() < 1e-9);
            }
        }
    }
    // 8,152 pods: 1,088 CPU-only; of the 7,064 GPU pods 861 were never scheduled (pending).
    let expected = MappingTally {
        mapped: 6203,
        shared_as_whole: 2573,
        inference: 3590,
        cpu_only: 1088,
        never_scheduled: 861,
        untimed: 0,
    };
    assert_eq!(tally, expected);
    assert_eq!(tally.total(), 8152);
}

#[test]
fn mapping_edge_cases() {
    let options = MappingOptions::default();
    let pod = |num_gpu, gpu_milli, qos, scheduled| PodRecord {
        name: "p".into(),
        cpu_milli: 1000,
        memory_mib: 1024,
        num_gpu,
        gpu_milli,
        gpu_spec: vec!["T4".into(), "G2".into()],
        lifecycle: Some(tidepool_sim::traces::openb::Lifecycle {
            qos,
            phase: PodPhase::Running,
            creation_time: 100,
            deletion_time: 7300,
            scheduled_time: scheduled,
        }),
    };
    assert_eq!(map_pod(&pod(0, 0, Qos::BestEffort, Some(100)), &options), Err(Skip::CpuOnly));
    assert_eq!(map_pod(&pod(1, 500, Qos::BestEffort, None), &options), Err(Skip::NeverScheduled));
    let shared = map_pod(&pod(1, 500, Qos::BestEffort, Some(100)), &options).unwrap();
    assert_eq!((shared.devices, shared.gpu_milli, shared.run_time), (1, 500, 7200));
    assert!((shared.expected_work.unwrap() - 2.0 * 0.13).abs() < 1e-12);
    assert_eq!(shared.allowed_models, ["T4", "G2"]);
    let gang = map_pod(&pod(8, 1000, Qos::Guaranteed, Some(3700)), &options).unwrap();
    assert_eq!((gang.devices, gang.run_time, gang.preemptible, gang.priority), (8, 3600, false, 50));
    assert!((gang.expected_work.unwrap() - 8.0 * 0.13).abs() < 1e-12);
    let burst = map_pod(&pod(2, 1000, Qos::Burstable, Some(100)), &options).unwrap();
    assert_eq!((burst.preemptible, burst.priority, burst.kind), (true, 10, WorkloadKind::Training));
    let untimed = PodRecord { lifecycle: None, ..pod(2, 1000, Qos::Burstable, None) };
    assert_eq!(map_pod(&untimed, &options), Err(Skip::Untimed));
}

#[test]
fn mapping_defaults_and_model_names_agree_with_the_builtin_catalogue() {
    use tidepool_crds::WorkloadClass as Class;
    let builtin = tidepool_crds::Catalogue::builtin();
    let figure = |class| builtin.throughput("nvidia-t4", class).unwrap().to_string().parse::<f64>().unwrap();
    let options = MappingOptions::default();
    assert_eq!(options.inference_runtime_throughput, figure(Class::CvInference));
    assert_eq!(options.training_runtime_throughput, figure(Class::CvTraining));
    for trace_model in ["P100", "T4", "V100M16", "V100M32", "A10", "G2", "G3"] {
        let listed: Vec<String> = builtin
            .iter()
            .filter(|m| m.spec.product_names.iter().any(|p| p == trace_model))
            .map(|m| m.metadata.name.clone().unwrap())
            .collect();
        assert_eq!(listed, catalogue_model(trace_model).map(str::to_owned).into_iter().collect::<Vec<_>>());
    }
}

#[test]
fn mapping_options_can_come_from_an_engine_catalogue() {
    let mut throughput = [None; WorkloadClass::COUNT];
    throughput[WorkloadClass::LlmInference as usize] = Some(0.5);
    throughput[WorkloadClass::LlmTraining as usize] = Some(0.25);
    let catalogue = Catalogue {
        families: vec!["nvidia".into()],
        models: vec![Model {
            name: "x".into(),
            family: tidepool_engine::FamilyId(0),
            memory_gib: 16,
            price_per_hour: Default::default(),
            throughput,
        }],
    };
    let o = MappingOptions::measured_on(&catalogue, "x", WorkloadClass::LlmInference, WorkloadClass::LlmTraining);
    let o = o.unwrap();
    assert_eq!((o.inference_runtime_throughput, o.training_runtime_throughput), (0.5, 0.25));
    assert!(
        MappingOptions::measured_on(&catalogue, "x", WorkloadClass::CvInference, WorkloadClass::LlmTraining).is_none()
    );
    assert!(
        MappingOptions::measured_on(&catalogue, "y", WorkloadClass::LlmInference, WorkloadClass::LlmTraining).is_none()
    );
}

// ---- malformed input ----

const HEADER: &str =
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";
const GOOD: &str = "openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0\n";

fn scratch(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openb_trace");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn gz(text: &str) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// Reads every pod of `path` and returns the error the reader stops at.
fn first_error(path: &Path) -> OpenbError {
    let result: Result<Vec<PodRecord>, OpenbError> = PodReader::open(path).and_then(|r| r.collect());
    result.unwrap_err()
}

#[test]
fn a_malformed_row_is_reported_with_file_line_and_column() {
    let cases: [(&str, &str, Option<&str>); 8] = [
        ("columns", "openb-pod-0001,6000,12288,1,460,,LS,Running,427061,12902960\n", None),
        ("number", "openb-pod-0001,6k,12288,1,460,,LS,Running,427061,12902960,427061\n", Some("cpu_milli")),
        ("negative", "openb-pod-0001,6000,-1,1,460,,LS,Running,427061,12902960,427061\n", Some("memory_mib")),
        ("duration", "openb-pod-0001,6000,12288,1,460,,LS,Running,427061,427000,\n", Some("deletion_time")),
        ("qos", "openb-pod-0001,6000,12288,1,460,,ls,Running,427061,12902960,427061\n", Some("qos")),
        ("phase", "openb-pod-0001,6000,12288,1,460,,LS,Unknown,427061,12902960,427061\n", Some("pod_phase")),
        ("share", "openb-pod-0001,6000,12288,2,460,,BE,Running,427061,12902960,427061\n", Some("gpu_milli")),
        ("spec", "openb-pod-0001,6000,12288,1,460,T4||P100,BE,Running,427061,12902960,427061\n", Some("gpu_spec")),
    ];
    for (name, bad_row, column) in cases {
        let text = format!("{HEADER}{GOOD}{bad_row}{GOOD}");
        for (file, bytes) in [(format!("{name}.csv.gz"), gz(&text)), (format!("{name}.csv"), text.into_bytes())] {
            let path = scratch(&file, &bytes);
            let mut reader = PodReader::open(&path).unwrap();
            assert!(reader.next().unwrap().is_ok());
            let err = reader.next().unwrap().unwrap_err();
            assert!(reader.next().is_none(), "{file}: the reader stops at the first error");
            assert_eq!((err.line(), err.column()), (Some(3), column), "{file}: {err}");
            let message = err.to_string();
            assert!(message.starts_with(&format!("{}:3: ", path.display())), "{message}");
            if let Some(column) = column {
                assert!(message.contains(&format!("column `{column}`")), "{message}");
            }
        }
    }
}

#[test]
fn bad_headers_empty_and_truncated_files_are_errors() {
    let header = first_error(&scratch("header.csv", b"name,cpu\nx,1\n"));
    assert!(matches!(header, OpenbError::Header { line: 1, .. }), "{header}");
    let empty = first_error(&scratch("empty.csv.gz", &gz("")));
    assert!(matches!(empty, OpenbError::Empty { .. }), "{empty}");
    assert!(empty.to_string().contains("empty.csv.gz"));
    let mut cut = gz(&format!("{HEADER}{}", GOOD.repeat(200)));
    cut.truncate(cut.len() / 2);
    let truncated = first_error(&scratch("cut.csv.gz", &cut));
    assert!(matches!(truncated, OpenbError::Read { .. }), "{truncated}");
    assert!(truncated.to_string().contains("cut.csv.gz"), "{truncated}");
    let missing = first_error(&trace_dir().join("no_such_file.csv.gz"));
    assert!(matches!(missing, OpenbError::Open { .. }), "{missing}");
    let node = NodeReader::open(scratch("nodes.csv", b"sn,cpu_milli,memory_mib,gpu,model\nn0,1,1,2,\n"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err();
    assert_eq!((node.line(), node.column()), (Some(2), Some("model")), "{node}");
}

#[test]
fn plain_csv_reads_like_gzip_and_gpu_spec_drops_repeats() {
    let text = format!("{HEADER}openb-pod-0001,6000,12288,1,1000,V100M16|V100M32|V100M32,BE,Pending,5,9,\n");
    let plain: Vec<PodRecord> =
        PodReader::open(scratch("ok.csv", text.as_bytes())).unwrap().map(Result::unwrap).collect();
    let zipped: Vec<PodRecord> =
        PodReader::open(scratch("ok.csv.gz", &gz(&text))).unwrap().map(Result::unwrap).collect();
    assert_eq!(plain, zipped);
    assert_eq!(plain[0].gpu_spec, ["V100M16", "V100M32"]);
    assert_eq!(plain[0].lifecycle.unwrap().scheduled_time, None);
}

// ---- no input panics ----

/// The first 60 lines of the default list, as plain text.
static SAMPLE: LazyLock<String> = LazyLock::new(|| {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(default_pods()).unwrap()).read_to_string(&mut text).unwrap();
    text.lines().take(60).map(|l| format!("{l}\n")).collect()
});

fn drain_pods(bytes: Vec<u8>) {
    if let Ok(reader) = PodReader::from_reader("fuzz.csv", std::io::Cursor::new(bytes)) {
        let mut errors = 0;
        for pod in reader {
            if let Err(e) = pod {
                assert!(e.line().is_some_and(|l| l >= 2), "{e}");
                errors += 1;
            }
        }
        assert!(errors <= 1);
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = NodeReader::from_reader("fuzz.csv", std::io::Cursor::new(bytes.clone())).map(|r| r.count());
        let mut with_header = HEADER.as_bytes().to_vec();
        with_header.extend_from_slice(&bytes);
        drain_pods(with_header);
        drain_pods(bytes.clone());
        // The same bytes behind a gzip decoder: a corrupt stream is an error, not a panic.
        let gz_reader = flate2::read::MultiGzDecoder::new(std::io::Cursor::new(bytes));
        let _ = PodReader::from_reader("fuzz.csv.gz", gz_reader).map(|r| r.count());
    }

    #[test]
    fn mutated_real_rows_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..8),
    ) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        for (at, op, byte) in edits {
            let i = at.index(bytes.len().max(1));
            match op {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i.min(bytes.len()), byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        drain_pods(bytes);
    }
}
