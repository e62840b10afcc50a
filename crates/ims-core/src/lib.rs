//! ims's pure layer: the policy's records and every procedure over them, with canonical
//! YAML, the schemas, SLA and KPI arithmetic and the import and payload readers.
//!
//! The layer rule: nothing here reads a file, the environment or the machine's clock,
//! starts a process or a thread, opens a socket or keeps state between calls. A
//! procedure is a function of its [`engine::Ctx`] (a [`model::Snapshot`] of the parent
//! commit, the actor, the time and the hygiene rules) and its input. The manifest names
//! no git, template, watcher or HTTP crate, so the compiler keeps it so; `.ci/run` and
//! `tests/cli/layers.rs` check it.

pub mod calendar;
pub mod engine;
pub mod error;
pub mod hygiene;
pub mod ids;
pub mod import;
pub mod intake;
pub mod keys;
pub mod migrate;
pub mod model;
pub mod paths;
pub mod procedures;
pub mod report;
pub mod schema;
pub mod sla;
pub mod terminal;
pub mod yaml;
