//! `ims event ingest` and `ims watch`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use clap::Subcommand;
use serde_json::json;

use super::Env;
use crate::error::{Error, Kind, Result};
use crate::ids::{new_id, RecordKind};
use crate::model::event::AlertStatus;
use crate::procedures::event::ingest::{EventInput, Ingest, Input, NewIds};
use crate::repo::Repo;
use crate::run::Identity;

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Record monitoring events (native format or an Alertmanager webhook payload);
    /// qualifying alerts open incidents, repeats attach to them.
    Ingest {
        /// A file, or `-` for standard input.
        file: String,
    },
}

/// Ingests events in one commit; `None` when every event was already recorded.
pub fn ingest(repo: &Repo, identity: &Identity, events: Vec<EventInput>) -> Result<Option<crate::run::Outcome>> {
    let mut new_ids = std::collections::BTreeMap::new();
    for e in events.iter().filter(|e| e.status == AlertStatus::Firing) {
        new_ids.entry(e.fingerprint.clone()).or_insert_with(|| {
            let inc = new_id(RecordKind::Incident, Utc::now());
            let com = new_id(RecordKind::Incident, Utc::now()).replacen("INC-", "COM-", 1);
            let esc = new_id(RecordKind::Incident, Utc::now()).replacen("INC-", "COM-", 1);
            NewIds { incident_id: inc, communication_id: com, escalation_id: esc }
        });
    }
    match crate::run::run::<Ingest>(repo, identity, &Input { events, new_ids }) {
        Ok(outcome) => Ok(Some(outcome)),
        Err(e) if e.kind == Kind::Precondition && e.message.contains("nothing new") => Ok(None),
        Err(e) => Err(e),
    }
}

fn service_labels(repo: &Repo) -> Result<Vec<String>> {
    Ok(crate::model::config(&repo.snapshot(repo.tip()?)?)?.intake.service_labels)
}

pub fn event(env: &Env, command: EventCommand) -> Result<()> {
    let EventCommand::Ingest { file } = command;
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let bytes = if file == "-" {
        let mut b = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut b)?;
        b
    } else {
        std::fs::read(&file).map_err(|e| Error::invalid(format!("{file}: {e}")))?
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

fn move_into(file: &Path, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(file.file_name().unwrap_or_default());
    std::fs::rename(file, &target)?;
    Ok(target)
}

/// One pass over the inbox: rejects what does not parse (with a reason file), ingests
/// the rest in one commit, and only then moves it to `processed/`.
pub fn sweep(repo: &Repo, identity: &Identity, dir: &Path) -> Result<(usize, usize, usize)> {
    let files = crate::intake::pending(dir)?;
    if files.is_empty() {
        return Ok((0, 0, 0));
    }
    let labels = service_labels(repo)?;
    let mut events = Vec::new();
    let mut good = Vec::new();
    let mut rejected = 0;
    for f in files {
        let parsed = std::fs::read(&f).map_err(Error::from).and_then(|b| crate::intake::parse(&b, &labels));
        match parsed {
            Ok(mut ev) => {
                events.append(&mut ev);
                good.push(f);
            }
            Err(e) => {
                let reject = dir.join("rejected");
                std::fs::create_dir_all(&reject)?;
                let name = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
                std::fs::write(reject.join(format!("{name}.reason")), format!("{}\n", e.message))?;
                move_into(&f, &reject)?;
                rejected += 1;
            }
        }
    }
    let count = events.len();
    if !events.is_empty() {
        ingest(repo, identity, events)?;
    }
    for f in &good {
        move_into(f, &dir.join("processed"))?;
    }
    Ok((good.len(), rejected, count))
}

pub fn watch(env: &Env, dir: PathBuf) -> Result<()> {
    use notify::Watcher;
    let dir = if dir.is_absolute() { dir } else { env.dir.join(dir) };
    if !dir.is_dir() {
        return Err(Error::invalid(format!("{}: not a directory", dir.display())));
    }
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if e.is_ok() {
            let _ = tx.send(());
        }
    })
    .map_err(|e| Error::internal(format!("watch: {e}")))?;
    watcher.watch(&dir, notify::RecursiveMode::NonRecursive).map_err(|e| Error::internal(format!("watch: {e}")))?;
    env.ui.status(&format!("watching {}; Ctrl-C to stop", dir.display()));
    loop {
        // Files that landed while ims was down, or since the last pass.
        match sweep(&repo, &identity, &dir) {
            Ok((0, 0, _)) => {}
            Ok((files, rejected, events)) => {
                env.ui.status(&format!("ingested {events} events from {files} files; rejected {rejected} files"))
            }
            Err(e) if e.kind == Kind::Internal => env.ui.status(&format!("error: {} (will retry)", e.message)),
            Err(e) => env.ui.status(&format!("error: {}", e.message)),
        }
        // Wait for something to land; poll too, in case an event was missed. Let a
        // burst settle so it costs one commit.
        let _ = rx.recv_timeout(Duration::from_secs(2));
        while rx.recv_timeout(Duration::from_millis(150)).is_ok() {}
    }
}
