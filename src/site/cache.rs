//! The site's files on disk that are not pages: its caches, and pages written only when
//! they change. Shared by the incident pages and the audit index.

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

/// The folder of the site's caches, inside the repository's git directory.
pub fn cache_dir(repo: &Repo) -> PathBuf {
    repo.git.path().join("ims")
}

/// Replaces a cache file whole. A cache that cannot be written is only a slower next
/// build, never a failed one.
pub fn save(path: &Path, body: &str) {
    let _ = crate::repo::write_atomically(path, body.as_bytes());
}
