//! Every captured vendor-tool output in `shared/fixtures/devices` parses with its backend into the
//! devices the capture shows; garbage and unknown layouts are errors naming the backend and the
//! line; no input, however mangled, makes a parser panic; and the `discover` command reads the raw
//! fixtures.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tidepool_agent::backend::{self, BackendError, Source};
use tidepool_agent::device::{Device, Health};
use tidepool_crds::Catalogue;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/devices");

/// What a test expects of one device: index, model, product name, memory total and used.
struct Want {
    index: u32,
    model: &'static str,
    product: &'static str,
    memory: u64,
    used: Option<u64>,
}

const fn want(index: u32, model: &'static str, product: &'static str, memory: u64, used: Option<u64>) -> Want {
    Want { index, model, product, memory, used }
}

/// Every fixture, the backend that reads it, and the devices it shows (all healthy: no capture
/// shows a fault; the unhealthy paths are tested on edited captures below).
fn expectations() -> Vec<(&'static str, &'static str, Vec<Want>)> {
    const R300: &str = "kunlunxin-r300";
    const MLU: &str = "cambricon-mlu370-x8";
    const B910: &str = "ascend-910b";
    vec![
        (
            "cnmon-1.txt",
            "cambricon",
            vec![want(0, MLU, "MLU370-X8", 23374, Some(0)), want(1, MLU, "MLU370-X8", 23374, Some(0))],
        ),
        (
            "efsmi-1.txt",
            "enflame",
            vec![want(0, "enflame-s60", "S60", 49120, None), want(1, "enflame-s60", "S60", 42976, None)],
        ),
        ("ht-smi-1.txt", "metax", vec![want(0, "Mars X201", "Mars X201", 65536, Some(858))]),
        ("hy-smi-3.txt", "hygon", vec![want(0, "", "", 0, None)]),
        ("hy-smi-4.txt", "hygon", (0..8).map(|index| want(index, "", "", 0, None)).collect()),
        ("hy-smi-rocm-smi-dtk-1.txt", "hygon", (0..4).map(|index| want(index, "", "", 0, None)).collect()),
        ("hy-smi-rocm-smi-json-2.txt", "hygon", vec![want(0, "DCU xxxx", "DCU xxxx", 65520, Some(2))]),
        ("ixsmi-1.txt", "iluvatar", vec![want(0, "iluvatar-bi-v150", "Iluvatar BI-V150S", 32768, Some(114))]),
        (
            "ixsmi-2.txt",
            "iluvatar",
            (0..2).map(|index| want(index, "Iluvatar MR-V100 DUO", "Iluvatar MR-V100 DUO", 32768, Some(68))).collect(),
        ),
        ("mthreads-gmi-1.txt", "mthreads", vec![want(0, "MTT S80", "MTT S80", 16384, Some(1339))]),
        ("mx-smi-1.txt", "metax", vec![want(0, "metax-c500", "MetaX C500", 65536, Some(858))]),
        (
            "npu-smi-1.txt",
            "ascend",
            vec![want(0, B910, "910B2C", 65536, Some(35738)), want(1, B910, "910B2C", 65536, Some(35761))],
        ),
        (
            "npu-smi-2.txt",
            "ascend",
            vec![want(0, B910, "910B2C", 65536, Some(3317)), want(1, B910, "910B2C", 65536, Some(3316))],
        ),
        ("npu-smi-3.txt", "ascend", (0..4).map(|index| want(index, "310", "310", 8192, Some(2703))).collect()),
        (
            "npu-smi-4.txt",
            "ascend",
            vec![
                want(3, "310", "310", 8192, Some(2703)),
                want(4, "310", "310", 8192, Some(2867)),
                want(5, "310", "310", 8192, Some(2867)),
                want(6, "310", "310", 8192, Some(2867)),
            ],
        ),
        ("npu-smi-6.txt", "ascend", (0..8).map(|index| want(index, "910A", "910A", 32768, Some(0))).collect()),
        ("npu-smi-info-m-3.txt", "ascend", (0..4).map(|index| want(index, "MiniD", "MiniD", 0, None)).collect()),
        ("npu-smi-info-m-4.txt", "ascend", (0..4).map(|index| want(index, "MiniD", "MiniD", 0, None)).collect()),
        (
            "npu-smi-info-m-6.txt",
            "ascend",
            (0..8).map(|index| want(index, "Ascend 910A", "Ascend 910A", 0, None)).collect(),
        ),
        (
            "npu-smi-info-m-7.txt",
            "ascend",
            (0..8).map(|index| want(index, "Ascend 910A", "Ascend 910A", 0, None)).collect(),
        ),
        ("npu-smi-t-board-1.txt", "ascend", vec![want(0, "", "", 0, None)]),
        ("npu-smi-t-board-chip-1.txt", "ascend", vec![want(0, "xxx", "xxx", 0, None)]),
        ("npu-smi-t-common-1.txt", "ascend", vec![want(0, "", "", 0, None)]),
        ("nvidia-smi-q-x-1.txt", "nvidia", vec![want(1, "nvidia-a100-80g", "NVIDIA A100-SXM4-80GB", 81920, Some(50))]),
        ("nvidia-smi-q-x-2.txt", "nvidia", vec![want(0, "NVIDIA A10G", "NVIDIA A10G", 23028, Some(22))]),
        ("nvidia-smi-q-x-3.txt", "nvidia", vec![want(0, "nvidia-t4", "Tesla T4", 15360, Some(1032))]),
        ("rocminfo-hygon-1.txt", "hygon", vec![want(0, "hygon-k100-ai", "K1xx_AI", 65520, None)]),
        (
            "xpu-smi-1.txt",
            "kunlunxin",
            vec![want(0, R300, "R300", 32768, Some(0)), want(1, R300, "R300", 32768, Some(0))],
        ),
    ]
}

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn read(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn discover(backend_name: &str, file: &str) -> Result<Vec<Device>, BackendError> {
    backend::by_name(backend_name, Source::File(fixture(file)), &Catalogue::builtin())?.discover()
}

fn parse(backend_name: &str, text: &str) -> Result<Vec<Device>, BackendError> {
    backend::parse_text(backend_name, "test-input", text, &Catalogue::builtin())
}

fn by_index(devices: &[Device], index: u32) -> &Device {
    devices.iter().find(|device| device.index == index).unwrap_or_else(|| panic!("no device {index}"))
}

#[test]
fn every_fixture_parses_into_the_devices_it_shows() {
    for (file, backend_name, wants) in expectations() {
        let devices = discover(backend_name, file).unwrap_or_else(|error| panic!("{file}: {error}"));
        assert_eq!(devices.len(), wants.len(), "{file}: device count");
        for (device, want) in devices.iter().zip(&wants) {
            let context = format!("{file} device {}", want.index);
            assert_eq!(device.family.as_str(), backend_name, "{context}");
            assert_eq!(device.index, want.index, "{context}: index");
            assert_eq!(device.model, want.model, "{context}: model");
            assert_eq!(device.product_name, want.product, "{context}: product name");
            assert_eq!(device.in_catalogue, want.model != want.product, "{context}: in catalogue");
            assert_eq!(device.memory_mib, want.memory, "{context}: memory total");
            assert_eq!(device.memory_used_mib, want.used, "{context}: memory used");
            assert_eq!(device.health, Health::Healthy, "{context}: health");
            assert_eq!(device.health_reason, None, "{context}");
        }
    }
}

#[test]
fn every_fixture_in_the_directory_is_covered() {
    let covered: Vec<&str> = expectations().iter().map(|(file, _, _)| *file).collect();
    let mut files: Vec<String> = std::fs::read_dir(FIXTURES)
        .expect("the shared fixtures directory")
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name != "README.md")
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in &files {
        assert!(covered.contains(&file.as_str()), "{file} has no expectations in this test: add them");
    }
}

#[test]
fn addresses_ids_and_utilisation_are_read_where_shown() {
    let cnmon = discover("cambricon", "cnmon-1.txt").unwrap();
    assert_eq!(by_index(&cnmon, 1).pci_bus_id.as_deref(), Some("0000:3D:00.0"));
    assert_eq!(by_index(&cnmon, 1).utilisation_percent, Some(0));

    let efsmi = discover("enflame", "efsmi-1.txt").unwrap();
    assert_eq!(by_index(&efsmi, 1).uuid.as_deref(), Some("C807J40510285"));
    assert_eq!(by_index(&efsmi, 1).pci_bus_id.as_deref(), Some("00:09:00.0"));

    let npu = discover("ascend", "npu-smi-1.txt").unwrap();
    assert_eq!(by_index(&npu, 1).utilisation_percent, Some(11));
    assert_eq!(by_index(&npu, 1).pci_bus_id.as_deref(), Some("0000:65:02.0"));
    let npu = discover("ascend", "npu-smi-6.txt").unwrap();
    assert_eq!(by_index(&npu, 7).pci_bus_id.as_deref(), Some("0000:3D:00.0"));
    let npu = discover("ascend", "npu-smi-4.txt").unwrap();
    assert_eq!(by_index(&npu, 6).pci_bus_id.as_deref(), Some("0000:8C:00.0"));
    let board = discover("ascend", "npu-smi-t-board-1.txt").unwrap();
    assert_eq!(board[0].pci_bus_id.as_deref(), Some("0000:61:00.0"));
    let common = discover("ascend", "npu-smi-t-common-1.txt").unwrap();
    assert_eq!(common[0].utilisation_percent, Some(0));

    let json = discover("hygon", "hy-smi-rocm-smi-json-2.txt").unwrap();
    assert_eq!(json[0].uuid.as_deref(), Some("7100fa8866904061"));
    assert_eq!(json[0].utilisation_percent, Some(0));
    let rocminfo = discover("hygon", "rocminfo-hygon-1.txt").unwrap();
    assert_eq!(rocminfo[0].uuid.as_deref(), Some("GPU-7100fa8866904061"));
    let hy_smi = discover("hygon", "hy-smi-4.txt").unwrap();
    assert!(hy_smi.iter().all(|device| device.utilisation_percent == Some(0)));

    let mthreads = discover("mthreads", "mthreads-gmi-1.txt").unwrap();
    assert_eq!(mthreads[0].utilisation_percent, Some(98));
    assert_eq!(mthreads[0].pci_bus_id.as_deref(), Some("00000000:01:00.0"));

    let ixsmi = discover("iluvatar", "ixsmi-2.txt").unwrap();
    assert_eq!(by_index(&ixsmi, 1).pci_bus_id.as_deref(), Some("00000000:38:00.0"));

    let mx = discover("metax", "mx-smi-1.txt").unwrap();
    assert_eq!((mx[0].pci_bus_id.as_deref(), mx[0].utilisation_percent), (Some("0000:0e:00.0"), Some(0)));

    let a100 = discover("nvidia", "nvidia-smi-q-x-1.txt").unwrap();
    assert_eq!(a100[0].uuid.as_deref(), Some("GPU-513536b6-7d19-9063-b049-1e69664bb298"));
    assert_eq!(a100[0].pci_bus_id.as_deref(), Some("00000000:01:00.0"));
    // MIG is on: nvidia-smi shows no GPU utilisation.
    assert_eq!(a100[0].utilisation_percent, None);
    let t4 = discover("nvidia", "nvidia-smi-q-x-3.txt").unwrap();
    assert_eq!(t4[0].utilisation_percent, Some(0));

    // Both R300s show the redacted serial 02Kxxx: not an id.
    let xpu = discover("kunlunxin", "xpu-smi-1.txt").unwrap();
    assert!(xpu.iter().all(|device| device.uuid.is_none()));
    assert_eq!(by_index(&xpu, 1).pci_bus_id.as_deref(), Some("0000:56:00.0"));
}

#[test]
fn vendor_fault_states_make_devices_unhealthy() {
    let alarm = read("npu-smi-1.txt").replacen("| OK            |", "| Alarm         |", 1);
    let devices = parse("ascend", &alarm).unwrap();
    assert_eq!(devices[0].health, Health::Unhealthy("Alarm".into()));
    assert_eq!(devices[0].health_reason.as_deref(), Some("npu-smi Health: Alarm"));
    assert_eq!(devices[1].health, Health::Healthy);

    let critical = read("npu-smi-3.txt").replace("| OK              |", "| Critical        |");
    assert!(
        parse("ascend", &critical).unwrap().iter().all(|device| device.health == Health::Unhealthy("Critical".into()))
    );

    let state = read("ht-smi-1.txt").replace("| Available            |", "| Unavailable          |");
    let devices = parse("metax", &state).unwrap();
    assert_eq!(devices[0].health, Health::Unhealthy("Unavailable".into()));
    assert_eq!(devices[0].health_reason.as_deref(), Some("mx-smi GPU-State: Unavailable"));

    let reset = read("nvidia-smi-q-x-1.txt")
        .replace("<reset_required>No</reset_required>", "<reset_required>Yes</reset_required>");
    let devices = parse("nvidia", &reset).unwrap();
    assert_eq!(devices[0].health, Health::Unhealthy("ResetRequired".into()));
    let remap = read("nvidia-smi-q-x-2.txt")
        .replace("<remapped_row_failure>No</remapped_row_failure>", "<remapped_row_failure>Yes</remapped_row_failure>");
    assert_eq!(parse("nvidia", &remap).unwrap()[0].health, Health::Unhealthy("RowRemapFailure".into()));
}

#[test]
fn odd_values_are_reported_as_shown() {
    // Memory used above the total is what the tool said.
    let odd = read("ixsmi-1.txt").replace("114MiB / 32768MiB", "40000MiB / 32768MiB");
    let devices = parse("iluvatar", &odd).unwrap();
    assert_eq!((devices[0].memory_used_mib, devices[0].memory_mib), (Some(40000), 32768));
    // Tabs instead of blanks between the mapping's columns.
    let tabs = read("npu-smi-info-m-6.txt").replace("                              ", "\t");
    assert_eq!(parse("ascend", &tabs).unwrap().len(), 8);
}

/// The parse error `result` holds, as text, with its backend and line checked.
fn parse_error(result: Result<Vec<Device>, BackendError>, backend_name: &str, line: usize) -> String {
    let error = result.expect_err("an error");
    match &error {
        BackendError::Parse { backend: named, line: at, origin, .. } => {
            assert_eq!(*named, backend_name, "{error}");
            assert_eq!(*at, line, "{error}");
            assert_eq!(origin, "test-input", "{error}");
        }
        other => panic!("not a parse error: {other}"),
    }
    error.to_string()
}

#[test]
fn garbage_is_an_error_naming_the_backend_and_line() {
    for name in backend::names().into_iter().filter(|name| *name != "fake") {
        let error = parse_error(parse(name, "\n\nthis is not a tool output\nat all\n"), name, 3);
        assert!(error.starts_with(&format!("{name}: test-input:3: ")), "{error}");
        parse_error(parse(name, ""), name, 0);
    }
}

#[test]
fn broken_known_layouts_are_errors_at_the_broken_line() {
    // npu-smi-1 without its first NPU row (line 8): the chip row moves up to line 8.
    let text = read("npu-smi-1.txt");
    let lines: Vec<&str> = text.lines().collect();
    let without_npu_row = [&lines[..7], &lines[8..]].concat().join("\n");
    let error = parse_error(parse("ascend", &without_npu_row), "ascend", 8);
    assert!(error.contains("a chip row before any NPU row"), "{error}");

    // A mapping row whose logic id is neither a number nor `-`.
    let mapping = read("npu-smi-info-m-6.txt").replacen(
        "0                              Ascend",
        "?                              Ascend",
        1,
    );
    parse_error(parse("ascend", &mapping), "ascend", 3);

    // A device listed twice.
    let text = read("xpu-smi-1.txt");
    let duplicated = text.replacen("|     1 | 0000:56:00.0", "|     0 | 0000:56:00.0", 1);
    let error = parse_error(parse("kunlunxin", &duplicated), "kunlunxin", 9);
    assert!(error.contains("device index 0 listed twice (first at line 8)"), "{error}");

    // Invalid JSON and XML name the line the decoder stopped at.
    let json = read("hy-smi-rocm-smi-json-2.txt").replace("\"65520\",", "\"65520\"");
    parse_error(parse("hygon", &json), "hygon", 16);
    let xml = read("nvidia-smi-q-x-3.txt").replacen("</uuid>", "</uid>", 1);
    let error = parse_error(parse("nvidia", &xml), "nvidia", 30);
    assert!(error.ends_with("expected 'uuid' tag, not 'uid'"), "{error}");

    // A device record without its product name.
    let nameless = read("cnmon-1.txt").replace("MLU370-X8", "         ");
    parse_error(parse("cambricon", &nameless), "cambricon", 8);
}

/// The fixtures each backend reads.
fn fixtures_of(backend_name: &str) -> Vec<String> {
    expectations().into_iter().filter(|(_, name, _)| *name == backend_name).map(|(file, _, _)| read(file)).collect()
}

/// A change to a text: delete, duplicate or truncate a line, or replace a character.
#[derive(Clone, Debug)]
enum Edit {
    Delete(usize),
    Duplicate(usize),
    Truncate(usize, usize),
    Replace(usize, char),
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    for edit in edits {
        if lines.is_empty() {
            break;
        }
        let count = lines.len();
        match *edit {
            Edit::Delete(at) => {
                lines.remove(at % count);
            }
            Edit::Duplicate(at) => {
                let line = lines[at % count].clone();
                lines.insert(at % count, line);
            }
            Edit::Truncate(at, keep) => {
                let line = &mut lines[at % count];
                let keep = line.char_indices().nth(keep).map_or(line.len(), |(byte, _)| byte);
                line.truncate(keep);
            }
            Edit::Replace(at, replacement) => {
                let joined = lines.join("\n");
                let chars: Vec<char> = joined.chars().collect();
                let target = at % chars.len().max(1);
                let edited: String =
                    chars.iter().enumerate().map(|(i, ch)| if i == target { replacement } else { *ch }).collect();
                lines = edited.lines().map(str::to_owned).collect();
            }
        }
    }
    lines.join("\n") + "\n"
}

fn edit() -> impl Strategy<Value = Edit> {
    let replacement = prop_oneof![
        Just('|'),
        Just('/'),
        Just(':'),
        Just(' '),
        Just('\t'),
        Just('\n'),
        Just('"'),
        Just('<'),
        Just('0'),
        Just('%'),
        Just('é'),
        any::<char>(),
    ];
    prop_oneof![
        (0..4096usize).prop_map(Edit::Delete),
        (0..4096usize).prop_map(Edit::Duplicate),
        (0..4096usize, 0..120usize).prop_map(|(at, keep)| Edit::Truncate(at, keep)),
        (0..65536usize, replacement).prop_map(|(at, ch)| Edit::Replace(at, ch)),
    ]
}

const BACKENDS: [&str; 9] =
    ["nvidia", "ascend", "cambricon", "hygon", "kunlunxin", "iluvatar", "metax", "mthreads", "enflame"];

/// Whether a parse that succeeded gave an inventory kubelet can take: no index twice.
fn indices_unique(devices: &[Device]) -> bool {
    let mut indices: Vec<u32> = devices.iter().map(|device| device.index).collect();
    indices.sort_unstable();
    indices.dedup();
    indices.len() == devices.len()
}

/// Two property tests for one backend's parser: arbitrary text, and its own captures mangled.
macro_rules! never_panics {
    ($module:ident, $backend:literal) => {
        mod $module {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

                #[test]
                fn on_arbitrary_text(text in any::<String>(), table in "[|+=\\- 0-9a-zA-Z/:%.\n]{0,400}") {
                    // Any outcome but a panic.
                    let _ = parse($backend, &text);
                    let _ = parse($backend, &table);
                }

                #[test]
                fn on_mangled_captures(fixture_at in 0..16usize, edits in prop::collection::vec(edit(), 1..6)) {
                    let fixtures = fixtures_of($backend);
                    let mangled = apply(&fixtures[fixture_at % fixtures.len()], &edits);
                    if let Ok(devices) = parse($backend, &mangled) {
                        prop_assert!(indices_unique(&devices));
                    }
                }
            }
        }
    };
}

never_panics!(nvidia_parser, "nvidia");
never_panics!(ascend_parser, "ascend");
never_panics!(cambricon_parser, "cambricon");
never_panics!(hygon_parser, "hygon");
never_panics!(kunlunxin_parser, "kunlunxin");
never_panics!(iluvatar_parser, "iluvatar");
never_panics!(metax_parser, "metax");
never_panics!(mthreads_parser, "mthreads");
never_panics!(enflame_parser, "enflame");

#[test]
fn every_capture_given_to_every_backend_is_a_result() {
    // A capture given to the wrong backend is an error or some devices, never a panic.
    for (file, _, _) in expectations() {
        let text = read(file);
        for name in BACKENDS {
            if let Ok(devices) = parse(name, &text) {
                assert!(indices_unique(&devices), "{name} on {file}");
            }
        }
    }
}

/// `tidepool-agent discover --backend NAME --from-file FIXTURE --json`, parsed.
fn discover_json(name: &str, file: &str) -> serde_json::Value {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tidepool-agent"))
        .args(["discover", "--backend", name, "--from-file"])
        .arg(fixture(file))
        .arg("--json")
        .output()
        .expect("the agent binary runs");
    assert!(output.status.success(), "{file}: {}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

#[test]
fn the_discover_command_reads_raw_fixtures() {
    let npu = discover_json("ascend", "npu-smi-1.txt");
    let devices = npu["devices"].as_array().expect("a devices list");
    assert_eq!(devices.len(), 2);
    assert_eq!(devices[0]["model"], "ascend-910b");
    assert_eq!(devices[0]["memory_mib"], 65536);
    assert_eq!(devices[1]["memory_used_mib"], 35761);
    assert_eq!(devices[1]["health"], "Healthy");

    let nvidia = discover_json("nvidia", "nvidia-smi-q-x-3.txt");
    assert_eq!(nvidia["devices"][0]["model"], "nvidia-t4");
    assert_eq!(nvidia["devices"][0]["uuid"], "GPU-d37e67a5-91dd-3774-a5cb-99096249601a");

    let hygon = discover_json("hygon", "rocminfo-hygon-1.txt");
    assert_eq!(hygon["devices"][0]["model"], "hygon-k100-ai");
    assert_eq!(hygon["devices"][0]["memory_mib"], 65520);

    let xpu = discover_json("kunlunxin", "xpu-smi-1.txt");
    assert_eq!(xpu["devices"].as_array().map(Vec::len), Some(2));
    assert_eq!(xpu["devices"][1]["pci_bus_id"], "0000:56:00.0");
}

#[test]
fn the_discover_command_fails_on_the_wrong_capture_with_the_line() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tidepool-agent"))
        .args(["discover", "--backend", "cambricon", "--from-file"])
        .arg(fixture("npu-smi-1.txt"))
        .output()
        .expect("the agent binary runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cambricon: ") && stderr.contains("npu-smi-1.txt:2: "), "{stderr}");
}
