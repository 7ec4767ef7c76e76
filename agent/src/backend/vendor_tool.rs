//! The backend every vendor tool shares: find the tool, run it (or read a captured output), parse.
//!
//! A vendor is described by a [`Vendor`]: its tools, their usual install directories, how to run
//! them on the node and how to parse a captured output. [`ToolBackend`] turns that into a
//! [`Backend`]: present when one of the tools is found (or the file exists), discovering through
//! the vendor's node routine (then NUMA nodes from sysfs) or its parser. Parsing itself lives in
//! each vendor's module.

use std::path::PathBuf;

use tidepool_crds::Catalogue;

use super::output::Output;
use super::{Backend, BackendError, Presence, Source, numa, tool};
use crate::device::Device;

/// How one vendor's devices are read.
pub struct Vendor {
    /// The backend's name (`ascend`).
    pub name: &'static str,
    /// The tools whose presence means the vendor's driver is installed, in order of preference.
    pub tools: &'static [&'static str],
    /// Directories searched after `PATH` (`/usr/local/Ascend/driver/tools`).
    pub dirs: &'static [&'static str],
    /// Reads the node: runs the tools and parses what they print.
    pub on_node: fn(&Node<'_>) -> Result<Vec<Device>, BackendError>,
    /// Parses a captured output of any of the vendor's tools, recognising which one it is.
    pub parse: fn(&Output, &Catalogue) -> Result<Vec<Device>, BackendError>,
}

/// What a vendor's node routine may use: its tools and the catalogue.
pub struct Node<'a> {
    /// The vendor.
    pub vendor: &'static Vendor,
    /// The catalogue product names resolve against.
    pub catalogue: &'a Catalogue,
}

impl Node<'_> {
    /// Where `program` is, on `PATH` or in the vendor's directories.
    pub fn locate(&self, program: &str) -> Option<PathBuf> {
        tool::locate(program, self.vendor.dirs)
    }

    /// Runs `program` with `args` and returns what it printed.
    pub fn run(&self, program: &str, args: &[&str]) -> Result<Output, BackendError> {
        let path = self.locate(program).ok_or_else(|| BackendError::Unavailable {
            backend: self.vendor.name,
            what: program.to_owned(),
            problem: format!("not found on PATH or in {}", self.vendor.dirs.join(", ")),
        })?;
        tool::run(self.vendor.name, &path, args, tool::TIMEOUT)
    }

    /// The first of the vendor's tools that is installed.
    pub fn first_tool(&self) -> Result<&'static str, BackendError> {
        self.vendor.tools.iter().copied().find(|program| self.locate(program).is_some()).ok_or_else(|| {
            BackendError::Unavailable {
                backend: self.vendor.name,
                what: self.vendor.tools.join(" or "),
                problem: format!("not found on PATH or in {}", self.vendor.dirs.join(", ")),
            }
        })
    }
}

/// A [`Backend`] for a vendor read through its tools.
pub struct ToolBackend {
    vendor: &'static Vendor,
    source: Source,
    catalogue: Catalogue,
}

impl ToolBackend {
    /// The backend for `vendor`, reading `source`.
    pub fn new(vendor: &'static Vendor, source: Source, catalogue: Catalogue) -> Self {
        ToolBackend { vendor, source, catalogue }
    }
}

impl Backend for ToolBackend {
    fn name(&self) -> &'static str {
        self.vendor.name
    }

    fn presence(&self) -> Presence {
        match &self.source {
            Source::File(path) if path.is_file() => Presence::Present(path.display().to_string()),
            Source::File(path) => Presence::Absent(format!("captured output {}", path.display())),
            Source::Node => {
                let node = Node { vendor: self.vendor, catalogue: &self.catalogue };
                let found = self.vendor.tools.iter().find_map(|program| node.locate(program));
                match found {
                    Some(path) => Presence::Present(path.display().to_string()),
                    None => Presence::Absent(format!(
                        "{} on PATH or in {}",
                        self.vendor.tools.join(" or "),
                        self.vendor.dirs.join(", ")
                    )),
                }
            }
        }
    }

    fn discover(&self) -> Result<Vec<Device>, BackendError> {
        match &self.source {
            Source::File(path) => (self.vendor.parse)(&Output::from_file(self.vendor.name, path)?, &self.catalogue),
            Source::Node => {
                let mut devices = (self.vendor.on_node)(&Node { vendor: self.vendor, catalogue: &self.catalogue })?;
                numa::fill(&mut devices);
                Ok(devices)
            }
        }
    }
}
