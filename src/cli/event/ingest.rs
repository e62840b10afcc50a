//! `ims event ingest FILE|-`: one `event.ingest` commit, or nothing new.

use std::path::Path;

use clap::Args;
use serde_json::json;

use crate::cli::Env;
use crate::error::Result;
use crate::intake::inbox::{ingest, service_labels};
use crate::repo::caps;

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// A file, or `-` for standard input.
    pub file: String,
}

pub fn run(env: &Env, a: IngestArgs) -> Result<()> {
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let bytes = if a.file == "-" {
        crate::repo::read_capped_from(std::io::stdin(), caps::PAYLOAD, "standard input")?
    } else {
        crate::repo::read_capped(Path::new(&a.file), caps::PAYLOAD, "event file")?
    };
    let events = crate::intake::parse(&bytes, &service_labels(&repo)?)?;
    let count = events.len();
    match ingest(&repo, &identity, events)? {
        Some(outcome) => {
            env.report(&outcome.effect, outcome.commit);
        }
        None => env.ui.data(json!({ "ok": true, "id": null, "commit": null, "events": count, "new": 0 }), || {
            format!("nothing new: all {count} events were already recorded")
        }),
    }
    Ok(())
}
