//! Device backends: one per vendor behind the narrow [`Backend`] trait, and the choice of which run.
//!
//! A backend reads its vendor's library or tool (or, with `--from-file`, a captured output of that
//! tool) and returns [`Device`]s with health and utilisation. It does not cache, sample on a timer or
//! talk to kubelet: the agent calls [`Backend::discover`] once per sampling interval.
//!
//! - Vendors: [`nvidia`] (NVML), [`ascend`], [`cambricon`], [`hygon`], [`kunlunxin`],
//!   [`iluvatar`], [`metax`], [`mthreads`], [`enflame`] (their tools), and [`fake`].
//! - Shared by the tool backends: [`vendor_tool`] (find, run or read, parse), [`tool`] (running a
//!   tool with a deadline), [`output`] (text with numbered lines and origin), [`table`] and
//!   [`boxed`] (box-drawn tables read by their labels), [`values`] (sizes, pairs, percentages, PCI
//!   addresses), [`health`] (state words), [`inventory`] (checks and catalogue fill-ins) and
//!   [`numa`] (NUMA nodes from sysfs).

pub mod ascend;
pub mod boxed;
pub mod cambricon;
pub mod enflame;
pub mod fake;
pub mod health;
pub mod hygon;
pub mod iluvatar;
pub mod inventory;
pub mod kunlunxin;
pub mod metax;
pub mod mthreads;
pub mod numa;
pub mod nvidia;
pub mod output;
pub mod table;
pub mod tool;
pub mod values;
pub mod vendor_tool;

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

/// The vendors read through their tools, in auto-detection order.
const TOOL_VENDORS: [&vendor_tool::Vendor; 8] = [
    &ascend::VENDOR,
    &cambricon::VENDOR,
    &hygon::VENDOR,
    &kunlunxin::VENDOR,
    &iluvatar::VENDOR,
    &metax::VENDOR,
    &mthreads::VENDOR,
    &enflame::VENDOR,
];

/// Every backend name, in the order auto-detection tries them (`nvidia` first, `fake` last).
pub fn names() -> Vec<&'static str> {
    std::iter::once(nvidia::NAME)
        .chain(TOOL_VENDORS.iter().map(|vendor| vendor.name))
        .chain(std::iter::once(fake::NAME))
        .collect()
}

/// The backend called `name`, reading `source`.
pub fn by_name(name: &str, source: Source, catalogue: &Catalogue) -> Result<Box<dyn Backend>, BackendError> {
    if name == nvidia::NAME {
        return Ok(Box::new(nvidia::NvidiaBackend::new(source, catalogue.clone())));
    }
    if name == fake::NAME {
        return Ok(Box::new(fake::FakeBackend::new(source, catalogue.clone())));
    }
    match TOOL_VENDORS.iter().find(|vendor| vendor.name == name) {
        Some(vendor) => Ok(Box::new(vendor_tool::ToolBackend::new(vendor, source, catalogue.clone()))),
        None => Err(BackendError::Unknown(name.to_owned())),
    }
}

/// Parses `text`, a captured output of backend `name`'s tool (or, for `fake`, an inventory), as
/// `--from-file` would; `origin` names it in errors.
pub fn parse_text(name: &str, origin: &str, text: &str, catalogue: &Catalogue) -> Result<Vec<Device>, BackendError> {
    if name == nvidia::NAME {
        return nvidia::parse(&output::Output::captured(nvidia::NAME, origin, text), catalogue);
    }
    if name == fake::NAME {
        return fake::parse_inventory(text, origin, catalogue);
    }
    match TOOL_VENDORS.iter().find(|vendor| vendor.name == name) {
        Some(vendor) => (vendor.parse)(&output::Output::captured(vendor.name, origin, text), catalogue),
        None => Err(BackendError::Unknown(name.to_owned())),
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
