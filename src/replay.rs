//! Replay: re-apply the procedure a commit names to its parent's records and check that
//! it gives exactly the commit — message, author, time and every governed byte.
//!
//! This is the heart of verification: a record can be trusted because the signed
//! procedure that wrote it, replayed by any later ims, gives the same bytes.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use git2::{Commit, Oid, Repository};

use crate::engine::{self, Ctx};
use crate::error::{Error, Result};
use crate::model::EmptySnapshot;
use crate::repo::TreeSnapshot;

/// Whether a path is governed: written only by ims procedures.
pub fn governed(path: &str) -> bool {
    path == "ims.yaml" || path == "allowed_signers" || path.starts_with("people/") || path.starts_with("records/")
}

/// What went wrong with one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub commit: String,
    pub rule: &'static str,
    pub message: String,
}

/// The governed files a commit changed relative to `parent` (`None`: deleted).
pub fn governed_changes(
    git: &Repository,
    commit: &Commit,
    parent: Option<Oid>,
) -> Result<BTreeMap<String, Option<Vec<u8>>>> {
    let new_tree = commit.tree()?;
    let old_tree = match parent {
        Some(p) => Some(git.find_commit(p)?.tree()?),
        None => None,
    };
    let diff = git.diff_tree_to_tree(old_tree.as_ref(), Some(&new_tree), None)?;
    let mut out = BTreeMap::new();
    for delta in diff.deltas() {
        let file = delta.new_file();
        let Some(path) = file.path().or_else(|| delta.old_file().path()).and_then(|p| p.to_str()) else { continue };
        if !governed(path) {
            continue;
        }
        let bytes = if file.id().is_zero() { None } else { Some(git.find_blob(file.id())?.content().to_vec()) };
        out.insert(path.to_string(), bytes);
    }
    Ok(out)
}

/// Replays one commit on its first parent. `Ok(None)` for a commit that touches no
/// governed path and is not an ims procedure (ignored, as DESIGN.md says).
pub fn replay_commit(git: &Repository, oid: Oid) -> Result<Option<Violation>> {
    let commit = git.find_commit(oid)?;
    let changes = governed_changes(git, &commit, commit.parent_ids().next())?;
    replay_with_changes(git, &commit, &changes)
}

/// What replaying one commit found.
pub enum Replay {
    /// Not an ims commit, and it touches no governed path.
    Ignored,
    /// The commit is exactly what its procedure makes; here is the effect.
    Proved(Box<crate::engine::Effect>),
    Failed(Violation),
}

/// [`replay_commit`] with the commit's governed changes already at hand.
pub fn replay_with_changes(
    git: &Repository,
    commit: &Commit,
    changes: &BTreeMap<String, Option<Vec<u8>>>,
) -> Result<Option<Violation>> {
    Ok(match replay_outcome(git, commit, changes)? {
        Replay::Failed(v) => Some(v),
        _ => None,
    })
}

/// Replays one commit and says what it found, keeping the effect when it proves.
pub fn replay_outcome(
    git: &Repository,
    commit: &Commit,
    changes: &BTreeMap<String, Option<Vec<u8>>>,
) -> Result<Replay> {
    let oid = commit.id();
    let parent = commit.parent_ids().next();
    let violation =
        |rule: &'static str, message: String| Ok(Replay::Failed(Violation { commit: oid.to_string(), rule, message }));
    let message = commit.message().map_err(|_| Error::invalid(format!("{oid}: message is not UTF-8")))?;
    let Some(trailers) = engine::parse_trailers(message) else {
        if changes.is_empty() {
            return Ok(Replay::Ignored);
        }
        let paths: Vec<&str> = changes.keys().map(String::as_str).collect();
        return violation(
            "procedure",
            format!("changes governed files ({}) without an ims procedure", paths.join(", ")),
        );
    };
    let input: serde_json::Value = match serde_json::from_str(&trailers.input) {
        Ok(v) => v,
        Err(e) => return violation("message", format!("Ims-Input is not JSON: {e}")),
    };
    if engine::canonical_json(&input)? != trailers.input {
        return violation("message", "Ims-Input is not in canonical (RFC 8785) form".into());
    }
    let time = commit.time().seconds();
    let now = Utc.timestamp_opt(time, 0).single().ok_or_else(|| Error::invalid(format!("{oid}: bad commit time")))?;
    let (author, committer) = (commit.author(), commit.committer());
    if author.email() != Ok(trailers.actor.as_str()) || committer.email() != Ok(trailers.actor.as_str()) {
        return violation("author", format!("author and committer must both be the actor {}", trailers.actor));
    }
    if author.when().seconds() != time {
        return violation("author", "author time differs from commit time".into());
    }
    let tree_snap;
    let empty = EmptySnapshot;
    let snap: &dyn crate::model::Snapshot = match parent {
        Some(p) => {
            tree_snap = TreeSnapshot::new(git, Some(p))?;
            &tree_snap
        }
        None => &empty,
    };
    let ctx = Ctx { snap, actor: &trailers.actor, now };
    let effect = match crate::procedures::apply_by_id(&trailers.procedure, &ctx, &input) {
        Ok(e) => e,
        Err(e) if e.kind == crate::error::Kind::Forbidden => {
            return violation("authorization", format!("{} as {}: {}", trailers.procedure, trailers.actor, e.message))
        }
        Err(e) => {
            return violation("replay", format!("{} does not apply to the parent: {}", trailers.procedure, e.message))
        }
    };
    if let Err(e) = engine::validate_writes(&effect) {
        return violation("schema", e.message);
    }
    let expected = engine::render_message(&trailers.procedure, &trailers.actor, &trailers.input, &effect);
    if expected != message {
        return violation(
            "message",
            format!("the message is not the rendering of {} and its input", trailers.procedure),
        );
    }
    for (path, bytes) in &effect.writes {
        let same = match changes.get(path) {
            Some(changed) => changed == bytes,
            None => unchanged(snap, path, bytes)?,
        };
        if !same {
            return violation(
                "replay",
                format!("{path}: the commit's bytes differ from what {} makes", trailers.procedure),
            );
        }
    }
    if let Some(extra) = changes.keys().find(|p| !effect.writes.contains_key(*p)) {
        return violation("replay", format!("{extra}: changed, but {} does not write it", trailers.procedure));
    }
    Ok(Replay::Proved(Box::new(effect)))
}

/// A write that leaves a file as it was shows up in no diff.
fn unchanged(snap: &dyn crate::model::Snapshot, path: &str, bytes: &Option<Vec<u8>>) -> Result<bool> {
    Ok(&snap.read(path)? == bytes)
}
