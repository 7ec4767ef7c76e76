//! The pod lists (`openb_pod_list_*.csv`): one record per pod, streamed in the file's order, a
//! summary of a list, and the order in which to replay its pods as arrivals.
//!
//! Two schemas occur, told apart by the header:
//! - [`PodSchema::Full`], 11 columns: `name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,
//!   pod_phase,creation_time,deletion_time,scheduled_time` — the default list and the `cpuXXX`,
//!   `gpushareXX` and `gpuspecXX` variants;
//! - [`PodSchema::ResourcesOnly`], 5 columns: `name,cpu_milli,memory_mib,num_gpu,gpu_milli` — the
//!   `multigpuXX` variants, which carry no QoS, phase, times or GPU constraint. Their pods have no
//!   [`Lifecycle`] and cannot be replayed in time; they suit a static packing experiment only.
//!
//! Rules checked on every row (none is broken by the published files): numbers are whole and not
//! negative; `gpu_milli` is 0 for a pod without GPUs, 1..=1000 for a single-GPU pod (below 1000 =
//! a share of one GPU) and exactly 1000 for a multi-GPU pod; `gpu_spec` is empty (any model) or
//! model names joined by `|` with no empty name; `qos` is `LS`, `BE`, `Burstable` or `Guaranteed`;
//! `pod_phase` is `Running`, `Succeeded`, `Failed` or `Pending`; `creation_time <= scheduled_time
//! <= deletion_time`, `scheduled_time` being empty for a pod that was never scheduled (in the
//! published files: exactly the `Pending` pods).
//!
//! Time order, as found in the data: the default list, `cpu0` and the `gpuspecXX` lists come in
//! non-decreasing `creation_time` (ties — 199 rows of the default list share the time of the row
//! above — keep the file's order); the other `cpuXXX` re-samplings and the `gpushareXX` ones do
//! not (from 2 rows created before the row above them in `cpu235` to about 3,500 in each
//! `gpushareXX`). [`arrival_order`] tells which case a file is and, when it is out of order, gives a
//! small index (one row number per row) that replays it in time order.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::OpenbError;
use super::input::{Row, Rows, open};

/// The full pod list's header.
pub const POD_COLUMNS: [&str; 11] = [
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "gpu_spec",
    "qos",
    "pod_phase",
    "creation_time",
    "deletion_time",
    "scheduled_time",
];

/// The header of the resources-only pod lists (`multigpuXX`).
pub const POD_RESOURCE_COLUMNS: [&str; 5] = ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli"];

/// Which of the two pod-list schemas a file has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodSchema {
    /// All 11 columns: resources, GPU constraint, QoS, phase and times.
    Full,
    /// Only name and resources (the `multigpuXX` lists).
    ResourcesOnly,
}

/// Kubernetes-style quality of service as the trace records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Qos {
    /// Latency-sensitive (`LS`): online serving.
    LatencySensitive,
    /// Best-effort (`BE`): batch work, training.
    BestEffort,
    /// `Burstable`.
    Burstable,
    /// `Guaranteed`.
    Guaranteed,
}

impl Qos {
    /// Every value, in the order above.
    pub const ALL: [Qos; 4] = [Qos::LatencySensitive, Qos::BestEffort, Qos::Burstable, Qos::Guaranteed];

    /// The trace's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Qos::LatencySensitive => "LS",
            Qos::BestEffort => "BE",
            Qos::Burstable => "Burstable",
            Qos::Guaranteed => "Guaranteed",
        }
    }

    /// Reads the trace's spelling (exact, case-sensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == text)
    }
}

impl fmt::Display for Qos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pod's phase when the trace was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PodPhase {
    /// Scheduled, not finished.
    Running,
    /// Finished successfully.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Never scheduled.
    Pending,
}

impl PodPhase {
    /// Every value, in the order above.
    pub const ALL: [PodPhase; 4] = [PodPhase::Running, PodPhase::Succeeded, PodPhase::Failed, PodPhase::Pending];

    /// The trace's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PodPhase::Running => "Running",
            PodPhase::Succeeded => "Succeeded",
            PodPhase::Failed => "Failed",
            PodPhase::Pending => "Pending",
        }
    }

    /// Reads the trace's spelling (exact, case-sensitive).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for PodPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// QoS, phase and times of a pod (absent from the resources-only lists). Times are seconds
/// relative to the trace's start, with no wall-clock alignment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifecycle {
    /// Quality of service.
    pub qos: Qos,
    /// Phase when the trace was taken.
    pub phase: PodPhase,
    /// When the pod was created: its arrival.
    pub creation_time: i64,
    /// When the pod was deleted; never before `creation_time`.
    pub deletion_time: i64,
    /// When the pod was bound to a node; `None` if it never was. Between the other two.
    pub scheduled_time: Option<i64>,
}

impl Lifecycle {
    /// Seconds from creation to deletion: queueing in Alibaba's cluster plus running.
    pub fn lifetime(&self) -> i64 {
        self.deletion_time - self.creation_time
    }

    /// Seconds from being scheduled to deletion, if it was scheduled.
    pub fn run_time(&self) -> Option<i64> {
        self.scheduled_time.map(|s| self.deletion_time - s)
    }

    /// Seconds it waited in Alibaba's cluster before being scheduled, if it was.
    pub fn queueing_time(&self) -> Option<i64> {
        self.scheduled_time.map(|s| s - self.creation_time)
    }
}

/// One pod (a task) of a pod list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodRecord {
    /// Pod name, e.g. `openb-pod-0017`.
    pub name: String,
    /// CPU requested, in millicores.
    pub cpu_milli: u32,
    /// Memory requested, in MiB.
    pub memory_mib: u32,
    /// GPUs requested (0 to 8 in the published files).
    pub num_gpu: u32,
    /// Per-GPU share in thousandths: 1000 for whole GPUs, below for a pod sharing one GPU, 0 when
    /// `num_gpu` is 0.
    pub gpu_milli: u32,
    /// GPU models the pod accepts, as the trace names them, without repeats, in the file's order;
    /// empty = any model. Always empty in the resources-only lists.
    pub gpu_spec: Vec<String>,
    /// QoS, phase and times; `None` in the resources-only lists.
    pub lifecycle: Option<Lifecycle>,
}

impl PodRecord {
    /// Whether the pod asks for no GPU at all.
    pub fn is_cpu_only(&self) -> bool {
        self.num_gpu == 0 && self.gpu_milli == 0
    }

    /// Whether the pod asks for a share of one GPU.
    pub fn is_gpu_sharing(&self) -> bool {
        self.num_gpu == 1 && self.gpu_milli < 1000
    }
}

/// A streaming reader of a pod list: an iterator of records in the file's order. It yields the
/// first error it meets and then ends.
pub struct PodReader {
    rows: Rows,
    schema: PodSchema,
}

impl PodReader {
    /// Opens a pod list of either schema; `.gz` files are decompressed as they are read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenbError> {
        let path = path.as_ref();
        Self::from_reader(path, open(path)?)
    }

    /// Reads a pod list in plain CSV from `input`; `file` names it in errors.
    pub fn from_reader(file: impl Into<PathBuf>, input: impl Read + 'static) -> Result<Self, OpenbError> {
        let (rows, schema) = Rows::new(file.into(), Box::new(input), &[&POD_COLUMNS, &POD_RESOURCE_COLUMNS])?;
        let schema = if schema == 0 { PodSchema::Full } else { PodSchema::ResourcesOnly };
        Ok(Self { rows, schema })
    }

    /// The file's schema.
    pub fn schema(&self) -> PodSchema {
        self.schema
    }

    /// The file being read.
    pub fn file(&self) -> &Path {
        self.rows.file()
    }
}

impl Iterator for PodReader {
    type Item = Result<PodRecord, OpenbError>;

    fn next(&mut self) -> Option<Self::Item> {
        let schema = self.schema;
        let parsed = self.rows.next_row()?.and_then(|row| parse_pod(&row, schema));
        if parsed.is_err() {
            self.rows.stop();
        }
        Some(parsed)
    }
}

fn parse_pod(row: &Row<'_>, schema: PodSchema) -> Result<PodRecord, OpenbError> {
    let name = row.non_empty(0, "name")?.to_owned();
    let cpu_milli = row.number(1, "cpu_milli")?;
    let memory_mib = row.number(2, "memory_mib")?;
    let num_gpu: u32 = row.number(3, "num_gpu")?;
    let gpu_milli: u32 = row.number(4, "gpu_milli")?;
    let share_problem = match num_gpu {
        0 if gpu_milli != 0 => Some("must be 0 for a pod without GPUs"),
        1 if !(1..=1000).contains(&gpu_milli) => Some("must be 1..=1000 for a single-GPU pod"),
        2.. if gpu_milli != 1000 => Some("must be 1000 for a multi-GPU pod (only single-GPU pods share)"),
        _ => None,
    };
    if let Some(problem) = share_problem {
        return Err(row.error(4, "gpu_milli", problem));
    }
    if schema == PodSchema::ResourcesOnly {
        return Ok(PodRecord {
            name,
            cpu_milli,
            memory_mib,
            num_gpu,
            gpu_milli,
            gpu_spec: Vec::new(),
            lifecycle: None,
        });
    }
    let spec = row.text(5, "gpu_spec")?;
    let mut gpu_spec: Vec<String> = Vec::new();
    if !spec.is_empty() {
        for model in spec.split('|') {
            if model.is_empty() {
                return Err(row.error(5, "gpu_spec", "empty model name between `|`"));
            }
            if !gpu_spec.iter().any(|m| m == model) {
                gpu_spec.push(model.to_owned());
            }
        }
    }
    let qos = Qos::parse(row.text(6, "qos")?)
        .ok_or_else(|| row.error(6, "qos", "unknown QoS; expected LS, BE, Burstable or Guaranteed"))?;
    let phase = PodPhase::parse(row.text(7, "pod_phase")?)
        .ok_or_else(|| row.error(7, "pod_phase", "unknown phase; expected Running, Succeeded, Failed or Pending"))?;
    let creation_time = row.time(8, "creation_time")?;
    let deletion_time = row.time(9, "deletion_time")?;
    if deletion_time < creation_time {
        return Err(row.error(
            9,
            "deletion_time",
            format!("before creation_time {creation_time}: negative duration {}", deletion_time - creation_time),
        ));
    }
    let scheduled_time = row.optional_time(10, "scheduled_time")?;
    if let Some(s) = scheduled_time
        && !(creation_time..=deletion_time).contains(&s)
    {
        return Err(row.error(
            10,
            "scheduled_time",
            format!("outside creation_time {creation_time} ..= deletion_time {deletion_time}"),
        ));
    }
    let lifecycle = Lifecycle { qos, phase, creation_time, deletion_time, scheduled_time };
    Ok(PodRecord { name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec, lifecycle: Some(lifecycle) })
}

/// What a pod list adds up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PodSummary {
    /// Pods.
    pub pods: u64,
    /// Pods per `num_gpu`.
    pub by_num_gpu: BTreeMap<u32, u64>,
    /// Pods sharing one GPU (`num_gpu` 1, `gpu_milli` below 1000).
    pub gpu_sharing: u64,
    /// Pods naming at least one GPU model in `gpu_spec`.
    pub constrained: u64,
    /// Pods per QoS (full schema only).
    pub by_qos: BTreeMap<Qos, u64>,
    /// Pods per phase (full schema only).
    pub by_phase: BTreeMap<PodPhase, u64>,
    /// Pods never scheduled (full schema only).
    pub never_scheduled: u64,
    /// Earliest and latest `creation_time` (full schema only).
    pub creation_span: Option<(i64, i64)>,
}

impl PodSummary {
    /// Adds one pod.
    pub fn add(&mut self, pod: &PodRecord) {
        self.pods += 1;
        *self.by_num_gpu.entry(pod.num_gpu).or_default() += 1;
        self.gpu_sharing += u64::from(pod.is_gpu_sharing());
        self.constrained += u64::from(!pod.gpu_spec.is_empty());
        if let Some(life) = &pod.lifecycle {
            *self.by_qos.entry(life.qos).or_default() += 1;
            *self.by_phase.entry(life.phase).or_default() += 1;
            self.never_scheduled += u64::from(life.scheduled_time.is_none());
            let t = life.creation_time;
            self.creation_span = Some(self.creation_span.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
        }
    }

    /// Streams a pod list and sums it up.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, OpenbError> {
        let mut summary = Self::default();
        for pod in PodReader::open(path)? {
            summary.add(&pod?);
        }
        Ok(summary)
    }
}

/// In which order to replay a pod list's pods as arrivals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArrivalOrder {
    /// The rows come in non-decreasing `creation_time`: replay the file as it streams.
    FileOrder {
        /// Rows in the file.
        rows: usize,
    },
    /// The rows do not: replay row `order[0]`, then `order[1]`, … (0-based row indices, data rows
    /// only), which sorts by `creation_time` and keeps the file's order among equal times.
    Sorted {
        /// Rows in the file.
        rows: usize,
        /// Rows created before the row above them.
        steps_back: usize,
        /// Row indices in arrival order.
        order: Vec<usize>,
    },
    /// The file has no times (resources-only schema): the file's order is the only one.
    Untimed {
        /// Rows in the file.
        rows: usize,
    },
}

/// Streams a pod list once and says in which order its pods arrive: as the file runs, or by a
/// sorted index (it keeps one time and one row number per row while sorting, never a pod).
pub fn arrival_order(path: impl AsRef<Path>) -> Result<ArrivalOrder, OpenbError> {
    let reader = PodReader::open(path)?;
    let untimed = reader.schema() == PodSchema::ResourcesOnly;
    let mut times: Vec<i64> = Vec::new();
    let mut steps_back = 0;
    for pod in reader {
        let pod = pod?;
        let t = pod.lifecycle.map_or(0, |l| l.creation_time);
        steps_back += usize::from(times.last().is_some_and(|&last| t < last));
        times.push(t);
    }
    let rows = times.len();
    Ok(if untimed {
        ArrivalOrder::Untimed { rows }
    } else if steps_back == 0 {
        ArrivalOrder::FileOrder { rows }
    } else {
        let mut order: Vec<usize> = (0..rows).collect();
        order.sort_by_key(|&i| times[i]);
        ArrivalOrder::Sorted { rows, steps_back, order }
    })
}
