//! ims's I/O layer: the records repository (git), signing with key files and ssh-agent,
//! the transaction loop that runs a pure procedure and commits its effect, replay,
//! `ims verify`'s walk and cache, `ims sync` and the queries over history.

// The pure layer's modules, under the names the code here has always used.
use ims_core::{engine, hygiene, ids, keys, model, paths, procedures, report, sla, yaml};

pub mod cache;
pub mod doctor;
pub mod error;
pub mod escalation;
pub mod facts;
pub mod index_file;
pub mod query;
pub mod replay;
pub mod repo;
pub mod run;
pub mod signing;
pub mod sync;
pub mod upkeep;
pub mod verify;
