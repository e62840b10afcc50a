//! `ims doctor [--fix]`: the caches, stale locks and object counts (`ims_io::doctor`).
//! It opens the repository with git alone, so a stale lock is reported before
//! anything clears it.

use clap::Args;
use serde_json::json;

use super::Env;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Delete outdated or corrupt caches and an `index.lock` left by an ims that is gone
    /// (a cache only saves time: it is rebuilt when needed).
    #[arg(long)]
    pub fix: bool,
}

pub fn run(env: &Env, a: DoctorArgs) -> Result<()> {
    let git = git2::Repository::discover(&env.dir)
        .map_err(|_| Error::invalid(format!("{}: not inside a git repository (run `ims init`)", env.dir.display())))?;
    let git_dir = git.path().to_path_buf();
    let before = crate::doctor::examine(&git_dir)?;
    let removed = if a.fix { crate::doctor::fix(&git_dir)? } else { vec![] };
    let found = if a.fix { crate::doctor::examine(&git_dir)? } else { before.clone() };
    let doc = json!({
        "ok": true,
        "cache_dir": crate::cache::dir(&git_dir),
        "caches": found.caches,
        "legacy_caches": found.legacy_caches,
        "index_lock": found.index_lock,
        "dead_journals": found.dead_journals,
        "objects": found.objects,
        "fixable": found.fixable(),
        "removed": removed,
    });
    env.ui.data(doc, || {
        let mut t = format!("caches in {}:\n", crate::cache::dir(&git_dir).display());
        if found.caches.is_empty() {
            t.push_str("  none\n");
        }
        for c in &found.caches {
            let name = c.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let state = if c.current { "current" } else { "outdated or corrupt (ims doctor --fix deletes it)" };
            t.push_str(&format!(
                "  {name:<40} {:<24} {:>10} bytes {:>8} entries  {state}\n",
                c.format.as_deref().unwrap_or("(no header)"),
                c.bytes,
                c.entries
            ));
        }
        for l in &found.legacy_caches {
            t.push_str(&format!("  {}: a cache of an earlier ims (ims doctor --fix deletes it)\n", l.display()));
        }
        match &found.index_lock {
            None => t.push_str("index.lock: none\n"),
            Some(l) if l.stale => t.push_str(&format!(
                "index.lock: left by ims process {} which is gone (ims doctor --fix removes it)\n",
                l.pid.unwrap_or(0)
            )),
            Some(l) => match l.pid {
                Some(pid) => t.push_str(&format!("index.lock: held by ims process {pid}, running\n")),
                None => t.push_str("index.lock: held by another program (git?); remove it only if none is running\n"),
            },
        }
        for j in &found.dead_journals {
            t.push_str(&format!(
                "journal of a process that is gone: {} (the next ims command finishes it)\n",
                j.display()
            ));
        }
        t.push_str(&format!("objects: {} loose, {} packs\n", found.objects.loose, found.objects.packs));
        for r in &removed {
            t.push_str(&format!("removed {}\n", r.display()));
        }
        if !a.fix && found.fixable() {
            t.push_str("run `ims doctor --fix` to clear what is marked\n");
        }
        t
    });
    Ok(())
}
