//! Keeping the object store packed, as `git gc --auto` does: every procedure and every
//! audited read writes a handful of loose objects, and a year of them (or one run of
//! `ims demo`) would leave tens of thousands of files in `.git/objects`. After each
//! commit ims makes, [`after_write`] looks at the store the cheap way git does — the
//! number of files in `objects/17`, times 256, against git's `gc.auto` (6,700), and the
//! number of packs against `gc.autoPackLimit` (50) — and when either is crossed runs
//! `git gc --auto` in the foreground (`gc.autoDetach=false`): the packing is finished
//! before the command returns, never left to a background process that outlives it.
//! A repository's own `gc.auto` / `gc.autoPackLimit` settings are honoured (git reads
//! them), including `gc.auto=0`, which turns automatic packing off.

use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};

/// git's default `gc.auto`: loose objects before `git gc --auto` packs them.
pub const LOOSE_LIMIT: usize = 6700;
/// git's default `gc.autoPackLimit`: packs before they are consolidated into one.
pub const PACK_LIMIT: usize = 50;

/// Loose objects as `git gc --auto` estimates them: those in `objects/17`, times 256.
pub fn estimated_loose(git_dir: &Path) -> usize {
    std::fs::read_dir(git_dir.join("objects").join("17"))
        .map(|d| d.flatten().filter(|e| e.file_name().len() == 38).count())
        .unwrap_or(0)
        * 256
}

/// The number of packs in the store.
pub fn packs(git_dir: &Path) -> usize {
    std::fs::read_dir(git_dir.join("objects").join("pack"))
        .map(|d| d.flatten().filter(|p| p.path().extension().is_some_and(|x| x == "pack")).count())
        .unwrap_or(0)
}

/// Whether git's default thresholds are crossed (the check after every write: one
/// directory listing, and a second only when the first says nothing).
pub fn needs_packing(git_dir: &Path) -> bool {
    // git packs when the estimate exceeds gc.auto rounded up to a whole sample.
    let sample_limit = LOOSE_LIMIT.div_ceil(256) * 256;
    estimated_loose(git_dir) > sample_limit || packs(git_dir) > PACK_LIMIT
}

/// Runs `git gc` in the foreground; `auto` leaves the decision (and the repository's
/// own thresholds) to git.
pub fn gc(git_dir: &Path, auto: bool) -> Result<()> {
    let mut cmd = Command::new("git");
    cmd.arg("--git-dir").arg(git_dir).args(["-c", "gc.autoDetach=false", "gc", "--quiet"]);
    if auto {
        cmd.arg("--auto");
    }
    let out = cmd.output().map_err(|e| Error::internal(format!("git gc: cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::internal(format!(
            "git gc in {}: {}",
            git_dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// After a commit: packs the store when git's thresholds are crossed; whether it did.
pub fn after_write(git_dir: &Path) -> Result<bool> {
    if !needs_packing(git_dir) {
        return Ok(false);
    }
    gc(git_dir, true)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loose_in_17(git_dir: &Path, n: usize) {
        let dir = git_dir.join("objects").join("17");
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..n {
            std::fs::write(dir.join(format!("{i:038x}")), b"x").unwrap();
        }
    }

    #[test]
    fn the_threshold_is_gits_estimate_of_gc_auto() {
        let tmp = tempfile::tempdir().unwrap();
        let git_dir = tmp.path();
        std::fs::create_dir_all(git_dir.join("objects/pack")).unwrap();
        assert!(!needs_packing(git_dir));
        // 27 * 256 = 6912 is git's own limit for gc.auto = 6700 (sampled in whole 256ths).
        loose_in_17(git_dir, 27);
        assert_eq!(estimated_loose(git_dir), 27 * 256);
        assert!(!needs_packing(git_dir), "at the limit, not over it");
        loose_in_17(git_dir, 28);
        assert!(needs_packing(git_dir));
    }

    #[test]
    fn too_many_packs_need_packing_too() {
        let tmp = tempfile::tempdir().unwrap();
        let pack = tmp.path().join("objects/pack");
        std::fs::create_dir_all(&pack).unwrap();
        for i in 0..=PACK_LIMIT {
            std::fs::write(pack.join(format!("pack-{i}.pack")), b"").unwrap();
        }
        assert_eq!(packs(tmp.path()), PACK_LIMIT + 1);
        assert!(needs_packing(tmp.path()));
    }
}
