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
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tera::{Context, Tera};

use super::audit::Index;
use super::cache::{cache_path, save, write_if_changed};
use crate::cache::blobs::{self, Lines, Walk};
use crate::cache::{SITE_MANIFEST, SITE_SUMMARIES};
use crate::error::{Error, Result};
use crate::model::enums::{Level, Status};
use crate::model::Incident;
use crate::repo::Repo;
use crate::report::Facts;

/// What list pages, the dashboard, reports and the feed need of one incident.
#[derive(Debug, Clone)]
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
    /// The report facts.
    pub facts: Facts,
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
            facts: Facts::of(i)?,
            blob: None,
        })
    }

    /// Its line in the summary cache: what is not in the report facts, then the facts'
    /// own cache line (which holds the id, title, service and creation time).
    fn to_line(&self) -> Result<String> {
        let time = |t: &Option<DateTime<Utc>>| t.map(|t| t.timestamp().to_string()).unwrap_or_default();
        let flag = |b: bool| if b { '1' } else { '0' };
        Ok(format!(
            "{}\t{}\t{}\t{}\t{}{}{}\t{}\t{}\t{}\t{}",
            self.status.as_str(),
            self.priority.map(|p| p.as_str()).unwrap_or_default(),
            crate::report::tsv_escape(self.team.as_deref().unwrap_or_default()),
            self.updated_at.timestamp(),
            flag(self.public),
            flag(self.has_sla),
            flag(self.untriaged),
            time(&self.last_update),
            time(&self.last_public_update),
            time(&self.acknowledged_at),
            self.facts.to_cache_line()?
        ))
    }

    /// A summary from its cache line; `None` when the line is not one.
    fn from_line(line: &str) -> Option<Summary> {
        let mut cells = line.splitn(9, '\t');
        let mut f = [""; 9];
        for cell in f.iter_mut() {
            *cell = cells.next()?;
        }
        let at = |s: &str| -> Option<DateTime<Utc>> { DateTime::from_timestamp(s.parse().ok()?, 0) };
        let opt_at = |s: &str| -> Option<Option<DateTime<Utc>>> {
            if s.is_empty() {
                Some(None)
            } else {
                at(s).map(Some)
            }
        };
        let flags = f[4].as_bytes();
        if flags.len() != 3 || flags.iter().any(|b| *b != b'0' && *b != b'1') {
            return None;
        }
        let facts = Facts::from_cache_line(f[8]).ok()?;
        record_at(crate::ids::RecordKind::Incident, &facts.id, None).ok()?;
        Some(Summary {
            id: facts.id.clone(),
            title: facts.title.clone(),
            status: f[0].parse().ok()?,
            priority: if f[1].is_empty() { None } else { Some(f[1].parse().ok()?) },
            service: facts.service.clone(),
            team: if f[2].is_empty() { None } else { Some(crate::report::tsv_unescape(f[2])) },
            created_at: DateTime::from_timestamp(facts.created, 0)?,
            updated_at: at(f[3])?,
            public: flags[0] == b'1',
            has_sla: flags[1] == b'1',
            untriaged: flags[2] == b'1',
            last_update: opt_at(f[5])?,
            last_public_update: opt_at(f[6])?,
            acknowledged_at: opt_at(f[7])?,
            facts,
            blob: None,
        })
    }

    pub fn open(&self) -> bool {
        !self.status.is_done()
    }
}

/// Checks that a record's id is a well-formed id of its kind and, when its path is
/// known, that the record sits at the path its id gives: the id names the record's page
/// file, and a commit made by hand (which `ims verify` reports) can put anything there,
/// `../` included, or a second file with another record's id.
pub fn record_at(kind: crate::ids::RecordKind, id: &str, path: Option<&str>) -> Result<()> {
    let well_formed = crate::ids::RecordId::parse(id, "id").is_ok_and(|r| r.kind == kind && r.id == id);
    if !well_formed {
        return Err(Error::invalid(format!(
            "{}: `{}` is not a well-formed {} id; the site is not built from a record `ims verify` refuses",
            path.unwrap_or("a record"),
            id.escape_debug(),
            kind.entity()
        )));
    }
    // Only a well-formed id has a path.
    let expected = crate::ids::record_path(kind, id);
    match path {
        Some(p) if p != expected => Err(Error::invalid(format!(
            "{p}: the record's id {id} belongs at {expected}; the site is not built from a record `ims verify` refuses"
        ))),
        _ => Ok(()),
    }
}

/// Digest of a page's inputs and the records it shows (by blob id, fed as raw bytes).
pub fn render_key_with(parts: &[&str], blobs: impl Iterator<Item = git2::Oid>) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    for b in blobs {
        h.update(b.as_bytes());
    }
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
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

/// A page manifest: which render key each page on disk was made from. Its first line
/// holds the key every page shares (the templates, the site): when that changed, no page
/// is fresh. The manifest of a folder that holds many pages (`incidents/`) also records
/// the folder's modification time as the build left it ([`OnDisk`]).
pub struct Manifest {
    file: PathBuf,
    common: String,
    /// The folder's modification time when the last build had written and removed its
    /// pages, if it was safe to trust.
    folder: Option<String>,
    text: String,
}

/// The pages of the last build and their keys, by page (relative path), and which of
/// them this build has made again.
pub struct Old<'a> {
    keys: HashMap<&'a str, (&'a str, usize)>,
    made: Vec<AtomicBool>,
}

impl Old<'_> {
    /// Whether `rel` was made from `key` and is still there.
    pub fn fresh(&self, rel: &str, key: &str, on_disk: &OnDisk) -> bool {
        self.keys.get(rel).is_some_and(|(k, _)| *k == key) && on_disk.holds(rel)
    }

    /// Notes that this build makes page `rel` (from any thread).
    pub fn made(&self, rel: &str) {
        if let Some((_, n)) = self.keys.get(rel) {
            self.made[*n].store(true, Ordering::Relaxed);
        }
    }

    /// The pages the last build made that this one did not (to remove).
    pub fn unmade(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter(|(_, (_, n))| !self.made[*n].load(Ordering::Relaxed)).map(|(rel, _)| *rel)
    }
}

/// What is in a folder of pages before this build writes any.
pub enum OnDisk {
    /// Its names, as listed.
    Listed(HashSet<String>),
    /// Exactly the pages the last build left there: the folder's modification time is
    /// the one recorded when that build had written and removed its pages, so no name was
    /// added or removed since (git's untracked cache trusts folder times the same way).
    /// Listing a folder of 100,000 pages is a tenth of a rebuild.
    AsLastBuilt,
}

impl OnDisk {
    /// The folder `dir` of the output, whose manifest is `manifest`.
    /// With the folder's time as seen before it was listed, when that time is settled
    /// ([`settled`]): if the folder still has it when the build ends, no name was added
    /// or removed in between.
    pub fn of(dir: &Path, manifest: &Manifest) -> (OnDisk, Option<SystemTime>) {
        let now = SystemTime::now();
        match folder_time(dir) {
            Some(t) if manifest.folder.as_deref() == Some(stamp(t).as_str()) => (OnDisk::AsLastBuilt, Some(t)),
            t => (OnDisk::Listed(existing(dir)), t.filter(|t| settled(*t, now))),
        }
    }

    /// Whether page `rel` (`incidents/…`) is there, for one the manifest lists.
    fn holds(&self, rel: &str) -> bool {
        match self {
            OnDisk::AsLastBuilt => true,
            OnDisk::Listed(names) => rel.rsplit_once('/').is_some_and(|(_, name)| names.contains(name)),
        }
    }
}

/// A folder's modification time.
fn folder_time(dir: &Path) -> Option<SystemTime> {
    std::fs::metadata(dir).ok()?.modified().ok()
}

/// A time as the manifest records it, to the nanosecond.
fn stamp(t: SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

/// Whether a folder time `t` read at `now` can no longer be given again to a later
/// change: the file system's clock has moved past the tick it belongs to. File systems
/// keep times in coarse ticks (a few milliseconds on ext4; whole seconds, even two, on
/// others, whose times have no nanoseconds), and a name added in the same tick leaves
/// the time as it was (git calls such an entry "racily clean").
fn settled(t: SystemTime, now: SystemTime) -> bool {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let tick = if d.subsec_nanos() == 0 { Duration::from_secs(2) } else { Duration::from_millis(20) };
    t + tick < now
}

/// Whether `name` can be a page this build made in a folder of the site: one plain
/// file name ending in `.html`. A manifest line or a cached id naming anything else
/// (`../`, a NUL, an absolute path) is not acted on.
pub fn page_name(name: &str) -> bool {
    name.len() > ".html".len()
        && name.ends_with(".html")
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

/// `dir/name` with a plain folder name and a [`page_name`].
fn page_rel(rel: &str) -> bool {
    rel.split_once('/').is_some_and(|(dir, name)| {
        !dir.is_empty() && dir.bytes().all(|b| b.is_ascii_lowercase() || b == b'-') && page_name(name)
    })
}

impl Manifest {
    pub fn load(repo: &Repo, out: &Path, internal: bool, name: &str, common: &str) -> Manifest {
        let file = manifest_path(repo, out, internal, name);
        let text = crate::cache::read(&file, SITE_MANIFEST).unwrap_or_default();
        let mut folder = None;
        let text = match text.strip_prefix(&format!("common {common}\n")) {
            Some(rest) => match rest.split_once('\n') {
                Some((line, pages)) if line.starts_with("folder ") => {
                    folder = line.strip_prefix("folder ").filter(|t| *t != "-").map(str::to_string);
                    pages.to_string()
                }
                _ => rest.to_string(),
            },
            None => String::new(),
        };
        Manifest { file, common: common.to_string(), folder, text }
    }

    /// The pages of the manifest; a line naming anything but a page is left out.
    pub fn old(&self) -> Old<'_> {
        let pages: Vec<(&str, &str)> =
            self.text.lines().filter_map(|l| l.split_once('\t')).filter(|(rel, _)| page_rel(rel)).collect();
        let made = pages.iter().map(|_| AtomicBool::new(false)).collect();
        let keys = pages.into_iter().enumerate().map(|(n, (r, k))| (r, (k, n))).collect();
        Old { keys, made }
    }

    /// Saves the pages this build made or kept, unless they are what the file holds.
    pub fn save(&self, made: &[(String, String)]) {
        let body = Self::body(made);
        if body != self.text {
            save(&self.file, SITE_MANIFEST, &format!("common {}\n{body}", self.common));
        }
    }

    /// Saves the pages of folder `dir` this build made or kept, once it has written and
    /// removed them all, with the folder's time when the next build may trust it to mean
    /// "exactly these pages": the time `seen` before this build listed or trusted the
    /// folder if it still has it (no name added or removed since, by anyone); otherwise
    /// a time read, settled, around a listing that holds exactly the pages made. A name
    /// put there during the build (between the listing and the end) fails that check,
    /// and the next build lists the folder.
    pub fn save_folder(&self, made: &[(String, String)], dir: &Path, seen: Option<SystemTime>) {
        let body = Self::body(made);
        let time = match folder_time(dir) {
            Some(t) if Some(t) == seen => Some(t),
            _ => {
                let now = SystemTime::now();
                let before = folder_time(dir);
                let names = existing(dir);
                let html = names.iter().filter(|n| n.ends_with(".html")).count();
                let made: HashSet<&str> =
                    made.iter().filter_map(|(rel, _)| rel.rsplit_once('/').map(|(_, n)| n)).collect();
                let exact = html == made.len() && made.iter().all(|n| names.contains(*n));
                before.filter(|t| exact && settled(*t, now) && folder_time(dir) == Some(*t))
            }
        };
        let folder = time.map(stamp).unwrap_or_else(|| "-".into());
        if body == self.text && self.folder.as_deref() == Some(folder.as_str()) {
            return;
        }
        save(&self.file, SITE_MANIFEST, &format!("common {}\nfolder {folder}\n{body}", self.common));
    }

    fn body(made: &[(String, String)]) -> String {
        let mut body = String::with_capacity(made.len() * 64);
        for (rel, key) in made {
            body.push_str(rel);
            body.push('\t');
            body.push_str(key);
            body.push('\n');
        }
        body
    }
}

impl PageInputs<'_> {
    /// The key every incident page shares: the templates, the site and the untriaged target.
    pub fn common(&self) -> Result<String> {
        Ok(render_key(&[self.templates, &serde_json::to_string(self.site)?, self.untriaged.unwrap_or_default()]))
    }

    /// The page's render key: the record's blob id, and a digest of its audit entries,
    /// failed deliveries and reviews when it has any. (What every page shares, the
    /// templates and the site, is the manifest's `common` key.)
    fn key(&self, blob: git2::Oid, id: &str) -> String {
        let (audit, deliveries, reviews) = (self.audit.get(id), self.deliveries.get(id), self.reviews.get(id));
        if audit.is_none() && deliveries.is_none() && reviews.is_none() {
            return blob.to_string();
        }
        let extra = [
            audit.map(|a| serde_json::to_string(a).unwrap_or_default()).unwrap_or_default(),
            deliveries.map(|d| serde_json::to_string(d).unwrap_or_default()).unwrap_or_default(),
            reviews.map(|r| r.join(" ")).unwrap_or_default(),
        ];
        format!("{blob}{}", render_key(&[&extra[0], &extra[1], &extra[2]]))
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
    /// The incident pages made or kept, with their render keys (for the folder's manifest).
    pub made: Vec<(String, String)>,
    pub rendered: usize,
    pub written: usize,
}

/// What became of one incident.
struct Done {
    summary: Summary,
    /// Its cache line, when the summary was made now (not taken from the cache).
    new_line: Option<String>,
    /// Its page and render key, when the audience sees it; whether it was rendered, and
    /// whether that changed the file.
    page: Option<(String, String)>,
    rendered: bool,
    wrote: bool,
}

/// Reads every incident's summary (from the cache, or by parsing what it lacks) and
/// renders the pages whose render key changed, in one pass on every core.
pub fn load_and_render(
    repo: &Repo,
    tip: git2::Oid,
    out: &Path,
    inputs: &PageInputs,
    old: &Old,
    on_disk: &OnDisk,
) -> Result<Loaded> {
    const DIR: &str = "records/incidents";
    let snap = repo.snapshot(Some(tip))?;
    let cache_file = summaries_path(repo);
    let text = crate::cache::read(&cache_file, SITE_SUMMARIES).unwrap_or_default();
    let lines = Lines::index(&text);
    let walk = Walk::of(&repo.git, snap.subtree(DIR)?.map(|t| t.id()), DIR, &lines)?;
    if let Some(blob) = walk.repeated() {
        let at = walk.paths.get(&blob).map(String::as_str).unwrap_or(DIR);
        return Err(Error::invalid(format!(
            "{at}: the same incident file (blob {blob}) is in two places; the site is not built from records `ims verify` refuses"
        )));
    }
    let git_dir = repo.git.path().to_path_buf();
    let workdir = repo.git.workdir().map(Path::to_path_buf);
    let done = blobs::on_every_core(&git_dir, &walk, &lines, |blob, line, git| {
        let path = walk.paths.get(&blob);
        let cached = match line.and_then(Summary::from_line) {
            // A folder read from git names the file: it must be the one its id gives.
            Some(s) => {
                record_at(crate::ids::RecordKind::Incident, &s.id, path.map(String::as_str))?;
                Some(s)
            }
            None => None,
        };
        let id = match (&cached, path) {
            (Some(s), _) => s.id.clone(),
            (None, Some(p)) => Path::new(p).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
            (None, None) => String::new(),
        };
        let shown = |s: Option<&Summary>| inputs.internal || s.is_none_or(|s| s.public);
        let page = |id: &str| (format!("incidents/{id}.html"), inputs.key(blob, id));
        let stale = |(rel, key): &(String, String)| !old.fresh(rel, key, on_disk);
        let wanted = shown(cached.as_ref()).then(|| page(&id));
        let cached = match cached {
            Some(mut summary) if !wanted.as_ref().is_some_and(stale) => {
                if let Some((rel, _)) = &wanted {
                    old.made(rel);
                }
                summary.blob = Some(blob);
                return Ok(Done { summary, new_line: None, page: wanted, rendered: false, wrote: false });
            }
            other => other,
        };
        // The record itself is needed: for its summary, its page, or both.
        let what = path.cloned().unwrap_or_else(|| format!("{DIR}/…/{id}.yaml"));
        let bytes = blobs::content(git.get()?, workdir.as_deref(), blob, path.map(String::as_str))?;
        let incident: Incident = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &what)?;
        record_at(crate::ids::RecordKind::Incident, &incident.incident_id, path.map(String::as_str))?;
        let (mut summary, new_line) = match cached {
            Some(s) => (s, None),
            None => {
                let s = Summary::of(&incident)?;
                let line = s.to_line()?;
                (s, Some(line))
            }
        };
        summary.blob = Some(blob);
        // The page by the record's own id (a summary made now knows whether it is public).
        let wanted = shown(Some(&summary)).then(|| page(&summary.id));
        if let Some((rel, _)) = &wanted {
            old.made(rel);
        }
        let (mut rendered, mut wrote) = (false, false);
        if let Some(p) = wanted.as_ref().filter(|p| stale(p)) {
            rendered = true;
            wrote = write_if_changed(&out.join(&p.0), inputs.render(&incident, blob)?.as_bytes())?;
        }
        Ok(Done { summary, new_line, page: wanted, rendered, wrote })
    })?;
    let (mut rendered, mut written) = (0, 0);
    let mut fresh = HashMap::new();
    let mut made = Vec::new();
    let mut visible = Vec::with_capacity(done.len());
    for d in done {
        rendered += usize::from(d.rendered);
        written += usize::from(d.wrote);
        let blob = d.summary.blob.expect("set above");
        if let Some(line) = d.new_line {
            fresh.insert(blob, line);
        }
        if let Some(page) = d.page {
            made.push(page);
        }
        if inputs.internal || d.summary.public {
            visible.push(d.summary);
        }
    }
    blobs::save(&cache_file, SITE_SUMMARIES, &lines, &walk, &fresh);
    visible.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    Ok(Loaded { visible, made, rendered, written })
}

/// Parses one incident by blob id (for the few pages that need the whole record).
pub fn parse(repo: &Repo, s: &Summary) -> Result<Incident> {
    let blob = s.blob.ok_or_else(|| Error::internal("a summary without its blob"))?;
    let bytes = repo.git.find_blob(blob)?.content().to_vec();
    Ok(crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &s.id)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_time_is_trusted_only_once_its_clock_tick_has_passed() {
        let t = std::time::UNIX_EPOCH + Duration::new(1_800_000_000, 123_456_789);
        assert!(!settled(t, t), "the same instant");
        assert!(!settled(t, t + Duration::from_millis(5)), "within a tick");
        assert!(settled(t, t + Duration::from_millis(50)));
        // Whole seconds: a file system of coarse times (two seconds on some).
        let whole = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert!(!settled(whole, whole + Duration::from_millis(1500)));
        assert!(settled(whole, whole + Duration::from_secs(3)));
    }

    #[test]
    fn only_plain_page_names_are_acted_on() {
        for good in ["INC-20260101-0000000000.html", "index.html", "status-in-progress.html", "page-3.html"] {
            assert!(page_name(good), "{good}");
        }
        for bad in ["../x.html", "..", ".html", "a/b.html", "/abs.html", "notes.txt", "a\0b.html", ".hidden.html"] {
            assert!(!page_name(bad), "{bad}");
        }
        assert!(page_rel("incidents/index.html") && page_rel("audit/page-1.html"));
        assert!(!page_rel("incidents/../../ims.yaml") && !page_rel("../incidents/x.html") && !page_rel("x.html"));
    }

    #[test]
    fn ids_must_be_well_formed_and_at_their_own_path() {
        use crate::ids::RecordKind::Incident;
        let id = "INC-20260101-0000000000";
        assert!(record_at(Incident, id, None).is_ok());
        assert!(record_at(Incident, id, Some("records/incidents/2026/01/01/INC-20260101-0000000000.yaml")).is_ok());
        assert!(record_at(Incident, id, Some("records/incidents/1999/01/01/INC-20260101-0000000000.yaml")).is_err());
        for bad in [
            "../../x",
            "inc-20260101-0000000000",
            "PRB-20260101-0000000000",
            "INC-20260101-00000000001",
            "INC-1-X",
            "KB-2026080é-AAAAAAAAAA",
            "../../../v/pwn-20260807-AAAAAAAAAA",
        ] {
            assert!(record_at(Incident, bad, None).is_err(), "{bad}");
        }
    }
}
