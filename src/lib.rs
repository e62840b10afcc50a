//! ims: incident management with no server. Records are schema-validated YAML files in
//! a git repository; each governed procedure of the policy is one SSH-signed commit.
//!
//! Layers: [`model`], [`engine`] and [`procedures`] are pure; [`repo`] is the only code
//! that touches git and the file system; [`run`] is the shell that joins them; [`cli`]
//! parses and prints.

pub mod calendar;
pub mod cli;
pub mod demo;
pub mod engine;
pub mod error;
pub mod hygiene;
pub mod ids;
pub mod import;
pub mod index_file;
pub mod intake;
pub mod keys;
pub mod model;
pub mod paths;
pub mod procedures;
pub mod query;
pub mod replay;
pub mod repo;
pub mod report;
pub mod run;
pub mod schema;
pub mod signing;
pub mod site;
pub mod sla;
pub mod sync;
pub mod terminal;
pub mod verify;
pub mod yaml;
