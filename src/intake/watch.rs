//! The watcher that drains an inbox (`ims watch`, and the inbox of `ims intake serve`):
//! a sweep now, and one each time something lands. Which file events count as
//! something landing is decided by [`wakes`], a pure function of the event, tested below
//! without a file system (as zola maps its watcher's events).

use std::path::{Path, PathBuf};
use std::time::Duration;

use notify::event::{EventKind, ModifyKind, RenameMode};

use super::inbox::{intake_settings, sweep};
use super::server::Settings;
use crate::error::{Error, Kind, Result};
use crate::repo::Repo;
use crate::run::Identity;

/// Whether a file event in the inbox folder may be a payload landing, and so is worth a
/// sweep. Reads (ours among them), removals and the old name of a move are departures,
/// not arrivals; a `.tmp` file is still being written (its rename into place is the
/// arrival); dot-files and our own `processed/` and `rejected/` folders are not
/// payloads. An event that names no path wakes the sweep, to be safe: a missed
/// arrival costs a poll interval, a needless sweep costs a directory listing.
pub fn wakes(kind: &EventKind, paths: &[PathBuf]) -> bool {
    match kind {
        EventKind::Access(_) | EventKind::Remove(_) => return false,
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => return false,
        _ => {}
    }
    paths.is_empty() || paths.iter().any(|p| may_be_payload(p))
}

/// A name [`super::inbox::pending`] would pick up.
fn may_be_payload(path: &Path) -> bool {
    let Some(name) = path.file_name().map(|n| n.to_string_lossy()) else { return true };
    !(name.starts_with('.') || name.ends_with(".tmp") || name == "processed" || name == "rejected")
}

/// Ingests the inbox now and each time something lands in it, until killed. Each pass
/// reads `intake.service_labels` afresh and shares it with the HTTP receivers, if any, so
/// a payload is never judged by an older configuration than the one that ingests it.
/// `status` gets one line per pass that did something, and per error.
pub fn drain(
    repo: &Repo,
    identity: &Identity,
    dir: &Path,
    shared: Option<&Settings>,
    status: &dyn Fn(&str),
) -> Result<()> {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        if e.is_ok_and(|e| wakes(&e.kind, &e.paths)) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| Error::internal(format!("watch: {e}")))?;
    watcher.watch(dir, notify::RecursiveMode::NonRecursive).map_err(|e| Error::internal(format!("watch: {e}")))?;
    status(&format!("watching {}; Ctrl-C to stop", dir.display()));
    loop {
        // Files that landed while ims was down, or since the last pass.
        let pass = intake_settings(repo).and_then(|settings| {
            let labels = settings.service_labels.clone();
            if let Some(shared) = shared {
                *shared.write().unwrap_or_else(|e| e.into_inner()) = settings;
            }
            sweep(repo, identity, dir, &labels)
        });
        match pass {
            Ok(s) if s.files == 0 && s.rejected == 0 => {}
            Ok(s) => {
                status(&format!("ingested {} events from {} files; rejected {} files", s.events, s.files, s.rejected))
            }
            Err(e) if e.kind == Kind::Internal => status(&format!("error: {} (will retry)", e.message)),
            Err(e) => status(&format!("error: {}", e.message)),
        }
        // Wait for something to land; poll too, in case an event was missed. Let a
        // burst settle so it costs one commit, but never wait more than a second for it.
        let _ = rx.recv_timeout(Duration::from_secs(2));
        let settle = std::time::Instant::now();
        while settle.elapsed() < Duration::from_secs(1) && rx.recv_timeout(Duration::from_millis(150)).is_ok() {}
    }
}

#[cfg(test)]
mod tests {
    use notify::event::{AccessKind, CreateKind, DataChange, MetadataKind, RemoveKind};

    use super::*;

    fn p(name: &str) -> Vec<PathBuf> {
        vec![PathBuf::from("/inbox").join(name)]
    }

    #[test]
    fn a_payload_written_or_moved_in_wakes_the_sweep() {
        assert!(wakes(&EventKind::Create(CreateKind::File), &p("alert.json")));
        assert!(wakes(&EventKind::Modify(ModifyKind::Data(DataChange::Any)), &p("alert.json")));
        assert!(wakes(&EventKind::Modify(ModifyKind::Name(RenameMode::To)), &p("alert.json")));
        let both = vec![PathBuf::from("/inbox/a.json.tmp"), PathBuf::from("/inbox/a.json")];
        assert!(wakes(&EventKind::Modify(ModifyKind::Name(RenameMode::Both)), &both));
        assert!(wakes(&EventKind::Modify(ModifyKind::Metadata(MetadataKind::Any)), &p("no-extension")));
    }

    #[test]
    fn reads_removals_and_departures_do_not() {
        assert!(!wakes(&EventKind::Access(AccessKind::Any), &p("alert.json")));
        assert!(!wakes(&EventKind::Remove(RemoveKind::File), &p("alert.json")));
        assert!(!wakes(&EventKind::Modify(ModifyKind::Name(RenameMode::From)), &p("alert.json")));
    }

    #[test]
    fn files_being_written_dot_files_and_our_folders_do_not() {
        assert!(!wakes(&EventKind::Create(CreateKind::File), &p("x.json.tmp")));
        assert!(!wakes(&EventKind::Create(CreateKind::File), &p(".swp")));
        assert!(!wakes(&EventKind::Create(CreateKind::Folder), &p("processed")));
        assert!(!wakes(&EventKind::Modify(ModifyKind::Any), &p("rejected")));
    }

    #[test]
    fn an_event_without_paths_wakes_to_be_safe() {
        assert!(wakes(&EventKind::Any, &[]));
        assert!(wakes(&EventKind::Other, &[]));
    }
}
