//! The site's files on disk that are not pages: its caches (through [`crate::cache`]),
//! and pages written only when they change. Shared by the incident pages and the audit index.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::repo::Repo;

/// Writes `bytes` to `path` unless it already holds them; whether it wrote. A symbolic
/// link at `path` is replaced by the page, never read or written through (both opens
/// use O_NOFOLLOW, so this costs no extra call): whoever could put a link in the site's
/// folder must not make a build overwrite the file it points at.
pub fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<bool> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let nofollow = |o: &mut std::fs::OpenOptions| o.custom_flags(libc::O_NOFOLLOW).open(path);
    match nofollow(std::fs::OpenOptions::new().read(true)) {
        Ok(mut f) => {
            let mut old = Vec::with_capacity(bytes.len());
            if f.read_to_end(&mut old).is_ok() && old == bytes {
                return Ok(false);
            }
        }
        // ELOOP: a link. Remove it (the link, not what it points at).
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => std::fs::remove_file(path)?,
        Err(_) => {}
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    // A link put there since the read fails the write instead of being followed.
    let mut f = nofollow(std::fs::OpenOptions::new().write(true).create(true).truncate(true))?;
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
