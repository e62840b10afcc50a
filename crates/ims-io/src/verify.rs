//! `ims verify`: prove a history offline. Every commit that touches governed paths must
//! be an ims procedure, signed by a key registered to its actor at its parent, and must
//! replay byte for byte; merges may only combine what each side changed; revoked keys
//! sign only ancestors of their revocation; read-audit refs are signed, linear, and
//! record reads of real states. What cannot be read is a violation, never an abort.
//! The cache (see [`Cache`]) only saves time: it holds commits proved from the trust
//! root, under a key covering everything else a verdict depends on.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use git2::{Commit, Oid, Repository};
use serde::Serialize;

use crate::engine;
use crate::error::{Error, Result};
use crate::model::{self, Person, Snapshot};
pub use crate::replay::Rule;
use crate::replay::{self, Violation};
use crate::repo::{Repo, TreeSnapshot};
use crate::signing;

/// How much clock skew a commit time may show over the verifier's clock.
const FUTURE_SKEW_SECONDS: i64 = 300;

/// What to verify.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `A..B`: the commits of B not in A (A is trusted, e.g. the target branch).
    pub range: Option<(Option<Oid>, Oid)>,
    pub trust_root: Option<Oid>,
    /// Skip the cache (neither read nor written).
    pub no_cache: bool,
    /// A read-audit ref that the history anchors but that is absent is a violation, not
    /// a warning (for auditors who fetched every ref).
    pub require_read_audit: bool,
}

/// The outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checked: usize,
    pub cached: usize,
    pub violations: Vec<ViolationDoc>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ViolationDoc {
    pub commit: String,
    pub rule: Rule,
    pub message: String,
}

impl From<Violation> for ViolationDoc {
    fn from(v: Violation) -> Self {
        ViolationDoc { commit: v.commit, rule: v.rule, message: v.message }
    }
}

/// The commit `--trust-root` names, when one is given.
pub fn trust_root(repo: &Repo, given: Option<&str>) -> Result<Option<Oid>> {
    given
        .map(|t| {
            repo.git
                .revparse_single(t)
                .and_then(|o| o.peel_to_commit())
                .map(|c| c.id())
                .map_err(|_| Error::invalid(format!("--trust-root: `{t}` is not a commit here")))
        })
        .transpose()
}

/// Verifies the branch HEAD names (or the range) and the read-audit refs.
pub fn verify(repo: &Repo, options: &Options) -> Result<Report> {
    let git = &repo.git;
    let (base, tip) = match options.range {
        Some((base, tip)) => (base, tip),
        None => (None, repo.tip()?.ok_or_else(|| Error::invalid("nothing to verify: the branch has no commits"))?),
    };
    let mut report = Report { ok: true, checked: 0, cached: 0, violations: vec![], warnings: vec![] };
    if options.trust_root.is_none() {
        report.warnings.push("no trust root pinned: a history rewritten from a new root would pass; pin the root `ims init` printed with --trust-root".into());
    }
    let (compromised, people_unreadable) = match compromised_people(git, tip) {
        Ok(c) => (c, None),
        Err(e) => {
            report.violations.push(unreadable(tip, &e).into());
            (HashMap::new(), Some(e.into_message()))
        }
    };
    // A simulated clock (tests, demos, training) may run ahead of the real one.
    let simulated = TreeSnapshot::new(git, Some(tip))
        .and_then(|snap| Ok(model::config(&snap)?))
        .map(|c| c.clock == model::config::Clock::Simulated)
        .unwrap_or(false);
    if simulated {
        report.warnings.push("simulated clock: commit times are not checked against the real clock".into());
    }
    // Everything besides the commit that a cached verdict depends on.
    let mut facts: Vec<String> = compromised.iter().map(|(who, since)| format!("compromised {who} {since}")).collect();
    facts.sort();
    facts.push(format!("simulated {simulated}"));
    if let Some(why) = &people_unreadable {
        facts.push(format!("people unreadable at the tip: {why}"));
    }
    let mut cache = Cache::open(repo, options, &facts.join("\n"))?;
    // Walk back from the tip, stopping at commits the cache already proved (their
    // ancestors were proved before them), so CI only checks what is new.
    let walked = || -> Result<Vec<Oid>> {
        let mut walk = git.revwalk()?;
        walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
        walk.push(tip)?;
        if let Some(b) = base {
            walk.hide(b)?;
        }
        for known in frontier(git, tip, base, &cache)? {
            walk.hide(known)?;
        }
        Ok(walk.collect::<std::result::Result<_, _>>()?)
    };
    // A history that cannot be walked (a missing commit) is reported, not an abort.
    let commits = walked().unwrap_or_else(|e| {
        report.violations.push(unreadable(tip, &e).into());
        Vec::new()
    });
    let found = check_all(git.path(), &commits, options.trust_root, &compromised, simulated)?;
    let mut verified: HashSet<Oid> = HashSet::new();
    for (oid, violations) in commits.iter().zip(found) {
        report.checked += 1;
        let parents: Vec<Oid> = git.find_commit(*oid).map(|c| c.parent_ids().collect()).unwrap_or_default();
        // Proved from the root: the range's base is trusted for the verdict on the
        // range, never for the cache.
        let parents_ok = parents.iter().all(|p| verified.contains(p) || cache.has(*p));
        if violations.is_empty() {
            if parents_ok {
                verified.insert(*oid);
                cache.add(*oid);
            }
        } else {
            report.violations.extend(violations.into_iter().map(ViolationDoc::from));
        }
    }
    report.cached = cache.known.len().saturating_sub(cache.added.len());
    let facts_cache = FactsCache::open(repo, options, &cache);
    let reads = check_read_refs(git, tip, base, options.require_read_audit, &facts_cache, &mut report.warnings);
    report.violations.extend(reads.into_iter().map(ViolationDoc::from));
    if let Err(e) = cache.save() {
        report.warnings.push(format!("the verify cache could not be saved (the next run checks more): {}", e.message));
    }
    report.ok = report.violations.is_empty();
    Ok(report)
}

/// The cached commits where the walk from `tip` stops: its nearest proved ancestors.
fn frontier(git: &Repository, tip: Oid, base: Option<Oid>, cache: &Cache) -> Result<Vec<Oid>> {
    let mut out = Vec::new();
    if cache.known.is_empty() {
        return Ok(out);
    }
    let mut seen = HashSet::new();
    let mut stack = vec![tip];
    while let Some(oid) = stack.pop() {
        if !seen.insert(oid) || Some(oid) == base {
            continue;
        }
        if cache.has(oid) {
            out.push(oid);
            continue;
        }
        stack.extend(git.find_commit(oid)?.parent_ids());
    }
    Ok(out)
}

/// Checks `commits` on all cores: each worker opens the repository itself (a git2
/// handle is not shared between threads). Results come back in the input order.
fn check_all(
    git_dir: &std::path::Path,
    commits: &[Oid],
    trust_root: Option<Oid>,
    compromised: &HashMap<String, Oid>,
    simulated: bool,
) -> Result<Vec<Vec<Violation>>> {
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = commits.len().div_ceil(workers).max(1);
    let results: Vec<Result<Vec<Vec<Violation>>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = commits
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || -> Result<Vec<Vec<Violation>>> {
                    let git = Repository::open(git_dir)?;
                    Ok(part
                        .iter()
                        .map(|oid| {
                            git.find_commit(*oid)
                                .map_err(Error::from)
                                .and_then(|c| check_commit(&git, &c, trust_root, compromised, simulated))
                                .unwrap_or_else(|e| vec![unreadable(*oid, &e)])
                        })
                        .collect())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(Error::internal("a verify worker panicked"))))
            .collect()
    });
    let mut out = Vec::with_capacity(commits.len());
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}

/// What verify could not read or make sense of in a commit (a submodule or a missing
/// object where a file belongs, an unparsable file, a name that is not UTF-8): reported
/// as a violation of that commit, never an abort.
fn unreadable(oid: Oid, e: &Error) -> Violation {
    Violation { commit: oid.to_string(), rule: Rule::Unreadable, message: e.message.clone() }
}

/// Every rule for one commit.
fn check_commit(
    git: &Repository,
    commit: &Commit,
    trust_root: Option<Oid>,
    compromised: &HashMap<String, Oid>,
    simulated: bool,
) -> Result<Vec<Violation>> {
    let oid = commit.id();
    let v = |rule: Rule, message: String| Violation { commit: oid.to_string(), rule, message };
    let mut out = Vec::new();
    let parents: Vec<Oid> = commit.parent_ids().collect();
    if parents.is_empty() {
        match trust_root {
            Some(root) if root != oid => {
                out.push(v(Rule::TrustRoot, format!("history starts at {oid}, not at the pinned trust root {root}")));
                return Ok(out);
            }
            _ => {}
        }
    }
    // Time: never backwards along history, never in the future.
    let time = commit.time().seconds();
    for p in &parents {
        let pt = git.find_commit(*p)?.time().seconds();
        if time < pt {
            out.push(v(Rule::Time, format!("commit time is before its parent {p}'s")));
        }
    }
    if !simulated && time > Utc::now().timestamp() + FUTURE_SKEW_SECONDS {
        out.push(v(Rule::Time, "commit time is in the future".into()));
    }
    if parents.len() > 1 {
        out.extend(check_merge(git, commit)?);
        return Ok(out);
    }
    let message = commit.message().unwrap_or("");
    let trailers = engine::parse_trailers(message);
    let (changes, others) = replay::split_changes(git, commit, parents.first().copied())?;
    out.extend(unlisted_paths(git, oid, parents.first().copied(), &others)?);
    let Some(trailers) = trailers else {
        if !changes.is_empty() {
            let paths: Vec<&str> = changes.keys().map(String::as_str).collect();
            out.push(v(
                Rule::Procedure,
                format!("changes governed files ({}) without an ims procedure", paths.join(", ")),
            ));
        }
        return Ok(out);
    };
    // The signature, by a key registered to the actor at the parent.
    match signature(git, commit, &trailers.actor)? {
        KeyCheck::Good => {}
        KeyCheck::Unsigned => out.push(v(Rule::Signature, "unsigned".into())),
        KeyCheck::Bad(why) => out.push(v(Rule::Signature, format!("bad signature: {why}"))),
        KeyCheck::Unknown(fp) => out.push(v(
            Rule::Signature,
            format!("signed by {fp}, which is not an active key of {} at the parent", trailers.actor),
        )),
    }
    if let Some(since) = compromised.get(&trailers.actor) {
        if oid != *since && git.graph_descendant_of(oid, *since)? {
            out.push(v(
                Rule::RevokedKey,
                format!("{} reported their key compromised since {since}; this later commit is void", trailers.actor),
            ));
        }
    }
    match replay::replay_outcome(git, commit, &changes)? {
        replay::Replay::Failed(found) => out.push(found),
        // The commit's bytes are what the effect wrote: check links on its values.
        replay::Replay::Proved(effect) => {
            out.extend(check_links(git, commit, &effect.values)?);
            // Later commits read these records back: the parsed form is kept (moved,
            // not copied: copying every written record was a tenth of a full replay).
            let mut writes = effect.writes;
            for (path, value) in effect.values {
                if let Some(Some(bytes)) = writes.remove(&path) {
                    crate::repo::remember_owned(bytes, value);
                }
            }
        }
        replay::Replay::Ignored => {}
    }
    Ok(out)
}

/// Paths a commit changed that are neither governed nor listed in the `ungoverned`
/// setting in force at its parent: one `unlisted-path` violation naming them.
fn unlisted_paths(git: &Repository, oid: Oid, parent: Option<Oid>, others: &[String]) -> Result<Vec<Violation>> {
    if others.is_empty() {
        return Ok(vec![]);
    }
    let patterns = ungoverned_at(git, parent)?;
    let unlisted: Vec<&str> =
        others.iter().filter(|p| !crate::paths::listed(&patterns, p)).map(String::as_str).collect();
    if unlisted.is_empty() {
        return Ok(vec![]);
    }
    Ok(vec![Violation {
        commit: oid.to_string(),
        rule: Rule::UnlistedPath,
        message: format!(
            "changes {} without a procedure: neither governed nor listed in ims.yaml `ungoverned` (ims reads every other path)",
            unlisted.join(", ")
        ),
    }])
}

/// The ungoverned patterns of the settings at `commit` (the default list where there
/// are none, or they do not parse: the parent's own commit is checked on its own).
fn ungoverned_at(git: &Repository, commit: Option<Oid>) -> Result<Vec<String>> {
    let snap = TreeSnapshot::new(git, commit)?;
    Ok(match model::config(&snap) {
        Ok(c) => c.ungoverned_patterns(),
        Err(_) => model::config::DEFAULT_UNGOVERNED.iter().map(|p| p.to_string()).collect(),
    })
}

enum KeyCheck {
    Good,
    Unsigned,
    Bad(String),
    Unknown(String),
}

fn signature(git: &Repository, commit: &Commit, actor: &str) -> Result<KeyCheck> {
    let Ok((sig, data)) = git.extract_signature(&commit.id(), None) else { return Ok(KeyCheck::Unsigned) };
    let Ok(armored) = std::str::from_utf8(&sig) else { return Ok(KeyCheck::Bad("not text".into())) };
    let public = match signing::verify(&data, armored) {
        Ok(k) => k,
        Err(e) => return Ok(KeyCheck::Bad(e.message)),
    };
    let registry_at = commit.parent_ids().next().unwrap_or(commit.id());
    let snap = TreeSnapshot::new(git, Some(registry_at))?;
    let line = signing::key_line(&public)?;
    let active = model::person(&snap, actor)?.is_some_and(|p| p.active_keys().any(|k| k.key == line));
    Ok(if active { KeyCheck::Good } else { KeyCheck::Unknown(signing::fingerprint(&public)) })
}

/// People whose key was reported compromised since a commit, at the tip.
fn compromised_people(git: &Repository, tip: Oid) -> Result<HashMap<String, Oid>> {
    let snap = TreeSnapshot::new(git, Some(tip))?;
    let mut out = HashMap::new();
    for p in model::people(&snap)? {
        if let Some(c) = p.compromised_since.as_deref().and_then(|c| Oid::from_str(c).ok()) {
            out.insert(p.email, c);
        }
    }
    Ok(out)
}

/// A merge takes each governed file from the side that changed it since the merge
/// base; a file changed differently on two sides is invalid (sync by replay instead).
/// Commits brought in from one side must not be signed by keys the other side revoked,
/// nor by people it demoted, and must stand under the people registry the merge brings
/// together (`merge-authorization`: the two-manager rule, roles).
fn check_merge(git: &Repository, merge: &Commit) -> Result<Vec<Violation>> {
    let oid = merge.id();
    let v = |rule: Rule, message: String| Violation { commit: oid.to_string(), rule, message };
    let parents: Vec<Oid> = merge.parent_ids().collect();
    let mut out = Vec::new();
    let base = git.merge_base_many(&parents).ok();
    let base_snap = TreeSnapshot::new(git, base)?;
    let merged = TreeSnapshot::new(git, Some(oid))?;
    let mut paths: BTreeMap<String, ()> = BTreeMap::new();
    let mut sides: Vec<BTreeMap<String, Option<Vec<u8>>>> = Vec::new();
    let patterns = ungoverned_at(git, parents.first().copied())?;
    for p in &parents {
        let changed = changes_between(git, base, Some(*p), &patterns)?;
        paths.extend(changed.keys().map(|k| (k.clone(), ())));
        sides.push(changed);
    }
    paths.extend(changes_between(git, base, Some(oid), &patterns)?.into_keys().map(|k| (k, ())));
    for path in paths.keys() {
        let mut versions: Vec<&Option<Vec<u8>>> = sides.iter().filter_map(|s| s.get(path)).collect();
        versions.dedup();
        let expected = match versions.as_slice() {
            [] => base_snap.read(path)?,
            [one] => (*one).clone(),
            _ => {
                out.push(v(
                    Rule::Merge,
                    format!("{path}: changed on both sides; combine them with `ims sync`, not a merge"),
                ));
                continue;
            }
        };
        if merged.read(path)? != expected {
            out.push(v(
                Rule::Merge,
                format!("{path}: the merge does not take the version of the side that changed it"),
            ));
        }
    }
    // Keys revoked on one side sign nothing on the other.
    for (i, p) in parents.iter().enumerate() {
        let mut walk = git.revwalk()?;
        walk.push(*p)?;
        if let Some(b) = base {
            walk.hide(b)?;
        }
        let branch: Vec<Oid> = walk.collect::<std::result::Result<_, _>>()?;
        // Commits already reported for a demotion on the other side.
        let mut flagged: HashSet<Oid> = HashSet::new();
        for (j, other) in parents.iter().enumerate() {
            if i == j {
                continue;
            }
            // Roles and teams removed on one side authorize nothing on the other: a
            // demoted person's work on a branch forked before the demotion was authorized
            // at its parent only because that parent predates it.
            let demoted = demoted_since(git, base, *other)?;
            if !demoted.is_empty() {
                for c in &branch {
                    let commit = git.find_commit(*c)?;
                    let Some(trailers) = commit.message().ok().and_then(engine::parse_trailers) else { continue };
                    if let Some(lost) = demoted.get(&trailers.actor) {
                        flagged.insert(*c);
                        out.push(Violation {
                            commit: commit.id().to_string(),
                            rule: Rule::Authorization,
                            message: format!(
                                "{} lost {lost} on the other side of merge {oid}; work from a branch forked before a demotion is authorized only by replaying it on the new tip (`ims sync`)",
                                trailers.actor
                            ),
                        });
                    }
                }
            }
            let revoked = revoked_since(git, base, *other)?;
            if revoked.is_empty() {
                continue;
            }
            for c in &branch {
                let commit = git.find_commit(*c)?;
                let Ok((sig, _)) = git.extract_signature(c, None) else { continue };
                let Ok(sig) = ssh_key::SshSig::from_pem(&*sig) else { continue };
                let key = ssh_key::PublicKey::from(sig.public_key().clone());
                let line = signing::key_line(&key)?;
                if let Some(email) = revoked.get(&line) {
                    out.push(Violation {
                        commit: commit.id().to_string(),
                        rule: Rule::RevokedKey,
                        message: format!(
                            "signed by {email}'s key, revoked on the other side of merge {oid}; a revoked key signs only ancestors of its revocation"
                        ),
                    });
                }
            }
        }
        // The people registry as the merge knows it: what every other side changed in
        // `people/` since the merge base, laid over each commit's own parent. A commit
        // that its parent alone authorized (say, a settings change by the only incident
        // manager of a branch forked before a second one was registered) must be
        // authorized, and do the same thing, under that registry too.
        let mut others_people: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        for (j, side) in sides.iter().enumerate() {
            if j != i {
                others_people.extend(
                    side.iter().filter(|(path, _)| path.starts_with("people/")).map(|(k, v)| (k.clone(), v.clone())),
                );
            }
        }
        if others_people.is_empty() {
            continue;
        }
        for c in branch.iter().filter(|c| !flagged.contains(c)) {
            if let Some(why) = reauthorize(git, &git.find_commit(*c)?, &others_people)? {
                out.push(Violation {
                    commit: c.to_string(),
                    rule: Rule::MergeAuthorization,
                    message: format!(
                        "{why}, under the people registry of merge {oid} (another side changed people/ since the branch forked); replay it on the new tip with `ims sync` instead of merging"
                    ),
                });
            }
        }
    }
    Ok(out)
}

/// A snapshot with some `people/` files replaced: another side's registry laid over a
/// commit's parent.
struct PeopleOverlay<'a> {
    under: &'a dyn Snapshot,
    people: &'a BTreeMap<String, Option<Vec<u8>>>,
}

impl Snapshot for PeopleOverlay<'_> {
    fn read(&self, path: &str) -> ims_core::error::Result<Option<Vec<u8>>> {
        match self.people.get(path) {
            Some(bytes) => Ok(bytes.clone()),
            None => self.under.read(path),
        }
    }

    fn list(&self, path: &str) -> ims_core::error::Result<Vec<String>> {
        let mut names = self.under.list(path)?;
        let folder = path.trim_end_matches('/');
        for (p, bytes) in self.people {
            let Some((dir, name)) = p.rsplit_once('/') else { continue };
            if dir != folder {
                continue;
            }
            names.retain(|n| n != name);
            if bytes.is_some() {
                names.push(name.to_string());
            }
        }
        names.sort();
        Ok(names)
    }

    fn blob(&self, id: &str) -> ims_core::error::Result<Option<Vec<u8>>> {
        self.under.blob(id)
    }

    fn cache(&self) -> Option<&model::ParseCache> {
        self.under.cache()
    }
}

/// Applies a one-parent ims commit's procedure again, with `people` laid over its
/// parent: why it would not stand there (refused as unauthorized, or a different change,
/// such as a proposal under the two-manager rule where the commit applied the change at
/// once), or `None`. Commits that are not procedures, or that do not replay at their own
/// parent, are left to the other rules.
fn reauthorize(
    git: &Repository,
    commit: &Commit,
    people: &BTreeMap<String, Option<Vec<u8>>>,
) -> Result<Option<String>> {
    if commit.parent_count() != 1 {
        return Ok(None);
    }
    let Some(trailers) = commit.message().ok().and_then(engine::parse_trailers) else { return Ok(None) };
    let Ok(input) = serde_json::from_str::<serde_json::Value>(&trailers.input) else { return Ok(None) };
    let Some(now) = chrono::TimeZone::timestamp_opt(&Utc, commit.time().seconds(), 0).single() else {
        return Ok(None);
    };
    let parent = TreeSnapshot::new(git, commit.parent_ids().next())?;
    let ctx = |snap| engine::Ctx { snap, actor: &trailers.actor, now, rules: crate::hygiene::Rules::Recorded };
    let Ok(alone) = crate::procedures::apply_by_id(&trailers.procedure, &ctx(&parent), &input) else { return Ok(None) };
    let merged = PeopleOverlay { under: &parent, people };
    let who = format!("{} as {}", trailers.procedure, trailers.actor);
    Ok(match crate::procedures::apply_by_id(&trailers.procedure, &ctx(&merged), &input) {
        Err(e) if e.kind == crate::error::Kind::Forbidden => Some(format!("{who} is not authorized: {}", e.message)),
        // It applied at its own parent: any halt under the joined registry (an input
        // only the one-manager path accepts, say) means it does not stand there.
        Err(e) => Some(format!("{who} does not stand under the registry the merge joins: {}", e.message)),
        Ok(effect) => {
            let new = effect.writes.keys().find(|p| !alone.writes.contains_key(*p));
            let gone = alone.writes.keys().find(|p| !effect.writes.contains_key(*p));
            // `allowed_signers` is rebuilt from the whole registry, so it differs with
            // the people the other side added; every other file must be the same bytes.
            let differs = effect
                .writes
                .iter()
                .find(|(p, bytes)| p.as_str() != "allowed_signers" && alone.writes.get(*p) != Some(bytes))
                .map(|(p, _)| p);
            match new.or(gone) {
                Some(path) if path.starts_with("records/proposals/") => Some(format!(
                    "{who} was applied by a single incident manager, but the registry has two or more: under the two-manager rule it is a proposal another incident manager must approve"
                )),
                Some(path) => Some(format!("{who} makes a different change ({path})")),
                None => differs.map(|path| format!("{who} makes a different change ({path})")),
            }
        }
    })
}

/// People who had a role or team at `base` that they no longer have at `tip`: email →
/// what they lost (e.g. `role L2, team network`).
fn demoted_since(git: &Repository, base: Option<Oid>, tip: Oid) -> Result<HashMap<String, String>> {
    let before = TreeSnapshot::new(git, base)?;
    let after = TreeSnapshot::new(git, Some(tip))?;
    let mut out = HashMap::new();
    for p in model::people(&after)? {
        let Some(was) = model::person(&before, &p.email)? else { continue };
        let mut lost: Vec<String> =
            was.roles.iter().filter(|r| !p.roles.contains(r)).map(|r| format!("role {}", r.as_str())).collect();
        lost.extend(was.teams.iter().filter(|t| !p.teams.contains(t)).map(|t| format!("team {}", t.as_str())));
        if !lost.is_empty() {
            out.insert(p.email.clone(), lost.join(", "));
        }
    }
    Ok(out)
}

/// Keys active at `base` but replaced or revoked at `tip`: key line → email.
fn revoked_since(git: &Repository, base: Option<Oid>, tip: Oid) -> Result<HashMap<String, String>> {
    let before = TreeSnapshot::new(git, base)?;
    let after = TreeSnapshot::new(git, Some(tip))?;
    let mut out = HashMap::new();
    for p in model::people(&after)? {
        let was: Option<Person> = model::person(&before, &p.email)?;
        let Some(was) = was else { continue };
        let now_active: HashSet<&str> = p.active_keys().map(|k| k.key.as_str()).collect();
        for k in was.active_keys() {
            if !now_active.contains(k.key.as_str()) {
                out.insert(k.key.clone(), p.email.clone());
            }
        }
    }
    Ok(out)
}

/// The files that differ between two commits, governed or not listed as ungoverned.
fn changes_between(
    git: &Repository,
    from: Option<Oid>,
    to: Option<Oid>,
    ungoverned: &[String],
) -> Result<BTreeMap<String, Option<Vec<u8>>>> {
    let tree = |c: Option<Oid>| -> Result<Option<git2::Tree>> {
        Ok(match c {
            Some(c) => Some(git.find_commit(c)?.tree()?),
            None => None,
        })
    };
    let (a, b) = (tree(from)?, tree(to)?);
    let diff = git.diff_tree_to_tree(a.as_ref(), b.as_ref(), None)?;
    let mut out = BTreeMap::new();
    for delta in diff.deltas() {
        let file = delta.new_file();
        let Some(path) = file.path().or_else(|| delta.old_file().path()).and_then(|p| p.to_str()) else { continue };
        if !replay::governed(path) && crate::paths::listed(ungoverned, path) {
            continue;
        }
        let bytes = if file.id().is_zero() { None } else { Some(git.find_blob(file.id())?.content().to_vec()) };
        out.insert(path.to_string(), bytes);
    }
    Ok(out)
}

/// The link fields whose other side must point back.
const LINKS: &[(&str, &str, &str)] = &[
    // (record kind folder, field, field on the linked record)
    ("incidents", "problem_ids", "incident_ids"),
    ("incidents", "change_ids", "incident_ids"),
    ("incidents", "kb_ids", "incident_ids"),
    ("problems", "incident_ids", "problem_ids"),
    ("problems", "change_ids", "problem_ids"),
    ("problems", "kb_ids", "problem_ids"),
    ("changes", "incident_ids", "change_ids"),
    ("changes", "problem_ids", "change_ids"),
    ("kb", "incident_ids", "kb_ids"),
    ("kb", "problem_ids", "kb_ids"),
];

/// Links both ways, for every record the commit wrote.
fn check_links(
    git: &Repository,
    commit: &Commit,
    written: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<Violation>> {
    let snap = TreeSnapshot::new(git, Some(commit.id()))?;
    let mut out = Vec::new();
    for (path, record) in written {
        let Some(folder) = path.strip_prefix("records/").and_then(|p| p.split('/').next()) else { continue };
        let own_id = path.rsplit('/').next().unwrap_or("").trim_end_matches(".yaml");
        for (kind, field, back) in LINKS.iter().filter(|(k, _, _)| *k == folder) {
            let _ = kind;
            for other in record.get(*field).and_then(|v| v.as_array()).into_iter().flatten() {
                let Some(other) = other.as_str() else { continue };
                let Ok(rid) = crate::ids::RecordId::parse(other, field) else { continue };
                let theirs: Option<serde_json::Value> = model::load(&snap, &rid.path())?;
                let points_back = theirs
                    .as_ref()
                    .and_then(|t| t.get(*back))
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(own_id)));
                if !points_back {
                    out.push(Violation {
                        commit: commit.id().to_string(),
                        rule: Rule::Links,
                        message: format!("{path}: {field} names {other}, whose {back} does not name {own_id}"),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// A procedure commit's vouching for its actor's read-audit tip (`Ims-Read-Anchor`).
struct Anchor {
    commit: Oid,
    actor: String,
    entry: Oid,
}

/// What the main history says about reads: the anchors of the commits of `tip` not in
/// `base`, and (for a whole-history run) every state a reader could have read.
fn history_facts(git: &Repository, tip: Oid, base: Option<Oid>) -> Result<(Vec<Anchor>, Option<HashSet<Oid>>)> {
    let (anchors, trees) = walk_facts(git, tip, base)?;
    Ok((anchors, base.is_none().then_some(trees)))
}

/// The anchors and trees of the commits reachable from `tip` and not from `hide`.
fn walk_facts(git: &Repository, tip: Oid, hide: Option<Oid>) -> Result<(Vec<Anchor>, HashSet<Oid>)> {
    let mut walk = git.revwalk()?;
    walk.push(tip)?;
    if let Some(b) = hide {
        walk.hide(b)?;
    }
    let mut anchors = Vec::new();
    let mut trees = HashSet::new();
    let needle = engine::READ_ANCHOR.as_bytes();
    for oid in walk {
        let commit = git.find_commit(oid?)?;
        trees.insert(commit.tree_id());
        let bytes = commit.message_bytes();
        if !bytes.windows(needle.len()).any(|w| w == needle) {
            continue;
        }
        let Ok(message) = std::str::from_utf8(bytes) else { continue };
        let (_, Some(entry)) = engine::split_read_anchor(message) else { continue };
        let Ok(entry) = Oid::from_str(entry) else { continue };
        let Some(trailers) = engine::parse_trailers(message) else { continue };
        anchors.push(Anchor { commit: commit.id(), actor: trailers.actor, entry });
    }
    Ok((anchors, trees))
}

/// What a whole-history walk learns about reads (the anchors and every tree of the
/// history), kept for the tip it was learnt at so that the next `ims verify` walks only
/// the commits since: without it a warm run on a long history spent its time re-reading
/// every commit. The file is a cache (`cache::READ_FACTS`) under the verification cache's key and
/// secret (an HMAC over the whole file): a garbled or forged file is ignored, and a tip
/// that is not an ancestor of the new one (a rewound branch) means a full walk. These
/// are facts about the commit graph, not verdicts, so they are kept whatever the
/// verdict was.
struct FactsCache {
    path: Option<PathBuf>,
    secret: Vec<u8>,
    key: String,
}

struct Facts {
    tip: Oid,
    anchors: Vec<Anchor>,
    trees: HashSet<Oid>,
}

impl FactsCache {
    fn open(repo: &Repo, options: &Options, cache: &Cache) -> FactsCache {
        let root = options.trust_root.map(|r| r.to_string()).unwrap_or_else(|| "unpinned".into());
        FactsCache {
            path: cache.path.as_ref().map(|_| crate::cache::path(repo.git.path(), crate::cache::READ_FACTS, &root)),
            secret: cache.secret.clone(),
            key: cache.key.clone(),
        }
    }

    /// The anchors and trees of every commit reachable from `tip`.
    fn whole_history(&self, git: &Repository, tip: Oid) -> Result<(Vec<Anchor>, Option<HashSet<Oid>>)> {
        let known = self.load().filter(|f| f.tip == tip || git.graph_descendant_of(tip, f.tip).unwrap_or(false));
        let facts = match known {
            Some(f) if f.tip == tip => return Ok((f.anchors, Some(f.trees))),
            Some(mut f) => {
                let (anchors, trees) = walk_facts(git, tip, Some(f.tip))?;
                f.anchors.extend(anchors);
                f.trees.extend(trees);
                Facts { tip, ..f }
            }
            None => {
                let (anchors, trees) = walk_facts(git, tip, None)?;
                Facts { tip, anchors, trees }
            }
        };
        // Only time is lost when the file cannot be written.
        let _ = self.save(&facts);
        Ok((facts.anchors, Some(facts.trees)))
    }

    fn mac(&self, body: &str) -> String {
        hex(&hmac_sha256(&self.secret, body.as_bytes()))
    }

    fn load(&self) -> Option<Facts> {
        let text = crate::cache::read(self.path.as_ref()?, crate::cache::READ_FACTS)?;
        let (body, mac_line) = text.strip_suffix('\n')?.rsplit_once('\n')?;
        let body = format!("{body}\n");
        if mac_line.strip_prefix("mac ")? != self.mac(&body) {
            return None;
        }
        let mut lines = body.lines();
        if lines.next()? != self.key {
            return None;
        }
        let tip = Oid::from_str(lines.next()?.strip_prefix("tip ")?).ok()?;
        let mut facts = Facts { tip, anchors: Vec::new(), trees: HashSet::new() };
        for line in lines {
            if let Some(rest) = line.strip_prefix("anchor ") {
                let mut parts = rest.splitn(3, ' ');
                let commit = Oid::from_str(parts.next()?).ok()?;
                let entry = Oid::from_str(parts.next()?).ok()?;
                facts.anchors.push(Anchor { commit, entry, actor: parts.next()?.to_string() });
            } else {
                facts.trees.insert(Oid::from_str(line).ok()?);
            }
        }
        Some(facts)
    }

    fn save(&self, facts: &Facts) -> Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        let mut body = String::with_capacity(facts.trees.len() * 41 + 128);
        body.push_str(&self.key);
        body.push('\n');
        body.push_str(&format!("tip {}\n", facts.tip));
        for a in &facts.anchors {
            body.push_str(&format!("anchor {} {} {}\n", a.commit, a.entry, a.actor));
        }
        for tree in &facts.trees {
            body.push_str(&tree.to_string());
            body.push('\n');
        }
        let mac = self.mac(&body);
        body.push_str(&format!("mac {mac}\n"));
        crate::cache::write(path, crate::cache::READ_FACTS, &body)?;
        Ok(())
    }
}

/// Read-audit refs: linear, signed by a key active for their owner when the entry was
/// made, `identify` only, each recording a read of a state of the verified history, and
/// holding every entry the main history anchors. `registry`: the people at the tip,
/// which know when each key was replaced.
fn check_read_refs(
    git: &Repository,
    tip: Oid,
    base: Option<Oid>,
    require: bool,
    facts_cache: &FactsCache,
    warnings: &mut Vec<String>,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let refs: Vec<(String, Option<Oid>)> = match git.references_glob("refs/ims/audit/reads/*") {
        Ok(refs) => refs.flatten().filter_map(|r| Some((r.name().ok()?.to_string(), r.target()))).collect(),
        Err(e) => {
            out.push(unreadable(tip, &e.into()));
            return out;
        }
    };
    let facts = match base {
        Some(_) => history_facts(git, tip, base),
        None => facts_cache.whole_history(git, tip),
    };
    let (anchors, trees) = match facts {
        Ok(facts) => facts,
        Err(e) => {
            out.push(unreadable(tip, &e));
            return out;
        }
    };
    let registry = TreeSnapshot::new(git, Some(tip)).ok();
    let mut chains: HashMap<String, HashSet<Oid>> = HashMap::new();
    for (name, target) in refs {
        let owner = name.trim_start_matches("refs/ims/audit/reads/").to_string();
        let mut chain = HashSet::new();
        if let Err((oid, e)) =
            check_read_ref(git, &name, &owner, target, trees.as_ref(), registry.as_ref(), &mut chain, &mut out)
        {
            out.push(Violation {
                commit: oid.to_string(),
                rule: Rule::ReadAudit,
                message: format!("{name}: {}", e.message),
            });
        }
        chains.insert(owner, chain);
    }
    // The anchors: a ref that is present holds every entry the history vouches for.
    let mut absent: BTreeMap<String, Oid> = BTreeMap::new();
    for a in &anchors {
        let name = crate::query::read_audit_ref(&a.actor);
        match chains.get(&a.actor) {
            Some(chain) if chain.contains(&a.entry) => {}
            Some(_) => out.push(Violation {
                commit: a.commit.to_string(),
                rule: Rule::ReadAuditAnchor,
                message: format!(
                    "{name} does not hold the read entry {} that this commit of {} vouches for: the ref was rewound or replaced",
                    a.entry, a.actor
                ),
            }),
            None => {
                absent.entry(a.actor.clone()).or_insert(a.commit);
            }
        }
    }
    for (actor, commit) in absent {
        let name = crate::query::read_audit_ref(&actor);
        if require {
            out.push(Violation {
                commit: commit.to_string(),
                rule: Rule::ReadAuditAnchor,
                message: format!("{name} is absent, but this commit vouches for its entries (--require-read-audit)"),
            });
        } else {
            warnings.push(format!(
                "{name} is absent here (a plain clone does not fetch it; `ims sync` does): its reads were not checked"
            ));
        }
    }
    out
}

/// One person's read-audit ref; `chain` gets every entry on it. An entry that cannot be
/// read is `Err((entry, why))`.
#[allow(clippy::too_many_arguments)]
fn check_read_ref(
    git: &Repository,
    name: &str,
    owner: &str,
    target: Option<Oid>,
    trees: Option<&HashSet<Oid>>,
    registry: Option<&TreeSnapshot>,
    chain: &mut HashSet<Oid>,
    out: &mut Vec<Violation>,
) -> std::result::Result<(), (Oid, Error)> {
    // When each of the owner's keys stopped signing, as the tip knows it.
    let retired: HashMap<String, chrono::DateTime<Utc>> = registry
        .and_then(|snap| model::person(snap, owner).ok().flatten())
        .map(|p| p.keys.iter().filter_map(|k| Some((k.key.clone(), k.valid_before?))).collect())
        .unwrap_or_default();
    let mut next = target;
    while let Some(oid) = next {
        if !chain.insert(oid) {
            break;
        }
        let at = |e: git2::Error| (oid, Error::from(e));
        let at_ = |e: Error| (oid, e);
        let commit = git.find_commit(oid).map_err(at)?;
        next = commit.parent_ids().next();
        let v = |message: String| Violation { commit: oid.to_string(), rule: Rule::ReadAudit, message };
        if commit.parent_count() > 1 {
            out.push(v(format!("{name}: read audits are append-only; a merge is not allowed")));
        }
        let time = commit.time().seconds();
        if let Some(parent) = next {
            if git.find_commit(parent).map_err(at)?.time().seconds() > time {
                out.push(v(format!("{name}: the entry is dated before the entry it follows")));
            }
        }
        let trailers = commit.message().ok().and_then(engine::parse_trailers);
        let Some(t) = trailers else {
            out.push(v(format!("{name}: not an ims read entry")));
            continue;
        };
        let identify_only = t.actions.iter().all(|a| a.action == model::enums::AuditAction::Identify);
        if t.procedure != "read.identify/1" || !identify_only || t.actor != owner {
            out.push(v(format!("{name}: only identify entries by {owner} belong here")));
        }
        if trees.is_some_and(|t| !t.contains(&commit.tree_id())) {
            out.push(v(format!("{name}: records a read of a state that is not in the history")));
        }
        // The registry the reader saw is the tree they read.
        let Ok((sig, data)) = git.extract_signature(&oid, None) else {
            out.push(v(format!("{name}: unsigned")));
            continue;
        };
        let key = std::str::from_utf8(&sig).ok().and_then(|s| signing::verify(&data, s).ok());
        let Some(key) = key else {
            out.push(v(format!("{name}: not signed by a key of {owner}")));
            continue;
        };
        let line = signing::key_line(&key).map_err(|e| at_(e.into()))?;
        let snap = TreeSnapshot::new(git, Some(oid)).map_err(at_)?;
        let person = model::person(&snap, owner).map_err(|e| at_(e.into()))?;
        let Some(person) = person.filter(|p| p.keys.iter().any(|k| k.key == line)) else {
            out.push(v(format!("{name}: not signed by a key of {owner}")));
            continue;
        };
        let active_then = person.active_keys().any(|k| k.key == line);
        let replaced = retired.get(&line).filter(|before| before.timestamp() < time);
        if !active_then || replaced.is_some() {
            let when = match replaced {
                Some(before) => format!("it stopped signing at {}", before.to_rfc3339()),
                None => "it is not active in the registry the entry read".to_string(),
            };
            out.push(Violation {
                commit: oid.to_string(),
                rule: Rule::ReadAuditKey,
                message: format!(
                    "{name}: signed by {}, a key of {owner} not active then: {when}",
                    signing::fingerprint(&key)
                ),
            });
        }
    }
    Ok(())
}

/// The verification cache: commits proved from the trust root, under one key.
///
/// Invariant: the cache can only save time, never change a verdict. A commit enters it
/// only when it had no violation and every parent was proved in the same run or was
/// already in the cache (a root commit: only as the pinned trust root), so the cache is
/// closed under ancestry back to the root; `--range A..B` never trusts `A` for this. The
/// key holds everything a cached verdict depends on besides the commit itself: the
/// cache format, the ims version, the trust root, the clock mode and every person's
/// `compromised_since` at the tip (a new `--compromised-since` changes the key, so the
/// next run proves the history afresh). The file lives in `.git/ims/cache/` ([`crate::cache`]; never cloned or
/// fetched); its entries come in blocks, each chained to the previous one by an
/// HMAC-SHA256 with a secret kept outside the repository (`$IMS_STATE_DIR`, else
/// `$XDG_STATE_HOME/ims`, else `~/.local/state/ims`), so a garbled, truncated or forged
/// file (say, a repository handed over as a tarball) loses its bad blocks and the rest
/// after them: at worst the next run checks more.
struct Cache {
    path: Option<PathBuf>,
    secret: Vec<u8>,
    key: String,
    known: HashSet<Oid>,
    added: Vec<Oid>,
    /// The MAC of the last good block (or the key line), which the next block chains to.
    chain: String,
    /// The file holds only good blocks under this key: new ones can be appended.
    appendable: bool,
}

// Bumped whenever a rule becomes stricter, so no cache vouches under the old rules.
const CACHE_FORMAT: &str = "ims-verify-cache/5";

impl Cache {
    fn disabled() -> Cache {
        Cache {
            path: None,
            secret: vec![],
            key: String::new(),
            known: HashSet::new(),
            added: vec![],
            chain: String::new(),
            appendable: false,
        }
    }

    /// `facts`: what else a verdict depends on (clock mode, revocation facts at the tip).
    fn open(repo: &Repo, options: &Options, facts: &str) -> Result<Cache> {
        if options.no_cache {
            return Ok(Cache::disabled());
        }
        let Some(secret) = cache_secret() else { return Ok(Cache::disabled()) };
        let root = options.trust_root.map(|r| r.to_string()).unwrap_or_else(|| "unpinned".into());
        let path = crate::cache::path(repo.git.path(), crate::cache::VERIFY, &root);
        let key = format!(
            "{CACHE_FORMAT} {}",
            hex(&sha256(format!("{CACHE_FORMAT}\n{}\n{root}\n{facts}", env!("CARGO_PKG_VERSION")).as_bytes()))
        );
        let mut cache = Cache {
            path: Some(path.clone()),
            chain: hex(&hmac_sha256(&secret, key.as_bytes())),
            secret,
            key,
            known: HashSet::new(),
            added: vec![],
            appendable: false,
        };
        let text = crate::cache::read(&path, crate::cache::VERIFY).unwrap_or_default();
        let mut lines = text.split_inclusive('\n');
        if lines.next().map(|l| l.trim_end_matches('\n')) != Some(cache.key.as_str()) {
            return Ok(cache);
        }
        let mut block: Vec<Oid> = Vec::new();
        let mut body = String::new();
        let mut good = true;
        for line in lines {
            let Some(line) = line.strip_suffix('\n') else {
                good = false; // a torn last write
                break;
            };
            if let Some(mac) = line.strip_prefix("mac ") {
                if mac != cache.block_mac(&body) {
                    good = false;
                    break;
                }
                cache.known.extend(block.drain(..));
                cache.chain = mac.to_string();
                body.clear();
            } else if let Ok(oid) =
                Oid::from_str(line).map_err(|_| ()).and_then(|o| if line.len() == 40 { Ok(o) } else { Err(()) })
            {
                block.push(oid);
                body.push_str(line);
                body.push('\n');
            } else {
                good = false;
                break;
            }
        }
        cache.appendable = good && block.is_empty();
        Ok(cache)
    }

    fn block_mac(&self, body: &str) -> String {
        let mut data = Vec::with_capacity(self.chain.len() + body.len() + 1);
        data.extend_from_slice(self.chain.as_bytes());
        data.push(b'\n');
        data.extend_from_slice(body.as_bytes());
        hex(&hmac_sha256(&self.secret, &data))
    }

    fn has(&self, oid: Oid) -> bool {
        self.known.contains(&oid)
    }

    fn add(&mut self, oid: Oid) {
        if self.path.is_some() && self.known.insert(oid) {
            self.added.push(oid);
        }
    }

    /// Appends the new commits as one block, or rewrites the file when it held anything
    /// else (another key, a bad block).
    fn save(&mut self) -> Result<()> {
        let Some(path) = self.path.clone() else { return Ok(()) };
        if self.added.is_empty() && self.appendable {
            return Ok(());
        }
        let mut text = String::new();
        let entries: Vec<Oid> = if self.appendable {
            self.added.clone()
        } else {
            text.push_str(&self.key);
            text.push('\n');
            self.chain = hex(&hmac_sha256(&self.secret, self.key.as_bytes()));
            self.known.iter().copied().collect()
        };
        let mut body = String::with_capacity(entries.len() * 41);
        for oid in &entries {
            body.push_str(&oid.to_string());
            body.push('\n');
        }
        let mac = self.block_mac(&body);
        text.push_str(&body);
        text.push_str(&format!("mac {mac}\n"));
        // Through the cache module: its header, its folder, written aside and renamed.
        if self.appendable {
            crate::cache::append(&path, crate::cache::VERIFY, &text)?;
        } else {
            crate::cache::write(&path, crate::cache::VERIFY, &text)?;
        }
        self.chain = mac;
        self.added.clear();
        self.appendable = true;
        Ok(())
    }
}

/// The secret that keys the cache's MACs, made on first use; `None` (no cache, only
/// slower) when there is no place to keep it.
fn cache_secret() -> Option<Vec<u8>> {
    let dir = match std::env::var_os("IMS_STATE_DIR") {
        Some(d) => PathBuf::from(d),
        None => match std::env::var_os("XDG_STATE_HOME").filter(|d| !d.is_empty()) {
            Some(d) => PathBuf::from(d).join("ims"),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".local").join("state").join("ims"),
        },
    };
    let path = dir.join("verify-cache.key");
    let read = |p: &std::path::Path| -> Option<Vec<u8>> {
        let text = std::fs::read_to_string(p).ok()?;
        let text = text.trim();
        (text.len() >= 64 && text.bytes().all(|b| b.is_ascii_hexdigit())).then(|| text.as_bytes().to_vec())
    };
    if let Some(secret) = read(&path) {
        return Some(secret);
    }
    std::fs::create_dir_all(&dir).ok()?;
    let fresh: String = (0..2).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    let tmp = dir.join(format!("verify-cache.key.{}", std::process::id()));
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&tmp).ok()?;
        f.write_all(fresh.as_bytes()).ok()?;
    }
    // A link fails if another ims made the key first: then theirs is the key.
    let _ = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    read(&path)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&sha256(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = sha2::Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(data);
    let mut outer = sha2::Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses `A..B` (or a single commit: everything reachable from it).
pub fn parse_range(git: &Repository, text: &str) -> Result<(Option<Oid>, Oid)> {
    let resolve = |r: &str| -> Result<Oid> {
        git.revparse_single(r)
            .and_then(|o| o.peel_to_commit())
            .map(|c| c.id())
            .map_err(|_| Error::invalid(format!("--range: `{r}` is not a commit here")))
    };
    match text.split_once("..") {
        Some((a, b)) => {
            Ok((if a.is_empty() { None } else { Some(resolve(a)?) }, resolve(if b.is_empty() { "HEAD" } else { b })?))
        }
        None => Ok((None, resolve(text)?)),
    }
}
