//! The imperative shell around the pure procedures: who is acting and with which key,
//! what time it is, and the load → apply → validate → commit loop of DESIGN.md
//! "How a procedure runs", with compare-and-swap and re-apply on a moved tip.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, SubsecRound, Utc};
use git2::Oid;

use crate::engine::{self, Ctx, Effect, Procedure};
use crate::error::{Error, Kind, Result};
use crate::model::{self, config::Clock, Overlay};
use crate::repo::{Repo, Stamp};
use crate::signing::{self, Signer};

/// How many times a procedure is re-applied when the branch keeps moving under it.
const MAX_ATTEMPTS: usize = 64;

/// The acting person and their signing key, as CLI.md says to find them.
pub struct Identity {
    pub actor: String,
    pub signer: Signer,
}

impl Identity {
    /// `IMS_ACTOR` else `user.email`; `IMS_SIGNING_KEY` else `user.signingkey`.
    pub fn from_env(repo: &git2::Repository) -> Result<Identity> {
        let actor = actor_from_env(repo).ok_or_else(|| Error::forbidden(format!("no actor: {}", CHOOSE_IDENTITY)))?;
        let spec = env_or_config("IMS_SIGNING_KEY", repo, "user.signingkey")
            .ok_or_else(|| Error::forbidden(format!("no signing key for {actor}: {}", CHOOSE_IDENTITY)))?;
        Ok(Identity { actor, signer: Signer::load(&spec)? })
    }
}

/// How to choose who acts, said by every error about an unknown actor or a missing key.
pub const CHOOSE_IDENTITY: &str = "choose who acts with IMS_ACTOR=EMAIL (else `git config user.email`) \
     and IMS_SIGNING_KEY=PATH (else `git config user.signingkey`), a registered person and one of their keys; \
     in a demo repository, `ims demo` printed one `export IMS_ACTOR=… IMS_SIGNING_KEY=…` line per role \
     (its keys are in .git/ims/demo-keys/)";

/// The acting person's email from `IMS_ACTOR` or `git config user.email`, in the spelling
/// the registry at HEAD holds (emails are compared case-folded: `model::registered_email`).
pub fn actor_from_env(repo: &git2::Repository) -> Option<String> {
    let actor = env_or_config("IMS_ACTOR", repo, "user.email")?;
    let head = repo.head().ok().and_then(|h| h.target());
    let resolved = head.and_then(|oid| {
        let snap = crate::repo::TreeSnapshot::new(repo, Some(oid)).ok()?;
        model::registered_email(&snap, &actor).ok()
    });
    Some(resolved.unwrap_or(actor))
}

/// The environment variable, else the git setting (git's config is only read when needed).
pub fn env_or_config(var: &str, repo: &git2::Repository, key: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| repo.config().ok()?.get_string(key).ok())
        .map(|v| v.trim().to_string())
}

/// The time from the system clock, or from `IMS_NOW` where the repository allows it.
pub fn clock(simulated: bool) -> Result<DateTime<Utc>> {
    match std::env::var("IMS_NOW") {
        Ok(text) if !text.trim().is_empty() => {
            if !simulated {
                return Err(Error::forbidden(
                    "IMS_NOW: only honoured in a repository made with `ims init --simulated-clock`",
                ));
            }
            let t = DateTime::parse_from_rfc3339(text.trim())
                .map_err(|e| Error::invalid(format!("IMS_NOW: `{text}` is not an RFC 3339 time: {e}")))?;
            Ok(t.with_timezone(&Utc).trunc_subsecs(0))
        }
        _ => Ok(Utc::now().trunc_subsecs(0)),
    }
}

/// What a procedure run produced.
pub struct Outcome {
    pub commit: Oid,
    pub effect: Effect,
}

/// Checks that the actor is registered, active, and that the signing key is one of theirs.
pub fn authenticate(repo: &Repo, identity: &Identity) -> Result<model::Person> {
    let snap = repo.snapshot(repo.tip()?)?;
    let person = model::person(&snap, &identity.actor)?.ok_or_else(|| {
        Error::forbidden(format!("actor {}: not a registered person; {CHOOSE_IDENTITY}", identity.actor))
    })?;
    if person.revoked {
        return Err(Error::forbidden(format!("actor {}: revoked", identity.actor)));
    }
    let public = identity.signer.public_key();
    let line = signing::key_line(&public)?;
    if !person.active_keys().any(|k| k.key == line) {
        return Err(Error::forbidden(format!(
            "actor {}: the signing key {} is not one of their registered keys",
            identity.actor,
            signing::fingerprint(&public)
        )));
    }
    Ok(person)
}

/// The time of a command in `repo`: `IMS_NOW` in a simulated-clock repository, else the
/// system clock, and never before the tip commit (DESIGN.md "Time"). The shell reads it
/// once per command and uses it for new ids (whose date is the record's folder), for the
/// procedure ([`run_at`]) and for every "now" a query shows, so they all agree.
pub fn procedure_now(repo: &Repo) -> Result<DateTime<Utc>> {
    let tip = repo.tip()?;
    let config = model::config(&repo.snapshot(tip)?)?;
    let now = clock(config.clock == Clock::Simulated)?;
    Ok(match tip {
        Some(t) => now.max(repo.commit_time(t)?),
        None => now,
    })
}

/// "Nothing new" is an outcome, not a failure: `None` when the procedure halted only
/// because every input it was given is already recorded ([`Kind::NothingNew`]).
pub fn unless_nothing_new<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(done) => Ok(Some(done)),
        Err(e) if e.kind == Kind::NothingNew => Ok(None),
        Err(e) => Err(e),
    }
}

/// Runs procedure `P` with `input` as the identity, on the branch HEAD names, at the
/// command's time ([`procedure_now`]).
pub fn run<P: Procedure>(repo: &Repo, identity: &Identity, input: &P::Input) -> Result<Outcome> {
    let now = procedure_now(repo)?;
    run_at::<P>(repo, identity, input, now)
}

/// Runs procedure `P` at `clock_now` (the command's time, which its new ids were made
/// from); a tip that moved to a later commit time meanwhile moves it forward.
pub fn run_at<P: Procedure>(
    repo: &Repo,
    identity: &Identity,
    input: &P::Input,
    clock_now: DateTime<Utc>,
) -> Result<Outcome> {
    run_staged::<P>(repo, identity, input, clock_now, &BTreeMap::new())
}

/// [`run_at`], with `blobs` (by id) readable by the procedure before its commit stores
/// them: an import's archive, handed over explicitly through an [`Overlay`] snapshot.
pub fn run_staged<P: Procedure>(
    repo: &Repo,
    identity: &Identity,
    input: &P::Input,
    clock_now: DateTime<Utc>,
    blobs: &BTreeMap<String, Vec<u8>>,
) -> Result<Outcome> {
    let person = authenticate(repo, identity)?;
    let input_json = engine::canonical_json(input)?;
    // Apply exactly what replay will see: the input as read back from its canonical JSON.
    let input: P::Input = serde_json::from_str(&input_json)?;
    let input = &input;
    let branch = repo.branch()?;
    let mut lock = repo.lock_index()?;
    pause_point("after-index-lock");
    for _ in 0..MAX_ATTEMPTS {
        let tip = repo.tip()?;
        let now = match tip {
            Some(t) => clock_now.max(repo.commit_time(t)?),
            None => clock_now,
        };
        let base = repo.snapshot(tip)?;
        let snap = Overlay { base: &base, blobs };
        let ctx = Ctx { snap: &snap, actor: &identity.actor, now, rules: crate::hygiene::Rules::Screening };
        let effect = P::apply(&ctx, input)?;
        engine::validate_writes(&effect)?;
        let paths: Vec<&str> = effect.writes.keys().map(String::as_str).collect();
        if let Some(lock) = &mut lock {
            repo.check_clean(lock, tip, &paths)?;
        }
        let message = engine::render_message(P::ID, &identity.actor, &input_json, &effect);
        let message = engine::with_read_anchor(message, crate::query::read_audit_tip(repo, &identity.actor));
        let stamp = Stamp { name: &person.name, email: &identity.actor, at: now };
        let commit = repo.create_commit(tip, &effect.writes, &message, &stamp, &|buf| identity.signer.sign(buf))?;
        let mut journal = match lock {
            Some(_) => Some(repo.journal(commit, &paths)?),
            None => None,
        };
        if repo.compare_and_swap(&branch, tip, commit, &format!("ims: {}", P::ID))? {
            if let Some(j) = &mut journal {
                j.keep();
            }
            pause_point("after-ref-update");
            if let Some(lock) = lock {
                repo.update_worktree(lock, &paths)?;
            }
            if let Some(j) = journal {
                j.done();
            }
            upkeep(repo);
            return Ok(Outcome { commit, effect });
        }
    }
    Err(Error::conflict(format!("{branch}: kept moving; {} could not be applied, try again", P::ID)))
}

/// Packs the object store when git's `gc --auto` thresholds are crossed, before the
/// command goes on ([`crate::upkeep`]). The procedure is committed by then: a packing
/// that fails leaves the objects loose, as they were, for the next command (or
/// `ims doctor --fix`) to pack, and never turns a recorded procedure into an error.
pub fn upkeep(repo: &Repo) {
    let _ = crate::upkeep::after_write(repo.git.path());
}

/// Calls `f` with the context a procedure run now would get (the identity checked, the
/// tip's snapshot, the procedure's `now`) without committing anything: what `--dry-run`
/// previews.
pub fn preview<T>(repo: &Repo, identity: &Identity, f: impl FnOnce(&Ctx) -> ims_core::error::Result<T>) -> Result<T> {
    preview_staged(repo, identity, &BTreeMap::new(), f)
}

/// [`preview`] with `blobs` laid over the tip, as [`run_staged`] does.
pub fn preview_staged<T>(
    repo: &Repo,
    identity: &Identity,
    blobs: &BTreeMap<String, Vec<u8>>,
    f: impl FnOnce(&Ctx) -> ims_core::error::Result<T>,
) -> Result<T> {
    authenticate(repo, identity)?;
    let config = model::config(&repo.snapshot(repo.tip()?)?)?;
    let clock_now = clock(config.clock == Clock::Simulated)?;
    let tip = repo.tip()?;
    let now = match tip {
        Some(t) => clock_now.max(repo.commit_time(t)?),
        None => clock_now,
    };
    let base = repo.snapshot(tip)?;
    let snap = Overlay { base: &base, blobs };
    Ok(f(&Ctx { snap: &snap, actor: &identity.actor, now, rules: crate::hygiene::Rules::Screening })?)
}

/// What `P` would do at the tip at `now` ([`procedure_now`]), without signing or committing: the checks a later
/// [`run`] makes (the procedure's own and the schemas of what it writes), so a caller can
/// refuse an input before it promises to apply it.
pub fn dry_run<P: Procedure>(repo: &Repo, actor: &str, input: &P::Input, now: DateTime<Utc>) -> Result<engine::Effect> {
    let snap = repo.snapshot(repo.tip()?)?;
    let input: P::Input = serde_json::from_str(&engine::canonical_json(input)?)?;
    let ctx = Ctx { snap: &snap, actor, now, rules: crate::hygiene::Rules::Screening };
    let effect = P::apply(&ctx, &input)?;
    engine::validate_writes(&effect)?;
    Ok(effect)
}

/// Makes a new records repository at `path` with its root commit.
pub fn init(
    path: &Path,
    input: &crate::procedures::repo::init::InitV2Input,
    signer: &Signer,
) -> Result<(Repo, Outcome)> {
    if path.exists() && std::fs::read_dir(path)?.next().is_some() {
        return Err(Error::precondition(format!(
            "{}: not empty; ims init needs a new or empty directory",
            path.display()
        )));
    }
    let public = signer.public_key();
    let registered = signing::parse_public(&input.key, "key")?;
    if public.key_data() != registered.key_data() {
        return Err(Error::forbidden(format!(
            "signing key {} is not the key given with --key ({})",
            signing::fingerprint(&public),
            signing::fingerprint(&registered)
        )));
    }
    let now = clock(input.clock == Clock::Simulated)?;
    let snap = model::EmptySnapshot;
    let ctx = Ctx { snap: &snap, actor: &input.email, now, rules: crate::hygiene::Rules::Screening };
    let effect = crate::procedures::repo::init::InitV2::apply(&ctx, input)?;
    engine::validate_writes(&effect)?;
    let mut options = git2::RepositoryInitOptions::new();
    options.initial_head("main");
    let git = git2::Repository::init_opts(path, &options)?;
    let repo = Repo { git };
    let message = engine::render_message(
        <crate::procedures::repo::init::InitV2 as Procedure>::ID,
        &input.email,
        &engine::canonical_json(input)?,
        &effect,
    );
    let stamp = Stamp { name: &input.name, email: &input.email, at: now };
    let writes = &effect.writes;
    let commit = repo.create_commit(None, writes, &message, &stamp, &|buf| signer.sign(buf))?;
    let branch = repo.branch()?;
    let mut config = repo.git.config()?;
    config.set_str("pull.ff", "only")?;
    config.set_str("gpg.format", "ssh")?;
    let signers = std::fs::canonicalize(path)?.join("allowed_signers");
    config.set_str("gpg.ssh.allowedSignersFile", &signers.to_string_lossy())?;
    let paths: Vec<&str> = writes.keys().map(String::as_str).collect();
    let lock = repo.lock_index()?;
    let mut journal = repo.journal(commit, &paths)?;
    repo.compare_and_swap(&branch, None, commit, "ims: init")?;
    journal.keep();
    if let Some(lock) = lock {
        repo.update_worktree(lock, &paths)?;
    }
    journal.done();
    Ok((repo, Outcome { commit, effect }))
}

/// A fault-injection point for the crash tests: with `IMS_PAUSE_AT=<name>` the process
/// says where it is on standard error and waits there to be killed. The names are listed
/// in the README ("Crash safety").
pub fn pause_point(name: &str) {
    if std::env::var("IMS_PAUSE_AT").is_ok_and(|v| v == name) {
        eprintln!("ims: paused at {name}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}
