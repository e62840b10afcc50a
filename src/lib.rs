//! ims: incident management with no server. Records are schema-validated YAML files in
//! a git repository; each governed procedure of the policy is one SSH-signed commit.
//!
//! This crate is the shell: the command line ([`cli`]), the static site ([`site`]), the
//! demo and monitoring intake. It stands on two layers, re-exported here under their
//! module names: `ims-core` (pure: [`model`], [`procedures`], [`engine`], canonical
//! [`yaml`], [`schema`], [`sla`], [`report`], the [`import`] readers) and `ims-io`
//! (git and keys: [`repo`], [`signing`], [`run`], [`replay`], [`verify`], [`sync`],
//! [`query`]). See CONTRIBUTING.md for the layer rule.

pub use ims_core::{
    calendar, engine, hygiene, ids, import, keys, model, paths, procedures, report, schema, sla, terminal, yaml,
};
pub use ims_io::{cache, doctor, error, escalation, index_file, query, replay, repo, run, signing, sync, verify};

pub mod cli;
pub mod demo;
pub mod intake;
pub mod site;
