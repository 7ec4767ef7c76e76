//! Device backends: one per vendor behind the narrow [`Backend`] trait, and the choice of which run.
//!
//! A backend reads its vendor's library or tool (or, with `--from-file`, a captured output of that
//! tool) and returns [`Device`]s with health and utilisation. It does not cache, sample on a timer or
//! talk to kubelet: the agent calls [`Backend::discover`] once per sampling interval.

pub mod fake;

use std::path::PathBuf;

use tidepool_crds::Catalogue;

use crate::device::Device;

/// One source of devices on this node.
pub trait Backend: Send + Sync {
    /// The name `--backend` takes (`nvidia`, `ascend`, ..., `fake`).
    fn name(&self) -> &'static str;

    /// Whether this node has what the backend reads (a library, a tool, a file).
    fn presence(&self) -> Presence;

    /// Every device with its current health, memory used and utilisation.
    fn discover(&self) -> Result<Vec<Device>, BackendError>;
}

/// Whether a backend can run on this node, and what it found or looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Found; says what (a library path, a tool path).
    Present(String),
    /// Not on this node; says what was looked for. Not an error: most nodes have one vendor.
    Absent(String),
}

/// Where a backend reads from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The node itself: the vendor library or tool.
    Node,
    /// A captured output of the vendor tool (or, for `fake`, an inventory file).
    File(PathBuf),
}

/// What went wrong reading a backend; every variant names the backend.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The tool's output (or a file) could not be understood.
    #[error("{backend}: {origin}:{line}: {problem}")]
    Parse {
        /// The backend.
        backend: &'static str,
        /// The file or command whose output this was.
        origin: String,
        /// 1-based line number in that output (0 when the whole output is at fault).
        line: usize,
        /// What is wrong, and what was expected.
        problem: String,
    },
    /// The tool, library or file could not be run or read.
    #[error("{backend}: {what}: {problem}")]
    Unavailable {
        /// The backend.
        backend: &'static str,
        /// The command, library or file.
        what: String,
        /// The underlying error.
        problem: String,
    },
    /// No backend has this name.
    #[error("unknown backend {0:?}; known: {known}", known = names().join(", "))]
    Unknown(String),
}

/// Every backend name, in the order auto-detection tries them.
pub fn names() -> Vec<&'static str> {
    vec![fake::NAME]
}

/// The backend called `name`, reading `source`.
pub fn by_name(name: &str, source: Source, catalogue: &Catalogue) -> Result<Box<dyn Backend>, BackendError> {
    match name {
        fake::NAME => Ok(Box::new(fake::FakeBackend::new(source, catalogue.clone()))),
        _ => Err(BackendError::Unknown(name.to_owned())),
    }
}

/// The backends present on this node (every one whose [`Backend::presence`] is `Present`), other
/// than `fake`, which is only used when named.
pub fn detect(catalogue: &Catalogue) -> Vec<Box<dyn Backend>> {
    names()
        .into_iter()
        .filter(|name| *name != fake::NAME)
        .filter_map(|name| by_name(name, Source::Node, catalogue).ok())
        .filter(|backend| matches!(backend.presence(), Presence::Present(_)))
        .collect()
}
