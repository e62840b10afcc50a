//! `ims doctor`: what ims keeps beside the history, and what a crash may leave — the
//! caches ([`crate::cache`]), git's `index.lock` and ims's journals of dead processes,
//! and how many loose objects and packs the object store holds. `--fix` clears what can
//! only cost time or block the next command: outdated or corrupt caches, the caches of
//! earlier ims versions, and an `index.lock` whose ims process is gone. It never touches
//! the history, the index or the working tree.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cache;
use crate::error::Result;

/// An `index.lock` found.
#[derive(Debug, Clone, Serialize)]
pub struct Lock {
    pub path: PathBuf,
    /// The ims process that wrote it, when it was ims.
    pub pid: Option<u32>,
    /// Written by an ims process that is gone: safe to remove.
    pub stale: bool,
}

/// The object store's size, as `git count-objects -v` counts it.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Objects {
    pub loose: usize,
    pub packs: usize,
}

/// What `ims doctor` found.
#[derive(Debug, Clone, Serialize)]
pub struct Findings {
    pub caches: Vec<cache::Entry>,
    /// Caches of earlier ims versions, outside the cache folder.
    pub legacy_caches: Vec<PathBuf>,
    pub index_lock: Option<Lock>,
    /// Journals of ims processes that are gone (the next command finishes their work).
    pub dead_journals: Vec<PathBuf>,
    pub objects: Objects,
}

impl Findings {
    /// Whether `--fix` has anything to do.
    pub fn fixable(&self) -> bool {
        self.caches.iter().any(|c| !c.current)
            || !self.legacy_caches.is_empty()
            || self.index_lock.as_ref().is_some_and(|l| l.stale)
    }
}

fn alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Looks, changing nothing. `git_dir` is the repository's `.git`.
pub fn examine(git_dir: &Path) -> Result<Findings> {
    let lock_path = git_dir.join("index.lock");
    let index_lock = lock_path.exists().then(|| {
        let first = std::fs::read_to_string(&lock_path).ok().and_then(|t| t.lines().next().map(str::to_string));
        let pid = first.and_then(|l| l.strip_prefix("ims-lock ").and_then(|p| p.trim().parse::<u32>().ok()));
        Lock { stale: crate::repo::stale(&lock_path), pid, path: lock_path.clone() }
    });
    let mut dead_journals: Vec<PathBuf> = std::fs::read_dir(git_dir.join("ims").join("journal"))
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok_and(|pid| !alive(pid)))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    dead_journals.sort();
    let mut objects = Objects::default();
    if let Ok(dirs) = std::fs::read_dir(git_dir.join("objects")) {
        for d in dirs.flatten() {
            let name = d.file_name().to_string_lossy().into_owned();
            if name.len() == 2 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
                objects.loose += std::fs::read_dir(d.path()).map(|f| f.count()).unwrap_or(0);
            }
        }
    }
    if let Ok(packs) = std::fs::read_dir(git_dir.join("objects").join("pack")) {
        objects.packs = packs.flatten().filter(|p| p.path().extension().is_some_and(|x| x == "pack")).count();
    }
    Ok(Findings {
        caches: cache::inspect(git_dir)?,
        legacy_caches: cache::legacy(git_dir),
        index_lock,
        dead_journals,
        objects,
    })
}

/// Clears what [`Findings::fixable`] names; the paths removed.
pub fn fix(git_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut removed = cache::clear_outdated(git_dir)?;
    for legacy in cache::legacy(git_dir) {
        if legacy.is_dir() {
            std::fs::remove_dir_all(&legacy)?;
        } else {
            std::fs::remove_file(&legacy)?;
        }
        removed.push(legacy);
    }
    let lock = git_dir.join("index.lock");
    if lock.exists() && crate::repo::stale(&lock) {
        std::fs::remove_file(&lock)?;
        removed.push(lock);
    }
    Ok(removed)
}
