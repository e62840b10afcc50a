//! The KPI facts of every incident at a commit, kept in the report cache
//! ([`crate::cache::REPORT`]) so a warm `ims report` reads one file instead of every
//! record.
//!
//! It is a per-blob cache ([`crate::cache::blobs`]): one line of facts per incident file
//! content ([`Facts::to_cache_line`]), and the files of each day folder, so a folder seen
//! before is not read from git at all. A facts line that does not parse makes the blob be
//! read again: the cache can cost time, never change a figure.

use std::collections::HashMap;

use git2::Oid;

use crate::cache::blobs::{self, Lines, Walk};
use crate::error::Result;
use crate::repo::Repo;
use ims_core::report::Facts;

/// The folder of incident records.
const DIR: &str = "records/incidents";

/// The facts of one blob from its content.
fn from_blob(
    git: &git2::Repository,
    workdir: Option<&std::path::Path>,
    oid: Oid,
    path: Option<&String>,
) -> Result<Facts> {
    let bytes = blobs::content(git, workdir, oid, path.map(String::as_str))?;
    let what = path.cloned().unwrap_or_else(|| format!("incident blob {oid}"));
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(&bytes),
    };
    Ok(Facts::from_text(&text, &what)?)
}

/// The facts of every incident at `tip`, in tree order: from the cache where the blob was
/// seen before, parsing the rest (and the cached lines) on all cores.
pub fn incident_facts(repo: &Repo, tip: Option<Oid>) -> Result<Vec<Facts>> {
    // Reports read records, they do not prove them (that is `ims verify`'s job, which
    // keeps libgit2's hash check on): skip re-hashing every object read.
    git2::opts::strict_hash_verification(false);
    let cache_path = crate::cache::path(repo.git.path(), crate::cache::REPORT, "");
    let text = crate::cache::read(&cache_path, crate::cache::REPORT).unwrap_or_default();
    let lines = Lines::index(&text);
    let snap = repo.snapshot(tip)?;
    let found = Walk::of(&repo.git, snap.subtree(DIR)?.map(|t| t.id()), DIR, &lines)?;

    let git_dir = repo.git.path().to_path_buf();
    let workdir = repo.git.workdir().map(|w| w.to_path_buf());
    // Each blob's facts, and whether they had to be read from the blob (then they are
    // new to the cache).
    let parsed = blobs::on_every_core(&git_dir, &found, &lines, |oid, line, git| {
        if let Some(f) = line.and_then(|l| Facts::from_cache_line(l).ok()) {
            return Ok((f, false));
        }
        Ok((from_blob(git.get()?, workdir.as_deref(), oid, found.paths.get(&oid))?, true))
    })?;
    let mut facts = Vec::with_capacity(parsed.len());
    let mut fresh = HashMap::new();
    for ((f, new), oid) in parsed.into_iter().zip(&found.blobs) {
        if new {
            fresh.insert(*oid, f.to_cache_line()?);
        }
        facts.push(f);
    }
    blobs::save(&cache_path, crate::cache::REPORT, &lines, &found, &fresh);
    Ok(facts)
}
