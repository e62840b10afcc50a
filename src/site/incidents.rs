//! Incident pages and what the other pages need of every incident, cached by git blob
//! id: a rebuild parses and renders only the incidents whose record (or audit trail)
//! changed since the last build, on every core.
//!
//! Two caches in `.git/ims/cache/` ([`crate::cache`]): the summary of each incident blob (list row, dashboard
//! fields, report facts), and per output folder a manifest of the incident pages written
//! (page, render key, length). The render key digests everything the page shows: the
//! templates, the audience, the record's blob id and its audit entries.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tera::{Context, Tera};

use super::audit::Index;
use super::cache::{cache_path, save, write_if_changed};
use crate::cache::{SITE_MANIFEST, SITE_SUMMARIES};
use crate::error::{Error, Result};
use crate::model::enums::{Level, Status};
use crate::model::Incident;
use crate::repo::Repo;

/// What list pages, the dashboard, reports and the feed need of one incident.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub priority: Option<Level>,
    pub service: String,
    pub team: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Whether the public may see it (`audience::is_public`).
    pub public: bool,
    pub has_sla: bool,
    /// When its latest update (communication) was sent, and its latest update to end
    /// users (what the public may read): the feed reads only the incidents with the newest.
    pub last_update: Option<DateTime<Utc>>,
    pub last_public_update: Option<DateTime<Utc>>,
    /// Whether it was never given SLA targets (never prioritized): then the
    /// `sla.untriaged` acknowledge clock runs for it while it is open.
    pub untriaged: bool,
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// The report facts, in their cache-line form.
    pub facts: String,
    #[serde(skip)]
    pub blob: Option<git2::Oid>,
}

impl Summary {
    fn of(i: &Incident) -> Result<Summary> {
        Ok(Summary {
            id: i.incident_id.clone(),
            title: i.title.clone(),
            status: i.status,
            priority: i.priority,
            service: i.service.clone(),
            team: i.assigned_team.clone(),
            created_at: i.created_at,
            updated_at: i.updated_at,
            public: super::audience::is_public(super::audience::Record::Incident(i), &Default::default()),
            has_sla: i.sla.is_some(),
            last_update: i.communications.iter().map(|c| c.at).max(),
            last_public_update: i
                .communications
                .iter()
                .filter(|c| super::audience::is_public(super::audience::Record::Communication(c), &Default::default()))
                .map(|c| c.at)
                .max(),
            untriaged: crate::sla::targets_at(i, DateTime::<Utc>::MAX_UTC)?.is_none(),
            acknowledged_at: i.acknowledged_at,
            facts: crate::report::Facts::of(i)?.to_cache_line()?,
            blob: None,
        })
    }

    pub fn open(&self) -> bool {
        !self.status.is_done()
    }
}

/// Digest of a page's inputs.
pub fn render_key(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

fn summaries_path(repo: &Repo) -> PathBuf {
    cache_path(repo, SITE_SUMMARIES, "")
}

fn manifest_path(repo: &Repo, out: &Path, internal: bool, name: &str) -> PathBuf {
    let out = std::fs::canonicalize(out).unwrap_or_else(|_| out.to_path_buf());
    let key = render_key(&[&out.to_string_lossy(), if internal { "internal" } else { "public" }]);
    cache_path(repo, SITE_MANIFEST, &format!("{name}-{}", &key[..16]))
}

/// Everything `render_page` needs besides the incident.
pub struct PageInputs<'a> {
    pub tera: &'a Tera,
    /// The site object for incident pages: nothing in it changes from build to build.
    pub site: &'a super::views::Site,
    pub templates: &'a str,
    pub internal: bool,
    pub view: super::View<'a>,
    pub audit: &'a Index,
    /// Failed deliveries by incident id (internal builds only).
    pub deliveries: &'a HashMap<String, Vec<serde_json::Value>>,
    /// The reviews of each incident, by incident id (linked from its page).
    pub reviews: &'a HashMap<String, Vec<String>>,
    /// The `sla.untriaged` target, shown on the pages of incidents never prioritized.
    pub untriaged: Option<&'a str>,
}

/// Pages already on disk in a folder of the site, by file name.
pub fn existing(dir: &Path) -> HashSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default()
}

/// Page manifests: which render key each page on disk was made from.
pub struct Manifest {
    file: PathBuf,
    old: HashMap<String, String>,
    new: Vec<(String, String)>,
}

impl Manifest {
    pub fn load(repo: &Repo, out: &Path, internal: bool, name: &str) -> Manifest {
        let file = manifest_path(repo, out, internal, name);
        let old = crate::cache::read(&file, SITE_MANIFEST)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(rel, key)| (rel.to_string(), key.to_string()))
            .collect();
        Manifest { file, old, new: Vec::new() }
    }

    /// Whether `rel` was made from `key` and is still there; remembers it either way.
    pub fn fresh(&mut self, rel: &str, key: &str, on_disk: bool) -> bool {
        let fresh = on_disk && self.old.get(rel).is_some_and(|k| k == key);
        if fresh {
            self.new.push((rel.to_string(), key.to_string()));
        }
        fresh
    }

    pub fn made(&mut self, rel: &str, key: &str) {
        self.new.push((rel.to_string(), key.to_string()));
    }

    pub fn save(&self) {
        let mut body = String::new();
        for (rel, key) in &self.new {
            body.push_str(&format!("{rel}\t{key}\n"));
        }
        save(&self.file, SITE_MANIFEST, &body);
    }
}

impl PageInputs<'_> {
    /// The page's render key: `common` (templates and site, digested once per build),
    /// the record's blob id, and a digest of its audit entries when it has any.
    fn key(&self, common: &str, blob: git2::Oid, id: &str) -> String {
        let mut key = match self.audit.get(id) {
            Some(a) => format!("{common}{blob}{}", render_key(&[&serde_json::to_string(a).unwrap_or_default()])),
            None => format!("{common}{blob}"),
        };
        if let Some(d) = self.deliveries.get(id) {
            key.push_str(&render_key(&[&serde_json::to_string(d).unwrap_or_default()]));
        }
        if let Some(r) = self.reviews.get(id) {
            key.push_str(&render_key(&[&r.join(" ")]));
        }
        key
    }

    fn render(&self, i: &Incident, blob: git2::Oid) -> Result<String> {
        let mut c = Context::new();
        let mut site = self.site.clone();
        site.record = Some(super::views::RecordVersion {
            id: i.incident_id.clone(),
            version: blob.to_string()[..12].to_string(),
            updated_at: i.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        });
        c.insert("site", &site);
        c.insert("root", "../");
        let reviews = self.reviews.get(&i.incident_id).map(Vec::as_slice).unwrap_or_default();
        let mut view =
            super::views::incident::build(i, self.view, self.audit.get(&i.incident_id), reviews, self.untriaged);
        view.failed_deliveries = self.deliveries.get(&i.incident_id).cloned().unwrap_or_default();
        c.insert("i", &view);
        super::render(self.tera, "incident.html", &c)
    }
}

/// The incidents of this build.
pub struct Loaded {
    /// Those the audience may see, newest first.
    pub visible: Vec<Summary>,
    /// Incident pages of this build (relative paths).
    pub pages: HashSet<String>,
    pub rendered: usize,
    pub written: usize,
    /// The names in the output's `incidents/` folder before this build wrote any.
    pub on_disk: HashSet<String>,
}

struct Job {
    blob: git2::Oid,
    path: String,
    summary: Option<Summary>,
    page: Option<String>,
}

struct Done {
    blob: git2::Oid,
    summary: Summary,
    /// Whether the summary was made now (not taken from the cache).
    new_summary: bool,
    page: Option<(String, String, bool)>,
}

/// Reads every incident's summary (from the cache, or by parsing what it lacks) and
/// renders the pages whose render key changed, in parallel.
pub fn load_and_render(repo: &Repo, tip: git2::Oid, out: &Path, inputs: &PageInputs) -> Result<Loaded> {
    let snap = repo.snapshot(Some(tip))?;
    let blobs = snap.blobs_under("records/incidents")?;
    // The summary cache is a log: appended to, later lines winning, compacted when
    // mostly stale. A torn last line does not parse and is ignored.
    let mut cache_lines = 0;
    let text = crate::cache::read(&summaries_path(repo), SITE_SUMMARIES).unwrap_or_default();
    let mut lines: HashMap<git2::Oid, &str> = HashMap::new();
    for line in text.lines() {
        cache_lines += 1;
        let Some((oid, json)) = line.split_once('\t') else { continue };
        if let Ok(oid) = git2::Oid::from_str(oid) {
            lines.insert(oid, json);
        }
    }
    // Only the lines of blobs at the tip are parsed, on every core.
    let wanted: Vec<(git2::Oid, &str)> = blobs.iter().filter_map(|(_, b)| lines.get(b).map(|j| (*b, *j))).collect();
    let workers = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).clamp(1, 8);
    let chunk = wanted.len().div_ceil(workers).max(1);
    let mut cached: HashMap<git2::Oid, Summary> = std::thread::scope(|scope| {
        let handles: Vec<_> = wanted
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .filter_map(|(oid, json)| serde_json::from_str::<Summary>(json).ok().map(|s| (*oid, s)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        // A worker that panicked only costs its summaries being made again.
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut manifest = Manifest::load(repo, out, inputs.internal, "incident-pages");
    let on_disk = existing(&out.join("incidents"));
    let common =
        render_key(&[inputs.templates, &serde_json::to_string(inputs.site)?, inputs.untriaged.unwrap_or_default()]);
    // What each incident needs: nothing, its summary, and/or its page.
    let mut jobs = Vec::new();
    let mut ready = Vec::new();
    for (path, blob) in blobs {
        let summary = cached.remove(&blob);
        let id = Path::new(&path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let shown = inputs.internal || summary.as_ref().is_none_or(|s| s.public);
        let name = format!("{id}.html");
        let page = shown
            .then(|| inputs.key(&common, blob, &id))
            .filter(|key| !manifest.fresh(&format!("incidents/{name}"), key, on_disk.contains(&name)));
        match (summary, page) {
            (Some(mut s), None) => {
                s.blob = Some(blob);
                ready.push(s);
            }
            (summary, page) => jobs.push(Job { blob, path, summary, page }),
        }
    }
    let done = run_jobs(repo, out, inputs, jobs)?;
    let (mut rendered, mut written) = (0, 0);
    let mut appended = String::new();
    for d in done {
        if let Some((rel, key, wrote)) = d.page {
            rendered += 1;
            written += usize::from(wrote);
            manifest.made(&rel, &key);
        }
        if d.new_summary {
            appended.push_str(&format!("{}\t{}\n", d.blob, serde_json::to_string(&d.summary)?));
            cache_lines += 1;
        }
        let mut s = d.summary;
        s.blob = Some(d.blob);
        ready.push(s);
    }
    // Caches: the summaries of exactly this tip's blobs, and the pages now on disk.
    if cache_lines > 2 * ready.len() + 1000 {
        let mut body = String::new();
        for s in &ready {
            body.push_str(&format!("{}\t{}\n", s.blob.expect("set above"), serde_json::to_string(s)?));
        }
        save(&summaries_path(repo), SITE_SUMMARIES, &body);
    } else if !appended.is_empty() {
        let _ = crate::cache::append(&summaries_path(repo), SITE_SUMMARIES, &appended);
    }
    manifest.save();
    let pages: HashSet<String> = manifest.new.iter().map(|(rel, _)| rel.clone()).collect();
    let mut visible: Vec<Summary> = ready.into_iter().filter(|s| inputs.internal || s.public).collect();
    visible.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    Ok(Loaded { visible, pages, rendered, written, on_disk })
}

/// Parses and renders on every core; each worker opens the repository for itself.
fn run_jobs(repo: &Repo, out: &Path, inputs: &PageInputs, jobs: Vec<Job>) -> Result<Vec<Done>> {
    if jobs.is_empty() {
        return Ok(vec![]);
    }
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len()).max(1);
    let git_dir = repo.git.path().to_path_buf();
    let mut chunks: Vec<Vec<Job>> = (0..workers).map(|_| Vec::new()).collect();
    for (n, job) in jobs.into_iter().enumerate() {
        chunks[n % workers].push(job);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let git_dir = &git_dir;
                scope.spawn(move || -> Result<Vec<Done>> {
                    let git = git2::Repository::open(git_dir)?;
                    chunk.into_iter().map(|job| run_job(&git, out, inputs, job)).collect()
                })
            })
            .collect();
        let mut done = Vec::new();
        for h in handles {
            done.extend(h.join().map_err(|_| Error::internal("a site worker panicked"))??);
        }
        Ok(done)
    })
}

fn run_job(git: &git2::Repository, out: &Path, inputs: &PageInputs, job: Job) -> Result<Done> {
    let bytes = git.find_blob(job.blob)?.content().to_vec();
    let incident: Incident = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &job.path)?;
    let new_summary = job.summary.is_none();
    let summary = match job.summary {
        Some(s) => s,
        None => Summary::of(&incident)?,
    };
    let shown = inputs.internal || summary.public;
    let page = match job.page.filter(|_| shown) {
        Some(key) => {
            let rel = format!("incidents/{}.html", incident.incident_id);
            let html = inputs.render(&incident, job.blob)?;
            let wrote = write_if_changed(&out.join(&rel), html.as_bytes())?;
            Some((rel, key, wrote))
        }
        None => None,
    };
    Ok(Done { blob: job.blob, summary, new_summary, page })
}

/// Parses one incident by blob id (for the few pages that need the whole record).
pub fn parse(repo: &Repo, s: &Summary) -> Result<Incident> {
    let blob = s.blob.ok_or_else(|| Error::internal("a summary without its blob"))?;
    let bytes = repo.git.find_blob(blob)?.content().to_vec();
    Ok(crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &s.id)?)
}
