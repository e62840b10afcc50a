//! The site's files on disk that are not pages: its caches (through [`crate::cache`]),
//! and pages written only when they change. Shared by the incident pages and the audit index.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::repo::Repo;

/// Writes `bytes` to `path` unless it already holds them; whether it wrote. A symbolic
/// link at `path` is replaced by the page, never written through: whoever could put a
/// link in the site's folder must not make a build overwrite the file it points at.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if link {
        std::fs::remove_file(path)?;
    } else if std::fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(false);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    // O_NOFOLLOW: a link put there since the check above fails the write instead.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(bytes)?;
    Ok(true)
}

/// Refuses a folder of the site that is a symbolic link: pages written there would land
/// wherever it points (the output folder itself may be a link; what ims makes in it not).
pub fn real_folder(dir: &Path) -> Result<()> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(crate::error::Error::invalid(format!(
            "{}: is a symbolic link; ims writes pages only into folders of the site itself (remove the link)",
            dir.display()
        ))),
        _ => Ok(()),
    }
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
