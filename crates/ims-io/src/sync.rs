//! `ims sync [--push]`: meet the remote without a textual merge. Fetch; if both sides
//! moved, replay the user's unpushed procedures onto the remote tip (re-applied to the
//! new parent state, re-signed by the same user); push with a lease. A procedure that
//! no longer applies stops the sync with `conflict`, naming it, and changes nothing.
//!
//! Network operations go through the `git` command, so the user's remotes, credentials
//! and SSH set-up work as they do for git itself.

use std::collections::BTreeMap;
use std::process::Command;

use chrono::{TimeZone, Utc};
use git2::Oid;

use crate::engine::{self, Ctx};
use crate::error::{Error, Result};
use crate::repo::{Repo, Stamp};
use crate::run::{self, Identity};

/// What a sync did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub remote: String,
    pub branch: String,
    /// `up-to-date`, `fast-forward`, `ahead`, `replayed`, `created`.
    pub action: String,
    pub replayed: Vec<String>,
    pub tip: String,
    pub pushed: bool,
}

fn git(repo: &Repo, args: &[&str]) -> Result<String> {
    git_in(repo.root(), args)
}

/// Runs the git command in `dir` and returns its standard output; a failure names the
/// command and carries git's own message.
pub fn git_in(dir: &std::path::Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| Error::internal(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::internal(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Syncs the branch HEAD names with `remote`.
pub fn sync(repo: &Repo, identity: &Identity, remote: &str, push: bool) -> Result<Outcome> {
    run::authenticate(repo, identity)?;
    let branch_ref = repo.branch()?;
    let branch = branch_ref.trim_start_matches("refs/heads/").to_string();
    repo.git
        .find_remote(remote)
        .map_err(|_| Error::invalid(format!("remote `{remote}`: not configured (git remote add {remote} URL)")))?;
    let tracking = format!("refs/remotes/{remote}/{branch}");
    let reads = format!("refs/ims/remote/{remote}/reads");
    // The remote may be empty: fetch what exists.
    let heads = git(repo, &["ls-remote", "--heads", remote, &branch])?;
    let mut fetch = vec!["fetch".to_string(), "--quiet".into(), remote.to_string()];
    if !heads.trim().is_empty() {
        fetch.push(format!("+refs/heads/{branch}:{tracking}"));
    }
    fetch.push(format!("+refs/ims/audit/reads/*:{reads}/*"));
    git(repo, &fetch.iter().map(String::as_str).collect::<Vec<_>>())?;
    let remote_tip = if heads.trim().is_empty() { None } else { Some(repo.git.refname_to_id(&tracking)?) };
    let local_tip = repo.tip()?.ok_or_else(|| Error::invalid("nothing to sync: the branch has no commits"))?;
    let mut outcome = Outcome {
        remote: remote.into(),
        branch: branch.clone(),
        action: "up-to-date".into(),
        replayed: vec![],
        tip: local_tip.to_string(),
        pushed: false,
    };
    let new_tip = match remote_tip {
        None => {
            outcome.action = "created".into();
            local_tip
        }
        Some(r) if r == local_tip => local_tip,
        Some(r) if repo.git.graph_descendant_of(r, local_tip)? => {
            outcome.action = "fast-forward".into();
            move_branch(repo, &branch_ref, local_tip, r)?;
            r
        }
        Some(r) if repo.git.graph_descendant_of(local_tip, r)? => {
            outcome.action = "ahead".into();
            local_tip
        }
        Some(r) => {
            let (tip, replayed) = replay_onto(repo, identity, r, local_tip)?;
            move_branch(repo, &branch_ref, local_tip, tip)?;
            outcome.action = "replayed".into();
            outcome.replayed = replayed;
            tip
        }
    };
    outcome.tip = new_tip.to_string();
    adopt_read_refs(repo, &reads)?;
    if push {
        let lease = match remote_tip {
            Some(r) => format!("--force-with-lease=refs/heads/{branch}:{r}"),
            None => format!("--force-with-lease=refs/heads/{branch}:"),
        };
        let mut args = vec!["push".to_string(), "--quiet".into(), "--atomic".into(), lease, remote.into()];
        args.push(format!("{new_tip}:refs/heads/{branch}"));
        let own = crate::query::read_audit_ref(&identity.actor);
        if repo.git.refname_to_id(&own).is_ok() {
            args.push(format!("{own}:{own}"));
        }
        git(repo, &args.iter().map(String::as_str).collect::<Vec<_>>()).map_err(|e| {
            Error::conflict(format!("push refused ({}); the remote moved: run `ims sync --push` again", e.message))
        })?;
        git(repo, &["update-ref", &tracking, &new_tip.to_string()])?;
        outcome.pushed = true;
    }
    crate::run::upkeep(repo);
    Ok(outcome)
}

/// Re-applies each commit of `remote..local` on top of `remote`, oldest first.
fn replay_onto(repo: &Repo, identity: &Identity, remote: Oid, local: Oid) -> Result<(Oid, Vec<String>)> {
    let git = &repo.git;
    let mut walk = git.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    walk.push(local)?;
    walk.hide(remote)?;
    let unpushed: Vec<Oid> = walk.collect::<std::result::Result<_, _>>()?;
    let mut tip = remote;
    let mut replayed = Vec::new();
    for oid in unpushed {
        let commit = git.find_commit(oid)?;
        if commit.parent_count() > 1 {
            return Err(Error::conflict(format!(
                "{oid}: an unpushed merge cannot be replayed; push or reset it first"
            )));
        }
        let message = commit.message().unwrap_or("").to_string();
        let Some(trailers) = engine::parse_trailers(&message) else {
            // An ordinary commit (README, CI files): carried over as it is.
            tip = carry_over(repo, &commit, tip)?;
            continue;
        };
        if trailers.actor != identity.actor {
            return Err(Error::conflict(format!(
                "{oid}: a procedure of {}; only its own author can re-sign it",
                trailers.actor
            )));
        }
        let input: serde_json::Value = serde_json::from_str(&trailers.input)?;
        let parent_time = Utc.timestamp_opt(git.find_commit(tip)?.time().seconds(), 0).single().unwrap_or_default();
        let original = Utc.timestamp_opt(commit.time().seconds(), 0).single().unwrap_or_default();
        let now = original.max(parent_time);
        let snap = repo.snapshot(Some(tip))?;
        let ctx = Ctx { snap: &snap, actor: &trailers.actor, now, rules: crate::hygiene::Rules::Recorded };
        let subject = message.lines().next().unwrap_or("").to_string();
        // Re-applies a recorded input: the rules it was recorded under (hygiene::Rules::Recorded).
        let effect = crate::procedures::apply_by_id(&trailers.procedure, &ctx, &input).map_err(|e| {
            Error::conflict(format!(
                "{subject} ({}) no longer applies on the remote tip: {}",
                &oid.to_string()[..10],
                e.message
            ))
        })?;
        engine::validate_writes(&effect)?;
        let rendered = engine::render_message(&trailers.procedure, &trailers.actor, &trailers.input, &effect);
        let rendered = engine::with_read_anchor(rendered, crate::query::read_audit_tip(repo, &trailers.actor));
        let name = commit.author().name().unwrap_or(&trailers.actor).to_string();
        let stamp = Stamp { name: &name, email: &trailers.actor, at: now };
        tip = repo.create_commit(Some(tip), &effect.writes, &rendered, &stamp, &|buf| identity.signer.sign(buf))?;
        replayed.push(subject);
    }
    Ok((tip, replayed))
}

/// Re-creates an ordinary commit's changes on a new parent.
fn carry_over(repo: &Repo, commit: &git2::Commit, parent: Oid) -> Result<Oid> {
    let git = &repo.git;
    let old_parent = commit.parent(0)?.tree()?;
    let diff = git.diff_tree_to_tree(Some(&old_parent), Some(&commit.tree()?), None)?;
    let mut writes = BTreeMap::new();
    for delta in diff.deltas() {
        let file = delta.new_file();
        let Some(path) = file.path().or_else(|| delta.old_file().path()).and_then(|p| p.to_str()) else { continue };
        if crate::replay::governed(path) {
            return Err(Error::conflict(format!("{}: changes records without a procedure", commit.id())));
        }
        let bytes = if file.id().is_zero() { None } else { Some(git.find_blob(file.id())?.content().to_vec()) };
        writes.insert(path.to_string(), bytes);
    }
    let base = git.find_commit(parent)?.tree()?;
    let mut update = git2::build::TreeUpdateBuilder::new();
    for (path, bytes) in &writes {
        match bytes {
            Some(b) => {
                let blob = git.blob(b)?;
                update.upsert(path.as_str(), blob, git2::FileMode::Blob);
            }
            None => {
                update.remove(path.as_str());
            }
        }
    }
    let tree = git.find_tree(update.create_updated(git, &base)?)?;
    let new_parent = git.find_commit(parent)?;
    Ok(git.commit(
        None,
        &commit.author(),
        &commit.committer(),
        commit.message().unwrap_or(""),
        &tree,
        &[&new_parent],
    )?)
}

/// Moves the branch from `old` to `new` and brings every path that differs into the
/// working tree and index, under git's index lock; local edits to them halt first.
fn move_branch(repo: &Repo, branch: &str, old: Oid, new: Oid) -> Result<()> {
    let a = repo.git.find_commit(old)?.tree()?;
    let b = repo.git.find_commit(new)?.tree()?;
    let diff = repo.git.diff_tree_to_tree(Some(&a), Some(&b), None)?;
    let paths: Vec<String> = diff
        .deltas()
        .filter_map(|d| d.new_file().path().or_else(|| d.old_file().path()).and_then(|p| p.to_str()).map(String::from))
        .collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let mut lock = repo.lock_index()?;
    if let Some(lock) = &mut lock {
        repo.check_clean(lock, Some(old), &paths)?;
    }
    let mut journal = repo.journal(new, &paths)?;
    if !repo.compare_and_swap(branch, Some(old), new, "ims: sync")? {
        return Err(Error::conflict(format!("{branch}: moved during the sync; run it again")));
    }
    journal.keep();
    crate::run::pause_point("after-ref-update");
    if let Some(lock) = lock {
        repo.update_worktree(lock, &paths)?;
    }
    journal.done();
    Ok(())
}

/// Takes the remote's read-audit refs where they only add to ours.
fn adopt_read_refs(repo: &Repo, fetched: &str) -> Result<()> {
    for reference in repo.git.references_glob(&format!("{fetched}/*"))? {
        let reference = reference?;
        let (Some(name), Some(theirs)) = (reference.name().ok().map(String::from), reference.target()) else {
            continue;
        };
        let local = format!("refs/ims/audit/reads/{}", name.trim_start_matches(&format!("{fetched}/")));
        match repo.git.refname_to_id(&local) {
            Err(_) => {
                repo.git.reference(&local, theirs, false, "ims sync: read audit")?;
            }
            Ok(ours) if ours != theirs && repo.git.graph_descendant_of(theirs, ours)? => {
                repo.git.reference_matching(&local, theirs, true, ours, "ims sync: read audit")?;
            }
            Ok(_) => {}
        }
    }
    Ok(())
}
