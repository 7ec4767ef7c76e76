//! The node lists (`openb_node_list_all_node.csv`, `openb_node_list_gpu_node.csv`): one record per
//! node, streamed, and a summary of the fleet they describe.
//!
//! Schema: `sn,cpu_milli,memory_mib,gpu,model`. A node with GPUs names their model (`P100`, `T4`,
//! `V100M16`, `V100M32`, `A10`, or the undisclosed Alibaba codes `G2`, `G3`); a node without GPUs
//! leaves `model` empty. Both rules are checked. The two files describe the same GPU nodes in the
//! same order but number them apart: `openb-node-0000` is a CPU node in the full list and a P100
//! node in the GPU-only list, so names join nothing across the two files.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::error::OpenbError;
use super::input::{Row, Rows, open};

/// The node list's header.
pub const NODE_COLUMNS: [&str; 5] = ["sn", "cpu_milli", "memory_mib", "gpu", "model"];

/// One node of the trace's fleet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    /// Node name (`sn`), e.g. `openb-node-0227`.
    pub name: String,
    /// Number of GPUs.
    pub gpus: u32,
    /// GPU model as the trace spells it (`T4`, `G2`, …); `None` for a node without GPUs.
    pub gpu_model: Option<String>,
    /// CPU in millicores.
    pub cpu_milli: u32,
    /// Main memory in MiB.
    pub memory_mib: u32,
}

/// A streaming reader of a node list: an iterator of records in the file's order. It yields the
/// first error it meets and then ends.
pub struct NodeReader {
    rows: Rows,
}

impl NodeReader {
    /// Opens a node list; `.gz` files are decompressed as they are read.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, OpenbError> {
        let path = path.as_ref();
        Self::from_reader(path, open(path)?)
    }

    /// Reads a node list in plain CSV from `input`; `file` names it in errors.
    pub fn from_reader(file: impl Into<PathBuf>, input: impl Read + 'static) -> Result<Self, OpenbError> {
        let (rows, _) = Rows::new(file.into(), Box::new(input), &[&NODE_COLUMNS])?;
        Ok(Self { rows })
    }

    /// The file being read.
    pub fn file(&self) -> &Path {
        self.rows.file()
    }
}

impl Iterator for NodeReader {
    type Item = Result<NodeRecord, OpenbError>;

    fn next(&mut self) -> Option<Self::Item> {
        let parsed = self.rows.next_row()?.and_then(|row| parse_node(&row));
        if parsed.is_err() {
            self.rows.stop();
        }
        Some(parsed)
    }
}

fn parse_node(row: &Row<'_>) -> Result<NodeRecord, OpenbError> {
    let name = row.non_empty(0, "sn")?.to_owned();
    let cpu_milli = row.number(1, "cpu_milli")?;
    let memory_mib = row.number(2, "memory_mib")?;
    let gpus: u32 = row.number(3, "gpu")?;
    let model = row.text(4, "model")?;
    let gpu_model = match (gpus, model.is_empty()) {
        (0, true) => None,
        (0, false) => return Err(row.error(4, "model", "a node without GPUs names no model")),
        (_, true) => return Err(row.error(4, "model", "a node with GPUs must name their model")),
        (_, false) => Some(model.to_owned()),
    };
    Ok(NodeRecord { name, gpus, gpu_model, cpu_milli, memory_mib })
}

/// What a node list adds up to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FleetSummary {
    /// Nodes.
    pub nodes: u64,
    /// Nodes with at least one GPU.
    pub gpu_nodes: u64,
    /// GPUs.
    pub gpus: u64,
    /// GPUs per model, by the trace's model name.
    pub gpus_per_model: BTreeMap<String, u64>,
    /// GPU nodes per model.
    pub nodes_per_model: BTreeMap<String, u64>,
    /// CPU of all nodes, in millicores.
    pub cpu_milli: u64,
    /// Memory of all nodes, in MiB.
    pub memory_mib: u64,
}

impl FleetSummary {
    /// Adds one node.
    pub fn add(&mut self, node: &NodeRecord) {
        self.nodes += 1;
        self.cpu_milli += u64::from(node.cpu_milli);
        self.memory_mib += u64::from(node.memory_mib);
        if let Some(model) = &node.gpu_model {
            self.gpu_nodes += 1;
            self.gpus += u64::from(node.gpus);
            *self.gpus_per_model.entry(model.clone()).or_default() += u64::from(node.gpus);
            *self.nodes_per_model.entry(model.clone()).or_default() += 1;
        }
    }

    /// Streams a node list and sums it up.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, OpenbError> {
        let mut summary = Self::default();
        for node in NodeReader::open(path)? {
            summary.add(&node?);
        }
        Ok(summary)
    }
}
