//! The site's files on disk that are not pages: its caches (through [`crate::cache`]),
//! and pages written only when they change. Shared by the incident pages and the audit index.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::repo::Repo;

/// Writes `bytes` to `path` unless it already holds them; whether it wrote.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, bytes)?;
    Ok(true)
}

/// The file of the site's cache `kind` (`variant` tells apart several of one kind), in
/// the one cache folder ([`crate::cache`]).
pub fn cache_path(repo: &Repo, kind: crate::cache::Kind, variant: &str) -> PathBuf {
    crate::cache::path(repo.git.path(), kind, variant)
}

/// Replaces a cache file whole. A cache that cannot be written is only a slower next
/// build, never a failed one.
pub fn save(path: &Path, kind: crate::cache::Kind, body: &str) {
    let _ = crate::cache::write(path, kind, body);
}
