//! Queries over the records and their history: `find` filters, the audited-read commit,
//! and `audit` entries with field deltas and signature status.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone, Utc};
use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::engine::{self, ActionLine, Effect};
use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::enums::AuditAction;
use crate::model::{self, Snapshot};
use crate::repo::{Repo, Stamp};
use crate::run::Identity;
use crate::signing;

/// What `find` looks for: fields with the value (or one of the values) they must have,
/// values they must not have, and a creation window. (Recorded as given in an audited
/// read, so an auditor sees exactly what was asked.)
#[derive(Debug, Clone, Default, Serialize)]
pub struct Filters {
    /// Field → wanted value (exact match on the record's field).
    pub equals: BTreeMap<String, String>,
    /// Field → the values one of which it must have (`--status open,in_progress`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub one_of: BTreeMap<String, Vec<String>>,
    /// Field → values it must not have (`--active`: not resolved, closed, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub none_of: BTreeMap<String, Vec<String>>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created before.
    pub until: Option<DateTime<Utc>>,
}

/// Whether a record's field has the value `want` (for a list: holds it).
fn field_is(have: Option<&Value>, want: &str) -> bool {
    match have {
        Some(Value::String(s)) => s == want,
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(want)),
        Some(Value::Bool(b)) => b.to_string() == *want,
        _ => false,
    }
}

impl Filters {
    /// Wants `field` to have one of `values`: one value is `equals`, several `one_of`.
    pub fn put(&mut self, field: &str, mut values: Vec<String>) {
        values.dedup();
        match values.len() {
            0 => {}
            1 => {
                self.equals.insert(field.into(), values.remove(0));
            }
            _ => {
                self.one_of.insert(field.into(), values);
            }
        }
    }

    fn matches(&self, record: &Value, created_field: &str) -> bool {
        for (field, want) in &self.equals {
            if !field_is(record.get(field), want) {
                return false;
            }
        }
        for (field, wants) in &self.one_of {
            if !wants.iter().any(|w| field_is(record.get(field), w)) {
                return false;
            }
        }
        for (field, unwanted) in &self.none_of {
            if unwanted.iter().any(|w| field_is(record.get(field), w)) {
                return false;
            }
        }
        let created = record
            .get(created_field)
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        match (created, self.since, self.until) {
            (Some(c), Some(s), _) if c < s => false,
            (Some(c), _, Some(u)) if c >= u => false,
            (None, Some(_), _) | (None, _, Some(_)) => false,
            _ => true,
        }
    }
}

/// Every record of `kind` that passes `filters`, oldest first.
pub fn find(snap: &dyn Snapshot, kind: RecordKind, filters: &Filters) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for (path, bytes) in model::all_records(snap, kind)? {
        let text = String::from_utf8(bytes).map_err(|_| Error::invalid(format!("{path}: not UTF-8")))?;
        let record = crate::yaml::to_value(&text, &path)?;
        if filters.matches(&record, "created_at") {
            out.push(record);
        }
    }
    out.sort_by(|a, b| {
        let key = |v: &Value| v.get("created_at").and_then(Value::as_str).unwrap_or("").to_string();
        key(a).cmp(&key(b))
    });
    Ok(out)
}

/// How often an audited read retries a lost compare-and-swap on its ref before it halts.
const READ_AUDIT_ATTEMPTS: usize = 64;

/// The ref that holds `actor`'s audited reads.
pub fn read_audit_ref(actor: &str) -> String {
    format!("refs/ims/audit/reads/{actor}")
}

/// The tip of `actor`'s read-audit ref, which their next procedure commit anchors.
pub fn read_audit_tip(repo: &Repo, actor: &str) -> Option<Oid> {
    repo.git.refname_to_id(&read_audit_ref(actor)).ok()
}

/// Records an audited read (policy procedure 1: `identify`, holding only the entity type
/// and the filters or id) as a signed commit on the actor's own ref. If it cannot be
/// written, the read halts (policy procedure 20).
pub fn audit_read(repo: &Repo, identity: &Identity, entity: &str, id: Option<&str>, filters: Value) -> Result<Oid> {
    let person = crate::run::authenticate(repo, identity)?;
    let config = model::config(&repo.snapshot(repo.tip()?)?)?;
    let now = crate::run::clock(config.clock == model::config::Clock::Simulated)?;
    let refname = read_audit_ref(&identity.actor);
    let input = json!({ "entity": entity, "id": id, "filters": filters });
    let input_json = engine::canonical_json(&input)?;
    let subject = match id {
        Some(id) => format!("read: show {id}"),
        None => format!("read: find {entity}"),
    };
    let mut effect = Effect::new(subject);
    effect.actions.push(ActionLine {
        action: AuditAction::Identify,
        ref_type: entity.into(),
        ref_id: id.map(String::from),
    });
    let message = engine::render_message("read.identify/1", &identity.actor, &input_json, &effect);
    // The read commit's tree is the records tree that was read: the audit names exactly
    // which state the reader saw, and carries the registry its signature is checked against.
    let tree = match repo.tip()? {
        Some(tip) => repo.git.find_commit(tip)?.tree_id(),
        None => return Err(Error::internal("no records to read")),
    };
    // Other processes of the same person append to the same ref: a lost compare-and-swap
    // is retried on the new tip (as procedures do), with a short growing, jittered pause so
    // that eight readers starting together do not keep colliding.
    let jitter = u64::from(std::process::id() % 7);
    for attempt in 0..READ_AUDIT_ATTEMPTS {
        if attempt > 0 {
            let pause = (1u64 << attempt.min(6)) + jitter * (attempt as u64 % 3);
            std::thread::sleep(std::time::Duration::from_millis(pause));
        }
        let parent = repo.git.refname_to_id(&refname).ok();
        let at = match parent {
            Some(p) => now.max(repo.commit_time(p)?),
            None => now,
        };
        let stamp = Stamp { name: &person.name, email: &identity.actor, at };
        let commit = repo
            .create_commit_with_tree(parent, tree, &message, &stamp, &|buf| identity.signer.sign(buf))
            .map_err(|e| e.context("audited read"))?;
        if repo.compare_and_swap(&refname, parent, commit, "ims: audited read")? {
            crate::run::upkeep(repo);
            return Ok(commit);
        }
    }
    Err(Error::internal(format!("{refname}: could not record the audited read; the read halts")))
}

/// The signature status of a commit, as `ims audit` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureStatus {
    Good,
    Bad,
    UnknownKey,
    Unsigned,
}

/// Checks a commit's SSH signature in process against the keys registered to `actor`
/// at the commit's first parent (for a root commit, at the commit itself).
pub fn signature_status(git: &Repository, commit: &git2::Commit, actor: &str) -> Result<SignatureStatus> {
    let Ok((sig, data)) = git.extract_signature(&commit.id(), None) else {
        return Ok(SignatureStatus::Unsigned);
    };
    let Ok(armored) = std::str::from_utf8(&sig) else { return Ok(SignatureStatus::Bad) };
    let Ok(public) = signing::verify(&data, armored) else { return Ok(SignatureStatus::Bad) };
    let registry_at = match commit.parent_ids().next() {
        Some(p) => Some(p),
        None => Some(commit.id()),
    };
    let snap = crate::repo::TreeSnapshot::new(git, registry_at)?;
    let line = signing::key_line(&public)?;
    let known = model::person(&snap, actor)?.is_some_and(|p| p.keys.iter().any(|k| k.key == line));
    Ok(if known { SignatureStatus::Good } else { SignatureStatus::UnknownKey })
}

/// One audit entry: one `Ims-Action` line of one commit.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditEntry {
    pub commit: String,
    pub action: String,
    pub ref_type: String,
    pub ref_id: Option<String>,
    pub actor: String,
    pub procedure: String,
    /// Field → `{"old": …, "new": …}`.
    pub fields: Map<String, Value>,
    pub at: String,
    pub signature: SignatureStatus,
    /// The commit's subject: what the procedure did, in words.
    pub subject: String,
}

/// What to show in `ims audit`.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub id: Option<String>,
    pub action: Option<AuditAction>,
    pub actor: Option<String>,
    pub since: Option<DateTime<Utc>>,
    /// Only the commits of B not in A (`A..B`, as `ims verify --range`), reads left out.
    pub range: Option<(Option<Oid>, Oid)>,
}

/// Where the audit trail starts: the branch tip and every actor's read ref.
pub fn audit_heads(repo: &Repo) -> Result<Vec<Oid>> {
    let mut heads: Vec<Oid> = repo.tip()?.into_iter().collect();
    for reference in repo.git.references_glob("refs/ims/audit/reads/*")? {
        if let Some(oid) = reference?.target() {
            heads.push(oid);
        }
    }
    Ok(heads)
}

/// The audit trail of the branch (and, for reads, the actors' read refs), newest first.
pub fn audit(repo: &Repo, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    audit_walk(repo, &audit_heads(repo)?, &[], filter)
}

/// The entries of the commits reachable from `heads` but not from `hide`, newest first
/// (a reader that keeps the older entries asks only for the new ones).
pub fn audit_walk(repo: &Repo, heads: &[Oid], hide: &[Oid], filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
    let git = &repo.git;
    let mut walk = git.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::TIME)?;
    if let Some((base, tip)) = filter.range {
        walk.push(tip)?;
        if let Some(base) = base {
            walk.hide(base)?;
        }
    } else {
        for head in heads {
            walk.push(*head)?;
        }
        for h in hide {
            walk.hide(*h)?;
        }
    }
    let mut entries = Vec::new();
    for oid in walk {
        let commit = git.find_commit(oid?)?;
        let Some(trailers) = commit.message().ok().and_then(engine::parse_trailers) else { continue };
        let at = Utc.timestamp_opt(commit.time().seconds(), 0).single().unwrap_or_default();
        if filter.since.is_some_and(|s| at < s) {
            continue;
        }
        if filter.actor.as_deref().is_some_and(|a| a != trailers.actor) {
            continue;
        }
        let wanted: Vec<&ActionLine> = trailers
            .actions
            .iter()
            .filter(|a| filter.action.is_none_or(|f| f == a.action))
            .filter(|a| filter.id.as_deref().is_none_or(|id| a.ref_id.as_deref() == Some(id)))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let signature = signature_status(git, &commit, &trailers.actor)?;
        let subject = commit.summary().ok().flatten().unwrap_or("").to_string();
        // The commit's tree and its parent's, read once for all its entries: an import
        // names thousands of records in one commit, whose message is read with the commit.
        let trees = if trailers.fields.is_empty() {
            None
        } else {
            Some((
                crate::repo::TreeSnapshot::new(git, commit.parent_ids().next())?,
                crate::repo::TreeSnapshot::new(git, Some(commit.id()))?,
            ))
        };
        for line in wanted {
            let fields = match (&line.ref_id, &trees) {
                (Some(id), Some((old, new))) => field_deltas(old, new, &line.ref_type, id, &trailers.fields)?,
                _ => Map::new(),
            };
            entries.push(AuditEntry {
                commit: commit.id().to_string(),
                action: line.action.to_string(),
                ref_type: line.ref_type.clone(),
                ref_id: line.ref_id.clone(),
                actor: trailers.actor.clone(),
                procedure: trailers.procedure.clone(),
                fields,
                at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                signature,
                subject: subject.clone(),
            });
        }
    }
    Ok(entries)
}

/// Old → new values of the named fields of one record, from the commit's diff: `old` is
/// the parent's tree, `new` the commit's.
fn field_deltas(
    old: &crate::repo::TreeSnapshot,
    new: &crate::repo::TreeSnapshot,
    ref_type: &str,
    id: &str,
    fields: &[String],
) -> Result<Map<String, Value>> {
    if fields.is_empty() {
        return Ok(Map::new());
    }
    let path = match (RecordKind::from_entity(ref_type), ref_type) {
        (Some(kind), _) => crate::ids::record_path(kind, id),
        (None, "person") => model::person::path(id),
        (None, "config") => model::config::PATH.to_string(),
        _ => return Ok(Map::new()),
    };
    let read = |snap: &crate::repo::TreeSnapshot| -> Result<Value> {
        Ok(match snap.read(&path)? {
            Some(bytes) => crate::yaml::to_value(&String::from_utf8_lossy(&bytes), &path).unwrap_or(Value::Null),
            None => Value::Null,
        })
    };
    let old = read(old)?;
    let new = read(new)?;
    let mut out = Map::new();
    for field in fields {
        let top = field.split('.').next().unwrap_or(field);
        let (o, n) = if ref_type == "config" {
            (dotted(&old, field), dotted(&new, field))
        } else {
            (old.get(top).cloned().unwrap_or(Value::Null), new.get(top).cloned().unwrap_or(Value::Null))
        };
        if o != n {
            out.insert(field.clone(), json!({ "old": o, "new": n }));
        }
    }
    Ok(out)
}

fn dotted(v: &Value, path: &str) -> Value {
    path.split('.').try_fold(v, |v, k| v.get(k)).cloned().unwrap_or(Value::Null)
}

/// A high-priority incident closed without its post-incident review past the due time.
#[derive(Debug, Clone, Serialize)]
pub struct OverdueReview {
    pub incident_id: String,
    pub title: String,
    pub closed_at: String,
    pub due: String,
}

/// High-priority incidents closed more than `pir.due_after_close` before `at` that have
/// no review, from the incident facts of the snapshot's tip ([`incident_facts`]), which
/// a caller that already holds them passes instead of reading them twice.
pub fn overdue_reviews(
    snap: &dyn Snapshot,
    facts: &[crate::report::Facts],
    at: DateTime<Utc>,
) -> Result<Vec<OverdueReview>> {
    let config = model::config(snap)?;
    let grace = model::config::parse_duration(&config.pir.due_after_close)?;
    let fmt = |t: i64| {
        Utc.timestamp_opt(t, 0).single().unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut out = Vec::new();
    for f in facts {
        let Some(closed) = f.closed.filter(|_| f.high_priority) else { continue };
        let due = closed + grace;
        let pir = crate::ids::record_path(RecordKind::Pir, &model::pir::id_for(&f.id));
        if due < at.timestamp() && snap.read(&pir)?.is_none() {
            out.push(OverdueReview {
                incident_id: f.id.clone(),
                title: f.title.clone(),
                closed_at: fmt(closed),
                due: fmt(due),
            });
        }
    }
    out.sort_by(|a, b| a.incident_id.cmp(&b.incident_id));
    Ok(out)
}

/// One SLA clock at risk or in breach, for `ims sla check`.
#[derive(Debug, Clone, Serialize)]
pub struct SlaStanding {
    pub incident_id: String,
    pub title: String,
    pub priority: Option<String>,
    pub status: String,
    #[serde(flatten)]
    pub clock: crate::sla::Clock,
}

/// Every running clock at risk or in breach at `at`, incidents in id order.
pub fn sla_standings(snap: &dyn Snapshot, at: DateTime<Utc>) -> Result<Vec<SlaStanding>> {
    let config = model::config(snap)?;
    let mut out = Vec::new();
    for (path, bytes) in model::all_records(snap, RecordKind::Incident)? {
        let inc: model::Incident = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path)?;
        if inc.created_at > at {
            continue;
        }
        let status = crate::sla::status_at(&inc, at);
        if status.is_done() {
            continue;
        }
        let status = status.to_string();
        let mut clocks = crate::sla::clocks(&inc, at, config.sla.warning_threshold)?;
        if let Some(target) = &config.sla.untriaged {
            clocks.extend(crate::sla::untriaged(&inc, at, config.sla.warning_threshold, target)?);
        }
        for clock in clocks {
            if clock.state.needs_attention() {
                out.push(SlaStanding {
                    incident_id: inc.incident_id.clone(),
                    title: inc.title.clone(),
                    priority: inc.priority.map(|p| p.to_string()),
                    status: status.clone(),
                    clock,
                });
            }
        }
    }
    Ok(out)
}

/// The facts of every incident at `tip` (see [`crate::facts`]).
pub fn incident_facts(repo: &Repo, tip: Option<git2::Oid>) -> Result<Vec<crate::report::Facts>> {
    crate::facts::incident_facts(repo, tip)
}

/// Known errors, publications and change reviews, for the KPIs.
pub fn report_context(snap: &dyn Snapshot) -> Result<crate::report::Context> {
    let mut ctx = crate::report::Context::default();
    for (path, bytes) in model::all_records(snap, RecordKind::Problem)? {
        let p: model::problem::Problem = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path)?;
        if let Some(k) = p.known_error_at {
            ctx.known_errors.insert(p.problem_id, k.timestamp());
        }
    }
    for (path, bytes) in model::all_records(snap, RecordKind::Kb)? {
        let a: model::kb::Article = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path)?;
        // The first publish: an article's published_at moves with later versions, so
        // an article published at all counts from when it was last published.
        if let Some(p) = a.published_at {
            ctx.published.insert(a.kb_id, p.timestamp());
        }
    }
    for (path, bytes) in model::all_records(snap, RecordKind::Change)? {
        let c: model::change::Change = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path)?;
        if let (Some(at), Some(outcome)) = (c.reviewed_at, c.outcome) {
            ctx.change_reviews.push((at.timestamp(), outcome == model::change::Outcome::Successful));
        }
    }
    Ok(ctx)
}

/// Open and overdue PIR action items at `at`.
pub fn pir_actions(snap: &dyn Snapshot, at: DateTime<Utc>) -> Result<(usize, usize)> {
    let (mut open, mut overdue) = (0, 0);
    let today = at.date_naive();
    for (path, bytes) in model::all_records(snap, RecordKind::Pir)? {
        let r: model::pir::Review = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path)?;
        for item in r.action_items.iter().filter(|i| i.status == model::pir::ActionStatus::Open) {
            open += 1;
            let due = item.due.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
            if due.is_some_and(|d| d < today) {
                overdue += 1;
            }
        }
    }
    Ok((open, overdue))
}

/// The content of version `n` of the KB article at `path`, as it was published: the
/// oldest commit where the article is `published` at that version.
pub fn kb_version(repo: &Repo, path: &str, n: u32) -> Result<Option<Vec<u8>>> {
    let git = &repo.git;
    let mut walk = git.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL | git2::Sort::REVERSE)?;
    if let Some(tip) = repo.tip()? {
        walk.push(tip)?;
    }
    let mut last_seen = None;
    for oid in walk {
        let snap = crate::repo::TreeSnapshot::new(git, Some(oid?))?;
        let Some(blob) = snap.blob_id(path)? else { continue };
        if last_seen == Some(blob) {
            continue;
        }
        last_seen = Some(blob);
        let bytes = git.find_blob(blob)?.content().to_vec();
        let article: model::kb::Article = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), path)?;
        if article.version == n && article.status == model::kb::ArticleStatus::Published {
            return Ok(Some(bytes));
        }
    }
    Ok(None)
}
