//! The node path of the tool backends, end to end: `tidepool-agent discover` with stand-in vendor
//! tools on `PATH` that print the real captures (their `# SOURCE:` header cut) or fail the way a
//! tool without a feature does. Checks the runs, merges and fallbacks, and that a failing tool's
//! exit status and stderr reach the user.

use std::path::{Path, PathBuf};
use std::process::Command;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/devices");

/// A directory of stand-in tools, removed when dropped.
struct Tools(PathBuf);

impl Tools {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tidepool-tools-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        Tools(dir)
    }

    /// A tool `name` whose behaviour per argument list is a `case` body.
    fn add(&self, name: &str, cases: &str) -> &Self {
        use std::os::unix::fs::PermissionsExt;
        let path = self.0.join(name);
        let script =
            format!("#!/bin/sh\ncase \"$*\" in\n{cases}\n*) echo \"unexpected arguments: $*\" >&2; exit 64;;\nesac\n");
        std::fs::write(&path, script).expect("a tool script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("an executable script");
        self
    }

    /// `tidepool-agent discover ARGS` with only these tools (and the system's basics) on `PATH`.
    fn discover(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_tidepool-agent"))
            .arg("discover")
            .args(args)
            .env("PATH", format!("{}:/usr/bin:/bin", self.0.display()))
            .output()
            .expect("the agent binary runs")
    }
}

impl Drop for Tools {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A `case` arm printing a capture without its header line.
fn prints(arguments: &str, fixture: &str) -> String {
    let path = Path::new(FIXTURES).join(fixture);
    format!("\"{arguments}\") /usr/bin/tail -n +2 '{}';;", path.display())
}

/// A `case` arm failing like a tool that lacks an option.
fn fails(arguments: &str) -> String {
    format!("\"{arguments}\") echo 'unknown option' >&2; exit 2;;")
}

fn devices(output: &std::process::Output) -> Vec<serde_json::Value> {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    json["devices"].as_array().cloned().expect("a devices list")
}

fn column(devices: &[serde_json::Value], key: &str) -> Vec<serde_json::Value> {
    devices.iter().map(|device| device[key].clone()).collect()
}

#[test]
fn ascend_merges_the_table_with_the_chip_mapping() {
    let tools = Tools::new("ascend");
    // One Atlas 300 card: the table numbers its chips' devices 3-6, the mapping's logic ids 0-3.
    tools.add("npu-smi", &[prints("info", "npu-smi-4.txt"), prints("info -m", "npu-smi-info-m-4.txt")].join("\n"));
    let found = devices(&tools.discover(&["--backend", "ascend", "--json"]));
    assert_eq!(column(&found, "index"), [0, 1, 2, 3]);
    assert_eq!(column(&found, "memory_used_mib"), [2703, 2867, 2867, 2867]);
    assert_eq!(column(&found, "pci_bus_id"), ["0000:89:00.0", "0000:8A:00.0", "0000:8B:00.0", "0000:8C:00.0"]);
}

#[test]
fn ascend_without_the_mapping_keeps_the_tables_numbers() {
    let tools = Tools::new("ascend-old");
    tools.add("npu-smi", &[prints("info", "npu-smi-4.txt"), fails("info -m")].join("\n"));
    let found = devices(&tools.discover(&["--backend", "ascend", "--json"]));
    assert_eq!(column(&found, "index"), [3, 4, 5, 6]);
}

#[test]
fn fallbacks_read_the_table_when_the_machine_readable_form_fails() {
    let tools = Tools::new("fallbacks");
    tools
        .add(
            "hy-smi",
            &[
                fails("--showid --showproductname --showmeminfo vram --showuse --showuniqueid --showbus --json"),
                prints("", "hy-smi-4.txt"),
            ]
            .join("\n"),
        )
        .add("xpu-smi", &[fails("-m"), prints("", "xpu-smi-1.txt")].join("\n"))
        .add(
            "ixsmi",
            &[
                fails("--query-gpu=index,name,uuid,memory.total,memory.used,utilization.gpu,pci.bus_id --format=csv"),
                prints("", "ixsmi-2.txt"),
            ]
            .join("\n"),
        );
    assert_eq!(devices(&tools.discover(&["--backend", "hygon", "--json"])).len(), 8);
    let xpu = devices(&tools.discover(&["--backend", "kunlunxin", "--json"]));
    assert_eq!(column(&xpu, "model"), ["kunlunxin-r300", "kunlunxin-r300"]);
    let ix = devices(&tools.discover(&["--backend", "iluvatar", "--json"]));
    assert_eq!(column(&ix, "memory_used_mib"), [68, 68]);
}

#[test]
fn hygon_prefers_json() {
    let tools = Tools::new("hygon-json");
    let json_args = "--showid --showproductname --showmeminfo vram --showuse --showuniqueid --showbus --json";
    tools.add("hy-smi", &[prints(json_args, "hy-smi-rocm-smi-json-2.txt"), prints("", "hy-smi-4.txt")].join("\n"));
    let found = devices(&tools.discover(&["--backend", "hygon", "--json"]));
    assert_eq!(column(&found, "memory_mib"), [65520]);
    assert_eq!(column(&found, "uuid"), ["7100fa8866904061"]);
}

#[test]
fn detection_runs_every_backend_whose_tool_is_installed() {
    let tools = Tools::new("detect");
    tools.add("cnmon", &prints("", "cnmon-1.txt")).add("efsmi", &prints("", "efsmi-1.txt"));
    let found = devices(&tools.discover(&["--json"]));
    assert_eq!(column(&found, "family"), ["cambricon", "cambricon", "enflame", "enflame"]);
}

#[test]
fn a_failing_tool_reports_its_exit_status_and_stderr() {
    let tools = Tools::new("failing");
    tools.add("mthreads-gmi", "\"\") echo 'failed to initialise the MUSA driver' >&2; exit 5;;");
    let output = tools.discover(&["--backend", "mthreads"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mthreads: "), "{stderr}");
    assert!(stderr.contains("exit status 5: failed to initialise the MUSA driver"), "{stderr}");
}

#[test]
fn a_backend_without_its_tool_says_what_it_looked_for() {
    let tools = Tools::new("none");
    let output = tools.discover(&["--backend", "enflame"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("enflame: efsmi: not found on PATH or in /usr/local/efsmi"), "{stderr}");
    // With no tool anywhere, detection finds nothing, which is not an error.
    let quiet = tools.discover(&[]);
    assert!(quiet.status.success());
    assert_eq!(String::from_utf8_lossy(&quiet.stdout), "no accelerators found\n");
}
