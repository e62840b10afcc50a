//! `ims verify`: prove a history offline. Every commit that touches governed paths must
//! be an ims procedure, signed by a key registered to its actor at its parent, and must
//! replay byte for byte; merges may only combine what each side changed; revoked keys
//! sign only ancestors of their revocation; read-audit refs are signed, linear, and
//! record reads of real states. Results are cached per (commit, ims version, trust
//! root), a commit only once its ancestors are, so CI checks only what is new.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use git2::{Commit, Oid, Repository};
use serde::Serialize;

use crate::engine;
use crate::error::{Error, Result};
use crate::model::{self, Person, Snapshot};
use crate::replay::{self, governed_changes, Violation};
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
    pub rule: String,
    pub message: String,
}

impl From<Violation> for ViolationDoc {
    fn from(v: Violation) -> Self {
        ViolationDoc { commit: v.commit, rule: v.rule.to_string(), message: v.message }
    }
}

/// Verifies the branch HEAD names (or the range) and the read-audit refs.
pub fn verify(repo: &Repo, options: &Options) -> Result<Report> {
    let git = &repo.git;
    let (base, tip) = match options.range {
        Some((base, tip)) => (base, tip),
        None => (None, repo.tip()?.ok_or_else(|| Error::invalid("nothing to verify: the branch has no commits"))?),
    };
    let mut cache = Cache::open(repo, options)?;
    // Walk back from the tip, stopping at commits the cache already proved (their
    // ancestors were proved before them), so CI only checks what is new.
    let mut walk = git.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    walk.push(tip)?;
    if let Some(b) = base {
        walk.hide(b)?;
    }
    for known in frontier(git, tip, base, &cache)? {
        walk.hide(known)?;
    }
    let commits: Vec<Oid> = walk.collect::<std::result::Result<_, _>>()?;
    let mut report = Report { ok: true, checked: 0, cached: 0, violations: vec![], warnings: vec![] };
    if options.trust_root.is_none() {
        report.warnings.push("no trust root pinned: a history rewritten from a new root would pass; pin the root `ims init` printed with --trust-root".into());
    }
    let compromised = compromised_people(git, tip)?;
    // A simulated clock (tests, demos, training) may run ahead of the real one.
    let simulated = model::config(&TreeSnapshot::new(git, Some(tip))?)
        .map(|c| c.clock == model::config::Clock::Simulated)
        .unwrap_or(false);
    if simulated {
        report.warnings.push("simulated clock: commit times are not checked against the real clock".into());
    }
    let found = check_all(git.path(), &commits, options.trust_root, &compromised, simulated)?;
    let mut verified: HashSet<Oid> = HashSet::new();
    let mut trees: HashSet<Oid> = HashSet::new();
    let whole = base.is_none() && cache.known.is_empty();
    for (oid, violations) in commits.iter().zip(found) {
        report.checked += 1;
        let commit = git.find_commit(*oid)?;
        if whole {
            trees.insert(commit.tree_id());
        }
        let parents_ok = commit.parent_ids().all(|p| verified.contains(&p) || cache.has(p) || Some(p) == base);
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
    let trees = if whole { Some(&trees) } else { None };
    report.violations.extend(check_read_refs(git, trees)?.into_iter().map(ViolationDoc::from));
    cache.save()?;
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
                    part.iter()
                        .map(|oid| check_commit(&git, &git.find_commit(*oid)?, trust_root, compromised, simulated))
                        .collect()
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

/// Every rule for one commit.
fn check_commit(
    git: &Repository,
    commit: &Commit,
    trust_root: Option<Oid>,
    compromised: &HashMap<String, Oid>,
    simulated: bool,
) -> Result<Vec<Violation>> {
    let oid = commit.id();
    let v = |rule: &'static str, message: String| Violation { commit: oid.to_string(), rule, message };
    let mut out = Vec::new();
    let parents: Vec<Oid> = commit.parent_ids().collect();
    if parents.is_empty() {
        match trust_root {
            Some(root) if root != oid => {
                out.push(v("trust-root", format!("history starts at {oid}, not at the pinned trust root {root}")));
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
            out.push(v("time", format!("commit time is before its parent {p}'s")));
        }
    }
    if !simulated && time > Utc::now().timestamp() + FUTURE_SKEW_SECONDS {
        out.push(v("time", "commit time is in the future".into()));
    }
    if parents.len() > 1 {
        out.extend(check_merge(git, commit)?);
        return Ok(out);
    }
    let message = commit.message().unwrap_or("");
    let trailers = engine::parse_trailers(message);
    let changes = governed_changes(git, commit, parents.first().copied())?;
    let Some(trailers) = trailers else {
        if !changes.is_empty() {
            let paths: Vec<&str> = changes.keys().map(String::as_str).collect();
            out.push(v("procedure", format!("changes governed files ({}) without an ims procedure", paths.join(", "))));
        }
        return Ok(out);
    };
    // The signature, by a key registered to the actor at the parent.
    match signature(git, commit, &trailers.actor)? {
        KeyCheck::Good => {}
        KeyCheck::Unsigned => out.push(v("signature", "unsigned".into())),
        KeyCheck::Bad(why) => out.push(v("signature", format!("bad signature: {why}"))),
        KeyCheck::Unknown(fp) => out.push(v(
            "signature",
            format!("signed by {fp}, which is not an active key of {} at the parent", trailers.actor),
        )),
    }
    if let Some(since) = compromised.get(&trailers.actor) {
        if oid != *since && git.graph_descendant_of(oid, *since)? {
            out.push(v(
                "revoked-key",
                format!("{} reported their key compromised since {since}; this later commit is void", trailers.actor),
            ));
        }
    }
    match replay::replay_outcome(git, commit, &changes)? {
        replay::Replay::Failed(found) => out.push(found),
        // The commit's bytes are what the effect wrote: check links on its values.
        replay::Replay::Proved(effect) => {
            for (path, value) in &effect.values {
                if let Some(Some(bytes)) = effect.writes.get(path) {
                    model::remember(bytes, value);
                }
            }
            out.extend(check_links(git, commit, &effect.values)?)
        }
        replay::Replay::Ignored => {}
    }
    Ok(out)
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
/// Commits brought in from one side must not be signed by keys the other side revoked.
fn check_merge(git: &Repository, merge: &Commit) -> Result<Vec<Violation>> {
    let oid = merge.id();
    let v = |rule: &'static str, message: String| Violation { commit: oid.to_string(), rule, message };
    let parents: Vec<Oid> = merge.parent_ids().collect();
    let mut out = Vec::new();
    let base = git.merge_base_many(&parents).ok();
    let base_snap = TreeSnapshot::new(git, base)?;
    let merged = TreeSnapshot::new(git, Some(oid))?;
    let mut paths: BTreeMap<String, ()> = BTreeMap::new();
    let mut sides: Vec<BTreeMap<String, Option<Vec<u8>>>> = Vec::new();
    for p in &parents {
        let changed = changes_between(git, base, Some(*p))?;
        paths.extend(changed.keys().map(|k| (k.clone(), ())));
        sides.push(changed);
    }
    paths.extend(changes_between(git, base, Some(oid))?.into_keys().map(|k| (k, ())));
    for path in paths.keys() {
        let mut versions: Vec<&Option<Vec<u8>>> = sides.iter().filter_map(|s| s.get(path)).collect();
        versions.dedup();
        let expected = match versions.as_slice() {
            [] => base_snap.read(path)?,
            [one] => (*one).clone(),
            _ => {
                out.push(v(
                    "merge",
                    format!("{path}: changed on both sides; combine them with `ims sync`, not a merge"),
                ));
                continue;
            }
        };
        if merged.read(path)? != expected {
            out.push(v("merge", format!("{path}: the merge does not take the version of the side that changed it")));
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
        for (j, other) in parents.iter().enumerate() {
            if i == j {
                continue;
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
                        rule: "revoked-key",
                        message: format!(
                            "signed by {email}'s key, revoked on the other side of merge {oid}; a revoked key signs only ancestors of its revocation"
                        ),
                    });
                }
            }
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

fn changes_between(git: &Repository, from: Option<Oid>, to: Option<Oid>) -> Result<BTreeMap<String, Option<Vec<u8>>>> {
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
        if !replay::governed(path) {
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
                        rule: "links",
                        message: format!("{path}: {field} names {other}, whose {back} does not name {own_id}"),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Read-audit refs: linear, signed by their owner's registered key, `identify` only,
/// and each recording a read of a state of the verified history.
fn check_read_refs(git: &Repository, trees: Option<&HashSet<Oid>>) -> Result<Vec<Violation>> {
    let mut out = Vec::new();
    for reference in git.references_glob("refs/ims/audit/reads/*")? {
        let reference = reference?;
        let Some(name) = reference.name().ok().map(String::from) else { continue };
        let owner = name.trim_start_matches("refs/ims/audit/reads/").to_string();
        let mut next = reference.target();
        while let Some(oid) = next {
            let commit = git.find_commit(oid)?;
            let v = |message: String| Violation { commit: oid.to_string(), rule: "read-audit", message };
            if commit.parent_count() > 1 {
                out.push(v(format!("{name}: read audits are append-only; a merge is not allowed")));
            }
            let trailers = commit.message().ok().and_then(engine::parse_trailers);
            match trailers {
                None => out.push(v(format!("{name}: not an ims read entry"))),
                Some(t) => {
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
                        next = commit.parent_ids().next();
                        continue;
                    };
                    let key = std::str::from_utf8(&sig).ok().and_then(|s| signing::verify(&data, s).ok());
                    let snap = TreeSnapshot::new(git, Some(oid))?;
                    let registered = match &key {
                        Some(k) => {
                            let line = signing::key_line(k)?;
                            model::person(&snap, &owner)?.is_some_and(|p| p.keys.iter().any(|x| x.key == line))
                        }
                        None => false,
                    };
                    if !registered {
                        out.push(v(format!("{name}: not signed by a key of {owner}")));
                    }
                }
            }
            next = commit.parent_ids().next();
        }
    }
    Ok(out)
}

/// The verification cache: commit ids verified with this ims version and trust root.
struct Cache {
    path: Option<PathBuf>,
    known: HashSet<Oid>,
    added: Vec<Oid>,
}

impl Cache {
    fn open(repo: &Repo, options: &Options) -> Result<Cache> {
        if options.no_cache {
            return Ok(Cache { path: None, known: HashSet::new(), added: vec![] });
        }
        let root = options.trust_root.map(|r| r.to_string()).unwrap_or_else(|| "unpinned".into());
        let path =
            repo.git.path().join("ims").join("verify-cache").join(format!("{}-{root}", env!("CARGO_PKG_VERSION")));
        let known = match std::fs::read_to_string(&path) {
            Ok(text) => text.lines().filter_map(|l| Oid::from_str(l.trim()).ok()).collect(),
            Err(_) => HashSet::new(),
        };
        Ok(Cache { path: Some(path), known, added: vec![] })
    }

    fn has(&self, oid: Oid) -> bool {
        self.known.contains(&oid)
    }

    fn add(&mut self, oid: Oid) {
        if self.path.is_some() && self.known.insert(oid) {
            self.added.push(oid);
        }
    }

    fn save(&self) -> Result<()> {
        let Some(path) = &self.path else { return Ok(()) };
        if self.added.is_empty() {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let mut text = String::with_capacity(self.added.len() * 41);
        for oid in &self.added {
            text.push_str(&oid.to_string());
            text.push('\n');
        }
        f.write_all(text.as_bytes())?;
        Ok(())
    }
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
