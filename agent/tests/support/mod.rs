//! Real gRPC peers for the agent's tests and its footprint benchmark: a fake kubelet (a real
//! `Registration` server on a unix socket), a test controller (a real `AgentService` server on
//! loopback, optionally TLS), fake inventory files, and an agent wired to them.

// Test code: each test binary uses a different part of it, and a failed setup should panic.
#![allow(dead_code, clippy::unwrap_used)]

pub mod agent;
pub mod controller;
pub mod inventory;
pub mod kubelet;
pub mod process;
