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

/// Whether a path is governed: written only by ims procedures (see [`crate::paths`]).
pub fn governed(path: &str) -> bool {
    crate::paths::governed(path)
}

/// What went wrong with one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub commit: String,
    pub rule: Rule,
    pub message: String,
}

/// The rule a commit breaks: the name `ims verify` prints (and its `--json` document's
/// `rule`), one variant per check, so no caller compares names as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// What verify could not read or make sense of (a missing object, an unparsable file).
    Unreadable,
    /// The history starts at another root than the pinned one.
    TrustRoot,
    /// A commit time before its parent's, or in the future.
    Time,
    /// Governed files changed without an ims procedure.
    Procedure,
    /// Unsigned, badly signed, or signed by a key not active for the actor at the parent.
    Signature,
    /// Signed by a key revoked (or reported compromised) where the commit stands.
    RevokedKey,
    /// An ungoverned path changed that `ims.yaml`'s `ungoverned` does not list.
    UnlistedPath,
    /// A merge that does not take each governed file from the side that changed it.
    Merge,
    /// The actor may not apply the procedure (at the parent, or after a demotion merged in).
    Authorization,
    /// A commit that does not stand under the people registry its merge brings together.
    MergeAuthorization,
    /// Links between records that do not hold both ways.
    Links,
    /// A read-audit ref entry that is not a signed, linear identify entry of its owner.
    ReadAudit,
    /// A read entry the history vouches for that its ref does not hold.
    ReadAuditAnchor,
    /// A read entry signed by a key of its owner not active at the time.
    ReadAuditKey,
    /// A commit message that is not the rendering of its procedure and input.
    Message,
    /// Author or committer other than the actor, or times that differ.
    Author,
    /// The procedure does not apply to the parent, or gives other bytes.
    Replay,
    /// A written record that fails its schema.
    Schema,
}

impl Rule {
    /// The rule's name, as `ims verify` has always printed it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Unreadable => "unreadable",
            Rule::TrustRoot => "trust-root",
            Rule::Time => "time",
            Rule::Procedure => "procedure",
            Rule::Signature => "signature",
            Rule::RevokedKey => "revoked-key",
            Rule::UnlistedPath => "unlisted-path",
            Rule::Merge => "merge",
            Rule::Authorization => "authorization",
            Rule::MergeAuthorization => "merge-authorization",
            Rule::Links => "links",
            Rule::ReadAudit => "read-audit",
            Rule::ReadAuditAnchor => "read-audit-anchor",
            Rule::ReadAuditKey => "read-audit-key",
            Rule::Message => "message",
            Rule::Author => "author",
            Rule::Replay => "replay",
            Rule::Schema => "schema",
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Path → new bytes (`None`: deleted).
pub type Changes = BTreeMap<String, Option<Vec<u8>>>;

/// The governed files a commit changed relative to `parent` (`None`: deleted).
pub fn governed_changes(
    git: &Repository,
    commit: &Commit,
    parent: Option<Oid>,
) -> Result<BTreeMap<String, Option<Vec<u8>>>> {
    Ok(split_changes(git, commit, parent)?.0)
}

/// The governed files a commit changed (as [`governed_changes`]), and the paths of the
/// other files it changed.
pub fn split_changes(git: &Repository, commit: &Commit, parent: Option<Oid>) -> Result<(Changes, Vec<String>)> {
    let new_tree = commit.tree()?;
    let old_tree = match parent {
        Some(p) => Some(git.find_commit(p)?.tree()?),
        None => None,
    };
    let mut changed = Vec::new();
    tree_changes(git, old_tree.as_ref(), Some(&new_tree), "", &mut changed)?;
    let mut out = BTreeMap::new();
    let mut others = Vec::new();
    for (path, id) in changed {
        if !governed(&path) {
            others.push(path);
            continue;
        }
        let bytes = match id {
            Some(id) => Some(
                git.find_blob(id)
                    .map_err(|_| {
                        Error::invalid(format!(
                            "{path}: {id} is not a readable file (a submodule, a missing object or not a blob)"
                        ))
                    })?
                    .content()
                    .to_vec(),
            ),
            None => None,
        };
        out.insert(path, bytes);
    }
    Ok((out, others))
}

/// The files that differ between two trees: `(path, new blob id)`, `None` for a file
/// removed. A folder whose tree id is the same on both sides is skipped whole, so the
/// cost is the size of the change, not of the repository (libgit2's tree-to-tree diff
/// visits every file of both trees). A change of file mode counts as a change.
fn tree_changes(
    git: &Repository,
    old: Option<&git2::Tree>,
    new: Option<&git2::Tree>,
    prefix: &str,
    out: &mut Vec<(String, Option<Oid>)>,
) -> Result<()> {
    let is_tree = |e: &git2::TreeEntry| e.kind() == Some(git2::ObjectType::Tree);
    let subtree = |e: &git2::TreeEntry| -> Result<Option<git2::Tree<'_>>> {
        Ok(if is_tree(e) { Some(git.find_tree(e.id())?) } else { None })
    };
    // A name that is not UTF-8 cannot be judged governed or not: it is an error, which
    // `ims verify` reports as a violation of the commit.
    let name_of = |e: &git2::TreeEntry| -> Result<String> {
        e.name().map(String::from).map_err(|_| {
            Error::invalid(format!(
                "{prefix}{}: a file name that is not UTF-8",
                String::from_utf8_lossy(e.name_bytes())
            ))
        })
    };
    if let Some(new) = new {
        for entry in new.iter() {
            let name = name_of(&entry)?;
            let name = name.as_str();
            let path = format!("{prefix}{name}");
            // `..`, `.git` and the like would reach outside the working tree when checked
            // out or synced: a violation wherever they are, ungoverned folders included.
            crate::repo::check_repo_path(&path)?;
            let before = old.and_then(|o| o.get_name(name));
            if before.as_ref().is_some_and(|b| b.id() == entry.id() && b.filemode() == entry.filemode()) {
                continue;
            }
            let old_sub = match &before {
                Some(b) => subtree(b)?,
                None => None,
            };
            if is_tree(&entry) {
                tree_changes(git, old_sub.as_ref(), subtree(&entry)?.as_ref(), &format!("{path}/"), out)?;
                if before.as_ref().is_some_and(|b| !is_tree(b)) {
                    out.push((path, None)); // a file became a folder
                }
            } else {
                if old_sub.is_some() {
                    tree_changes(git, old_sub.as_ref(), None, &format!("{path}/"), out)?;
                    // a folder became a file
                }
                out.push((path, Some(entry.id())));
            }
        }
    }
    if let Some(old) = old {
        for entry in old.iter() {
            let name = name_of(&entry)?;
            let name = name.as_str();
            if new.is_some_and(|n| n.get_name(name).is_some()) {
                continue;
            }
            let path = format!("{prefix}{name}");
            match subtree(&entry)? {
                Some(sub) => tree_changes(git, Some(&sub), None, &format!("{path}/"), out)?,
                None => out.push((path, None)),
            }
        }
    }
    Ok(())
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
        |rule: Rule, message: String| Ok(Replay::Failed(Violation { commit: oid.to_string(), rule, message }));
    let message = commit.message().map_err(|_| Error::invalid(format!("{oid}: message is not UTF-8")))?;
    let Some(trailers) = engine::parse_trailers(message) else {
        if changes.is_empty() {
            return Ok(Replay::Ignored);
        }
        let paths: Vec<&str> = changes.keys().map(String::as_str).collect();
        return violation(
            Rule::Procedure,
            format!("changes governed files ({}) without an ims procedure", paths.join(", ")),
        );
    };
    let input: serde_json::Value = match serde_json::from_str(&trailers.input) {
        Ok(v) => v,
        Err(e) => return violation(Rule::Message, format!("Ims-Input is not JSON: {e}")),
    };
    if engine::canonical_json(&input)? != trailers.input {
        return violation(Rule::Message, "Ims-Input is not in canonical (RFC 8785) form".into());
    }
    let time = commit.time().seconds();
    let now = Utc.timestamp_opt(time, 0).single().ok_or_else(|| Error::invalid(format!("{oid}: bad commit time")))?;
    let (author, committer) = (commit.author(), commit.committer());
    if author.email() != Ok(trailers.actor.as_str()) || committer.email() != Ok(trailers.actor.as_str()) {
        return violation(Rule::Author, format!("author and committer must both be the actor {}", trailers.actor));
    }
    if author.when().seconds() != time {
        return violation(Rule::Author, "author time differs from commit time".into());
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
    let ctx = Ctx { snap, actor: &trailers.actor, now, rules: crate::hygiene::Rules::Recorded };
    let effect = match crate::procedures::apply_by_id(&trailers.procedure, &ctx, &input) {
        Ok(e) => e,
        Err(e) if e.kind == crate::error::Kind::Forbidden => {
            return violation(
                Rule::Authorization,
                format!("{} as {}: {}", trailers.procedure, trailers.actor, e.message),
            )
        }
        Err(e) => {
            return violation(
                Rule::Replay,
                format!("{} does not apply to the parent: {}", trailers.procedure, e.message),
            )
        }
    };
    if let Err(e) = engine::validate_writes(&effect) {
        return violation(Rule::Schema, e.message);
    }
    let expected = engine::render_message(&trailers.procedure, &trailers.actor, &trailers.input, &effect);
    if expected != engine::split_read_anchor(message).0 {
        return violation(
            Rule::Message,
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
                Rule::Replay,
                format!("{path}: the commit's bytes differ from what {} makes", trailers.procedure),
            );
        }
    }
    if let Some(extra) = changes.keys().find(|p| !effect.writes.contains_key(*p)) {
        return violation(Rule::Replay, format!("{extra}: changed, but {} does not write it", trailers.procedure));
    }
    Ok(Replay::Proved(Box::new(effect)))
}

/// A write that leaves a file as it was shows up in no diff.
fn unchanged(snap: &dyn crate::model::Snapshot, path: &str, bytes: &Option<Vec<u8>>) -> Result<bool> {
    Ok(&snap.read(path)? == bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree from `(path, content, executable)` files.
    fn tree(git: &Repository, files: &[(&str, &str, bool)]) -> Oid {
        let mut update = git2::build::TreeUpdateBuilder::new();
        for (path, content, exec) in files {
            let mode = if *exec { git2::FileMode::BlobExecutable } else { git2::FileMode::Blob };
            update.upsert(*path, git.blob(content.as_bytes()).unwrap(), mode);
        }
        let empty = git.treebuilder(None).unwrap().write().unwrap();
        update.create_updated(git, &git.find_tree(empty).unwrap()).unwrap()
    }

    /// What libgit2's full diff says changed, for comparison.
    fn libgit2_changes(git: &Repository, old: Oid, new: Oid) -> Vec<(String, Option<Oid>)> {
        let (old, new) = (git.find_tree(old).unwrap(), git.find_tree(new).unwrap());
        let diff = git.diff_tree_to_tree(Some(&old), Some(&new), None).unwrap();
        let mut out: Vec<(String, Option<Oid>)> = diff
            .deltas()
            .map(|d| {
                let file = d.new_file();
                let path = file.path().or_else(|| d.old_file().path()).unwrap().to_str().unwrap().to_string();
                (path, (!file.id().is_zero()).then(|| file.id()))
            })
            .collect();
        out.sort();
        out
    }

    #[test]
    fn a_rule_prints_and_serializes_as_its_name() {
        assert_eq!(Rule::UnlistedPath.to_string(), "unlisted-path");
        assert_eq!(serde_json::to_string(&Rule::MergeAuthorization).unwrap(), "\"merge-authorization\"");
        assert_eq!(Rule::ReadAuditAnchor.as_str(), "read-audit-anchor");
    }

    #[test]
    fn tree_changes_agree_with_a_full_diff() {
        let dir = tempfile::tempdir().unwrap();
        let git = Repository::init(dir.path()).unwrap();
        let before = tree(
            &git,
            &[
                ("ims.yaml", "a", false),
                ("records/incidents/2026/01/01/A.yaml", "a", false),
                ("records/incidents/2026/01/02/B.yaml", "b", false),
                ("records/keys/x.yaml", "x", false),
                ("people/p.yaml", "p", false),
                ("gone/deep/file", "g", false),
                ("becomes-folder", "f", false),
                ("was/folder/file", "w", false),
                ("script", "s", false),
            ],
        );
        let after = tree(
            &git,
            &[
                ("ims.yaml", "a", false),                             // same
                ("records/incidents/2026/01/01/A.yaml", "a2", false), // changed
                ("records/incidents/2026/01/02/B.yaml", "b", false),  // same folder, skipped
                ("records/incidents/2026/01/03/C.yaml", "c", false),  // added
                ("people/p.yaml", "p", false),
                ("becomes-folder/inner", "i", false), // file → folder
                ("was", "now a file", false),         // folder → file
                ("script", "s", true),                // mode only
            ],
        );
        for (old, new) in [(before, after), (after, before)] {
            let mut ours = Vec::new();
            let (o, n) = (git.find_tree(old).unwrap(), git.find_tree(new).unwrap());
            tree_changes(&git, Some(&o), Some(&n), "", &mut ours).unwrap();
            ours.sort();
            assert_eq!(ours, libgit2_changes(&git, old, new));
        }
        let mut all = Vec::new();
        tree_changes(&git, None, Some(&git.find_tree(before).unwrap()), "", &mut all).unwrap();
        assert_eq!(all.len(), 9, "from nothing, every file is new");
    }
}
