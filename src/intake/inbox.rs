//! The inbox: a folder where payloads land (from a sender, `ims intake serve`, or a
//! person), swept into one `event.ingest` commit and filed under `processed/` or, with
//! the reason beside it, `rejected/`.

use std::path::{Path, PathBuf};

use chrono::Utc;

use crate::error::{Kind, Result};
use crate::ids::{new_id, RecordKind};
use crate::model::config::Intake;
use crate::model::event::AlertStatus;
use crate::procedures::event::ingest::{EventInput, Ingest, Input, NewIds};
use crate::repo::{caps, Repo};
use crate::run::{pause_point, Identity};

/// The files waiting in an inbox folder, oldest name first (ignoring our own folders
/// and files still being written, which end in `.tmp`).
pub fn pending(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.extension().is_none_or(|x| x != "tmp")
                && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The procedure's input for these events, with ids (made at `now`, the procedure's
/// clock) for the incidents it may open.
pub fn ingest_input(events: Vec<EventInput>, now: chrono::DateTime<Utc>) -> Input {
    let mut new_ids = std::collections::BTreeMap::new();
    for e in events.iter().filter(|e| e.status == AlertStatus::Firing) {
        new_ids.entry(e.fingerprint.clone()).or_insert_with(|| {
            let inc = new_id(RecordKind::Incident, now);
            let com = new_id(RecordKind::Incident, now).replacen("INC-", "COM-", 1);
            let esc = new_id(RecordKind::Incident, now).replacen("INC-", "COM-", 1);
            NewIds { incident_id: inc, communication_id: com, escalation_id: esc }
        });
    }
    Input { events, new_ids }
}

/// Ingests events in one commit; `None` when every event was already recorded.
pub fn ingest(repo: &Repo, identity: &Identity, events: Vec<EventInput>) -> Result<Option<crate::run::Outcome>> {
    // One clock for the ids and the procedure: the ids' date is the record's folder.
    let now = crate::run::procedure_now(repo)?;
    crate::run::unless_nothing_new(crate::run::run_at::<Ingest>(repo, identity, &ingest_input(events, now), now))
}

pub fn intake_settings(repo: &Repo) -> Result<Intake> {
    Ok(crate::model::config(&repo.snapshot(repo.tip()?)?)?.intake)
}

pub fn service_labels(repo: &Repo) -> Result<Vec<String>> {
    Ok(intake_settings(repo)?.service_labels)
}

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    /// Files ingested and moved to `processed/`.
    pub files: usize,
    /// Files moved to `rejected/`.
    pub rejected: usize,
    /// Events in the files ingested.
    pub events: usize,
}

fn move_into(file: &Path, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(file.file_name().unwrap_or_default());
    std::fs::rename(file, &target)?;
    Ok(target)
}

/// One pass over the inbox: rejects what does not parse (with a reason file), ingests
/// the rest in one commit, and only then moves it to `processed/`. When the procedure
/// refuses the batch, each file is ingested alone and the one it refuses is rejected,
/// so one poison payload never blocks the inbox.
pub fn sweep(repo: &Repo, identity: &Identity, dir: &Path, labels: &[String]) -> Result<Swept> {
    let files = pending(dir)?;
    if files.is_empty() {
        return Ok(Swept::default());
    }
    let config = crate::model::config(&repo.snapshot(repo.tip()?)?)?;
    let mut good: Vec<(PathBuf, Vec<EventInput>)> = Vec::new();
    let mut rejected = 0;
    for f in files {
        let parsed = crate::repo::read_capped(&f, caps::PAYLOAD, "inbox file")
            .and_then(|b| Ok(crate::intake::parse(&b, labels)?))
            .and_then(|ev| {
                // A payload naming a service outside the allowlist is rejected on its own.
                for e in &ev {
                    crate::procedures::event::ingest::check_service(crate::hygiene::Rules::Screening, &config, e)?;
                }
                Ok(ev)
            });
        match parsed {
            Ok(ev) => good.push((f, ev)),
            Err(e) => {
                reject(dir, &f, &e.message)?;
                rejected += 1;
            }
        }
    }
    let events: Vec<EventInput> = good.iter().flat_map(|(_, ev)| ev.iter().cloned()).collect();
    let count = events.len();
    if !events.is_empty() {
        match ingest(repo, identity, events) {
            Ok(_) => pause_point("after-commit"),
            Err(e) if e.kind == Kind::Invalid => {
                let mut kept = Vec::new();
                for (f, ev) in good {
                    match ingest(repo, identity, ev) {
                        Ok(_) => kept.push((f, vec![])),
                        Err(e) if e.kind == Kind::Invalid => {
                            reject(dir, &f, &e.message)?;
                            rejected += 1;
                        }
                        Err(e) => return Err(e),
                    }
                }
                good = kept;
            }
            Err(e) => return Err(e),
        }
    }
    for (i, (f, _)) in good.iter().enumerate() {
        move_into(f, &dir.join("processed"))?;
        if i == 0 && good.len() > 1 {
            pause_point("during-move");
        }
    }
    Ok(Swept { files: good.len(), rejected, events: count })
}

/// Moves a file the intake refuses to `rejected/`, the reason beside it.
fn reject(dir: &Path, file: &Path, reason: &str) -> Result<()> {
    let reject = dir.join("rejected");
    std::fs::create_dir_all(&reject)?;
    let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
    std::fs::write(reject.join(format!("{name}.reason")), format!("{reason}\n"))?;
    move_into(file, &reject)?;
    Ok(())
}
