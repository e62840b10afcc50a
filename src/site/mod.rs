//! `ims site build`: the records rendered as a static site with tera — dashboard, incidents
//! with their audit trail, problems, changes, knowledge base with search, reviews, report
//! pages, audit log and an Atom feed of communications.
//!
//! Templates receive view models already filtered for the audience, never records, so a
//! repository's own template (in its `templates/`, overriding a built-in one of the same
//! name) cannot show what the audience may not see. Every value is HTML-escaped by tera;
//! Markdown is rendered with pulldown-cmark and sanitized with ammonia.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;
use tera::{Context, Tera};

use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::{self, Incident, Snapshot};
use crate::repo::Repo;

pub mod audience;
mod audit;
mod cache;
mod incidents;
pub mod serve;
pub mod views;

use audience::{is_public, public_text, Links, Record};

const BUILTIN: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("index.html", include_str!("../../templates/index.html")),
    ("incidents.html", include_str!("../../templates/incidents.html")),
    ("incident.html", include_str!("../../templates/incident.html")),
    ("list.html", include_str!("../../templates/list.html")),
    ("article.html", include_str!("../../templates/article.html")),
    ("report.html", include_str!("../../templates/report.html")),
    ("status.html", include_str!("../../templates/status.html")),
    ("record.html", include_str!("../../templates/record.html")),
    ("auditlog.html", include_str!("../../templates/auditlog.html")),
    ("search.html", include_str!("../../templates/search.html")),
    ("email.txt", include_str!("../../templates/email.txt")),
    ("email.html", include_str!("../../templates/email.html")),
];
/// Incidents per older page of an incident list (the first page holds up to twice as many).
const PAGE_SIZE: usize = 500;
const STYLE: &str = include_str!("../../templates/style.css");
/// The search box's script: reads `search-index.js`, loaded before it by a `<script>`
/// tag (a `fetch` of a JSON file fails on `file://`).
const SEARCH_JS: &str = include_str!("../../templates/search.js");
/// The incident list's column sorting, an enhancement of lists that work without it.
const LISTS_JS: &str = include_str!("../../templates/lists.js");

/// Who the site is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Staff: everything.
    Internal,
    /// Anyone: no security incidents, no contact data, no internal notes, only published KB.
    Public,
}

impl std::str::FromStr for Audience {
    type Err = Error;
    fn from_str(s: &str) -> Result<Audience> {
        match s {
            "internal" => Ok(Audience::Internal),
            "public" => Ok(Audience::Public),
            other => Err(Error::invalid(format!("audience: `{other}` is not public or internal"))),
        }
    }
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Internal => "internal",
            Audience::Public => "public",
        }
    }

    /// Where a build for this audience goes unless told otherwise: never the same folder
    /// for both, so a public build cannot inherit an internal one's pages.
    pub fn default_out(self, root: &Path) -> PathBuf {
        root.join(match self {
            Audience::Internal => "site",
            Audience::Public => "site-public",
        })
    }
}

/// The file in a build's folder that names its audience.
pub const MARKER: &str = ".ims-site-audience";

/// Whose build a folder holds: nobody's (missing or empty), an audience's, or files of
/// unknown origin. A folder without the marker holding `audit.html` is an internal build
/// made before the marker existed; one with the other pages of a build, a public one.
fn folder_audience(out: &Path) -> Result<Option<std::result::Result<Audience, String>>> {
    let Ok(mut entries) = std::fs::read_dir(out) else { return Ok(None) };
    if entries.next().is_none() {
        return Ok(None);
    }
    let found = match read_marker(&out.join(MARKER)) {
        Ok(Some(text)) => text.trim().parse::<Audience>().map_err(|_| {
            let shown: String = text.trim().chars().take(40).collect();
            format!("a build marked `{}`", shown.escape_debug())
        }),
        Ok(None) => Err("a marker that is a symbolic link, not one ims wrote".to_string()),
        Err(_) if out.join("audit.html").exists() => Ok(Audience::Internal),
        Err(_) if ["index.html", "style.css", "feed.xml"].iter().all(|f| out.join(f).exists()) => Ok(Audience::Public),
        Err(_) => Err("files that are not a site build".to_string()),
    };
    Ok(Some(found))
}

/// The marker's first bytes (a marker is one word), or `None` when it is a symbolic
/// link: ims never follows one, so a link to `/dev/zero` or to a secret file is neither
/// read whole nor shown.
fn read_marker(path: &Path) -> std::io::Result<Option<String>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
        Ok(f) => {
            let mut bytes = Vec::new();
            f.take(64).read_to_end(&mut bytes)?;
            Ok(Some(String::from_utf8_lossy(&bytes).into_owned()))
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Refuses (exit 5) to build for `audience` into a folder holding another audience's
/// build or other files, naming what it found.
fn check_folder(out: &Path, audience: Audience) -> Result<()> {
    let (what, advice) = match folder_audience(out)? {
        None => return Ok(()),
        Some(Ok(found)) if found == audience => return Ok(()),
        Some(Ok(found)) => (
            format!("an {} site build", found.as_str()).replace("an public", "a public"),
            "pass --clean to empty it first, or choose another --out",
        ),
        Some(Err(what)) => (what, "choose another --out"),
    };
    Err(Error::precondition(format!(
        "{}: holds {what}; a {} build will not write there ({advice})",
        out.display(),
        audience.as_str()
    )))
}

/// Empties `out` for a clean build. Refuses a folder that is or holds the repository,
/// lies inside its git folder, or holds anything but a site build: `--clean` with a
/// mistyped `--out` must never delete the history or someone's files.
pub fn clean(repo: &Repo, out: &Path) -> Result<()> {
    let Ok(dir) = std::fs::canonicalize(out) else { return Ok(()) };
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let root = canonical(repo.root());
    let git = [canonical(repo.git.path()), canonical(repo.git.commondir())];
    if root.starts_with(&dir) || dir.join(".git").exists() || git.iter().any(|g| dir.starts_with(g)) {
        return Err(Error::precondition(format!(
            "{}: holds the repository; --clean empties only a site folder",
            out.display()
        )));
    }
    if let Some(Err(what)) = folder_audience(&dir)? {
        return Err(Error::precondition(format!(
            "{}: holds {what}; --clean empties only a site build's folder (choose another --out)",
            out.display()
        )));
    }
    for e in std::fs::read_dir(&dir)? {
        let path = e?.path();
        if path.is_dir() && !path.is_symlink() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// What a page may show: everything, or what [`audience::is_public`] allows.
#[derive(Clone, Copy)]
pub enum View<'a> {
    Internal,
    Public {
        links: &'a Links,
        /// The problems, changes and articles the public may see, by id.
        shown: &'a HashSet<String>,
    },
}

impl View<'_> {
    fn internal(&self) -> bool {
        matches!(self, View::Internal)
    }

    /// A free-text field as this audience may read it: whole, or withheld.
    fn text<'s>(&self, text: &'s str) -> &'s str {
        match self {
            View::Internal => text,
            View::Public { links, .. } => public_text(text, links),
        }
    }

    /// Whether this audience may not read `text` (it names a person, an email address
    /// or a phone number, and the audience is the public).
    fn withholds(&self, text: &str) -> bool {
        match self {
            View::Internal => false,
            View::Public { links, .. } => audience::personal_data(text, links),
        }
    }

    fn opt_text(&self, text: &Option<String>) -> Option<String> {
        text.as_deref().map(|t| self.text(t).to_string())
    }

    /// Whether a linked problem, change or article may be named.
    fn linked(&self, id: &str) -> bool {
        match self {
            View::Internal => true,
            View::Public { shown, .. } => shown.contains(id),
        }
    }

    fn communication(&self, c: &model::incident::Communication) -> bool {
        match self {
            View::Internal => true,
            View::Public { links, .. } => is_public(Record::Communication(c), links),
        }
    }
}

/// What a build wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Built {
    pub out: PathBuf,
    pub pages: usize,
    pub written: usize,
    /// Incident pages rendered (the others were unchanged since the last build).
    pub rendered: usize,
}

fn fmt(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "—".into())
}

/// The names of the built-in templates: the only ones `ims template set` may override.
pub fn template_names() -> Vec<&'static str> {
    crate::procedures::template::NAMES.to_vec()
}

/// The tera functions a template may call: they compute from their arguments only.
const ALLOWED_FUNCTIONS: &[&str] = &["range", "throw"];

/// A tera instance that reaches nothing outside the view models it is given: every
/// function other than [`ALLOWED_FUNCTIONS`] (tera's `get_env`, and `now` and
/// `get_random` where tera has them) is replaced by one that refuses, naming itself.
/// Filters and testers compute from their input only; templates are only ever added by
/// name from text, so `include`/`extends`/`import` reach no file.
fn sandbox() -> Tera {
    let mut t = Tera::default();
    // tera keeps its functions in a public (if undocumented) map: go through all of them,
    // so a function a later tera adds is refused too.
    let names: Vec<String> = t.functions.keys().filter(|n| !ALLOWED_FUNCTIONS.contains(&n.as_str())).cloned().collect();
    for name in names.into_iter().chain(["get_env", "now", "get_random", "load_data"].map(String::from)) {
        let message = format!(
            "`{name}()` is not available: site templates see only the records' view models, \
             never the environment, the clock, randomness or files"
        );
        t.register_function(&name, move |_: &HashMap<String, Value>| Err(tera::Error::msg(message.clone())));
    }
    t.autoescape_on(vec![".html"]);
    t
}

/// Checks that the sandboxed tera parses `text` as the template `name` (with the
/// built-in templates beside it, for `extends` and `include`).
pub fn check_template(name: &str, text: &str) -> Result<()> {
    let mut t = sandbox();
    t.add_raw_templates(BUILTIN.to_vec()).map_err(|e| Error::internal(format!("built-in templates: {e}")))?;
    t.add_raw_templates(vec![(name, text)]).map_err(|e| Error::invalid(format!("template {name}: {}", causes(&e))))?;
    Ok(())
}

fn causes(e: &tera::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

/// The templates, and a digest of their sources (part of every page's render key).
/// Overrides come from the committed tree at `tip`, never the working tree, and only
/// when a signed template procedure made them ([`governed_templates`]).
pub(crate) fn tera(repo: &Repo, tip: git2::Oid) -> Result<(Tera, String)> {
    let mut t = sandbox();
    t.add_raw_templates(BUILTIN.to_vec()).map_err(|e| Error::internal(format!("built-in templates: {e}")))?;
    let mut sources: Vec<String> = BUILTIN.iter().map(|(n, s)| format!("{n}\n{s}")).collect();
    let own = governed_templates(repo, tip)?;
    if !own.is_empty() {
        sources.extend(own.iter().map(|(name, text)| format!("own {name}\n{text}")));
        t.add_raw_templates(own).map_err(|e| Error::invalid(format!("templates/: {}", causes(&e))))?;
    }
    sources.sort();
    let digest = incidents::render_key(&sources.iter().map(String::as_str).collect::<Vec<_>>());
    Ok((t, digest))
}

/// The id of the `templates` folder in a commit's tree.
fn templates_tree(git: &git2::Repository, commit: git2::Oid) -> Result<Option<git2::Oid>> {
    let tree = git.find_commit(commit)?.tree()?;
    Ok(tree.get_name("templates").map(|e| e.id()))
}

/// The template overrides at `tip`: regular files with built-in names, whose folder is
/// exactly as the last commit that changed it left it — a signed template procedure
/// that replays (checked once per folder state and remembered in `.git/ims/cache/`). A
/// symbolic link, a file ims does not know, or a folder changed by hand is refused (exit 3).
fn governed_templates(repo: &Repo, tip: git2::Oid) -> Result<Vec<(String, String)>> {
    let git = &repo.git;
    let tree = git.find_commit(tip)?.tree()?;
    let Some(entry) = tree.get_name("templates") else { return Ok(vec![]) };
    if entry.kind() != Some(git2::ObjectType::Tree) {
        return Err(Error::invalid("templates: not a folder of template overrides"));
    }
    let folder = git.find_tree(entry.id())?;
    let names = template_names();
    let mut out = Vec::new();
    for e in folder.iter() {
        let name = e.name().unwrap_or("?").to_string();
        if e.filemode() == i32::from(git2::FileMode::Link) {
            return Err(Error::invalid(format!(
                "templates/{name}: a symbolic link; refused (templates are regular files set with `ims template set`)"
            )));
        }
        if e.kind() != Some(git2::ObjectType::Blob) || e.filemode() != i32::from(git2::FileMode::Blob) {
            return Err(Error::invalid(format!("templates/{name}: not a regular file; refused")));
        }
        if !names.contains(&name.as_str()) {
            return Err(Error::invalid(format!(
                "templates/{name}: not a built-in template name ({}); refused",
                names.join(", ")
            )));
        }
        let blob = git.find_blob(e.id())?;
        let text = crate::procedures::template::check_template(&name, blob.content())?;
        out.push((name, text));
    }
    prove_templates(repo, tip, entry.id())?;
    Ok(out)
}

/// Checks that the `templates` folder `folder` at `tip` was made by a signed template
/// procedure that replays: finds the commit that last changed it and checks that one.
fn prove_templates(repo: &Repo, tip: git2::Oid, folder: git2::Oid) -> Result<()> {
    let git = &repo.git;
    let proof = crate::cache::path(git.path(), crate::cache::SITE_TEMPLATES, "");
    let proved: Vec<String> = crate::cache::read(&proof, crate::cache::SITE_TEMPLATES)
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect();
    if proved.iter().any(|l| l == &folder.to_string()) {
        return Ok(());
    }
    // Back along the parents that have the same folder, to the commit that made it.
    let mut at = tip;
    'walk: loop {
        for p in git.find_commit(at)?.parent_ids() {
            if templates_tree(git, p)? == Some(folder) {
                at = p;
                continue 'walk;
            }
        }
        break;
    }
    let commit = git.find_commit(at)?;
    let refuse = |why: String| {
        Err(Error::invalid(format!(
            "templates/ at the tip was last changed by commit {at}, {why}; the site uses only templates set with \
             `ims template set` (run `ims verify`)"
        )))
    };
    let Some(trailers) = commit.message().ok().and_then(crate::engine::parse_trailers) else {
        return refuse("which is not an ims procedure".into());
    };
    if commit.parent_count() != 1 {
        return refuse("which is not a single-parent procedure commit".into());
    }
    let parent = commit.parent_id(0)?;
    let Ok((sig, data)) = git.extract_signature(&at, None) else { return refuse("which is unsigned".into()) };
    let key = std::str::from_utf8(&sig).ok().and_then(|s| crate::signing::verify(&data, s).ok());
    let good = match key {
        Some(k) => {
            let line = crate::signing::key_line(&k)?;
            let snap = repo.snapshot(Some(parent))?;
            model::person(&snap, &trailers.actor)?.is_some_and(|p| !p.revoked && p.active_keys().any(|x| x.key == line))
        }
        None => false,
    };
    if !good {
        return refuse(format!("whose signature is not by an active key of {}", trailers.actor));
    }
    let changes = crate::replay::governed_changes(git, &commit, Some(parent))?;
    match crate::replay::replay_outcome(git, &commit, &changes)? {
        crate::replay::Replay::Proved(_) => {}
        crate::replay::Replay::Failed(v) => {
            return refuse(format!("which does not replay ({}: {})", v.rule, v.message))
        }
        crate::replay::Replay::Ignored => return refuse("which is not an ims procedure".into()),
    }
    crate::cache::append(&proof, crate::cache::SITE_TEMPLATES, &format!("{folder}\n"))?;
    Ok(())
}

/// Runs `f` on each item, on every core (in no particular order).
fn on_every_core<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> Result<R> + Sync) -> Result<Vec<R>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len()).max(1);
    let mut chunks: Vec<Vec<T>> = (0..workers).map(|_| Vec::new()).collect();
    for (n, item) in items.into_iter().enumerate() {
        chunks[n % workers].push(item);
    }
    std::thread::scope(|scope| {
        let f = &f;
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| scope.spawn(move || chunk.into_iter().map(f).collect::<Result<Vec<R>>>()))
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.extend(h.join().map_err(|_| Error::internal("a site worker panicked"))??);
        }
        Ok(out)
    })
}

/// Writes pages on every core (`write` renders one and tells whether its file changed),
/// adding each page and its render key to `made`; how many files changed.
fn render_pages<P: Send + Sync>(
    jobs: Vec<(String, String, P)>,
    made: &mut Vec<(String, String)>,
    write: impl Fn(&str, &P) -> Result<bool> + Sync,
) -> Result<usize> {
    let done = on_every_core(jobs, |(rel, key, page)| Ok((write(&rel, &page)?, rel, key)))?;
    let mut written = 0;
    for (wrote, rel, key) in done {
        written += usize::from(wrote);
        made.push((rel, key));
    }
    Ok(written)
}

/// A template's context with a view model's fields added at its top level (the names
/// the templates, built-in and overriding, know).
fn with_view(mut c: Context, view: &impl Serialize) -> Result<Context> {
    c.extend(Context::from_serialize(view).map_err(|e| Error::internal(format!("view model: {}", causes(&e))))?);
    Ok(c)
}

/// Renders a template, naming it and every cause in the error.
fn render(tera: &Tera, name: &str, ctx: &Context) -> Result<String> {
    tera.render(name, ctx).map_err(|e| Error::invalid(format!("template {name}: {}", causes(&e))))
}

/// Renders the site into `out` as of `now` (the command's clock: the build time on a
/// real clock, the simulated `now` on a simulated one), writing only files whose bytes
/// changed. Only the pages that depend on the current time (the dashboard, with its SLA
/// list) show it; the report pages depend on the records alone.
pub fn build(repo: &Repo, out: &Path, audience: Audience, now: DateTime<Utc>) -> Result<Built> {
    let tip = repo.tip()?.ok_or_else(|| Error::invalid("nothing to build: the branch has no commits"))?;
    check_folder(out, audience)?;
    for dir in ["incidents", "kb", "reports", "problems", "changes", "pir", "audit"] {
        cache::real_folder(&out.join(dir))?;
    }
    cache::write_if_changed(&out.join(MARKER), format!("{}\n", audience.as_str()).as_bytes())?;
    let snap = repo.snapshot(Some(tip))?;
    let config = model::config(&snap)?;
    let internal = audience == Audience::Internal;
    let tip_time = repo.commit_time(tip)?;
    let as_of = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let site = views::Site {
        organization: config.organization.clone(),
        internal,
        simulated: config.clock == model::config::Clock::Simulated,
        audience: audience.as_str(),
        built_at: Some(as_of.clone()),
        commit: Some(tip.to_string()),
        record: None,
        status_href: if internal { "status.html" } else { "index.html" },
        dashboard_href: if internal { "index.html" } else { "dashboard.html" },
    };
    // Reads records, does not prove them (that is `ims verify`'s job, which keeps
    // libgit2's hash check on): skip re-hashing every object read.
    git2::opts::strict_hash_verification(false);
    let (tera, templates) = tera(repo, tip)?;
    // The records besides incidents, and of them what this audience may see: for the
    // public, what `audience::is_public` allows, following links.
    let problems: Vec<model::problem::Problem> =
        load_all(&snap, RecordKind::Problem, |p: &model::problem::Problem| &p.problem_id)?;
    let changes: Vec<model::change::Change> =
        load_all(&snap, RecordKind::Change, |c: &model::change::Change| &c.change_id)?;
    let articles: Vec<model::kb::Article> = load_all(&snap, RecordKind::Kb, |a: &model::kb::Article| &a.kb_id)?;
    let reviews: Vec<model::pir::Review> = load_all(&snap, RecordKind::Pir, |r: &model::pir::Review| &r.pir_id)?;
    let links = if internal {
        Links::default()
    } else {
        Links::load(&snap, &problems, &changes, &articles, &reviews, &model::people(&snap)?)?
    };
    let mut shown: Vec<String> = Vec::new();
    if !internal {
        let public = |r: Record| is_public(r, &links);
        shown.extend(problems.iter().filter(|p| public(Record::Problem(p))).map(|p| p.problem_id.clone()));
        shown.extend(changes.iter().filter(|c| public(Record::Change(c))).map(|c| c.change_id.clone()));
        shown.extend(articles.iter().filter(|a| public(Record::Kb(a))).map(|a| a.kb_id.clone()));
        shown.extend(reviews.iter().filter(|r| public(Record::Pir(r))).map(|r| r.pir_id.clone()));
    }
    // Cached public pages depend on these decisions too: they are part of the render key.
    let templates =
        if internal { templates } else { incidents::render_key(&[&templates, &links.digest(), &shown.join(" ")]) };
    let shown: HashSet<String> = shown.into_iter().collect();
    let view = if internal { View::Internal } else { View::Public { links: &links, shown: &shown } };
    let mut pages: BTreeMap<String, String> = BTreeMap::new();
    let render = |name: &str, ctx: &Context| render(&tera, name, ctx);
    // Only the pages that depend on the current time (the dashboard and the status page)
    // carry the build's time and commit and say "as of"; every other page depends on the
    // records alone, so a rebuild that changes none of what it shows rewrites it not.
    let page_site = views::Site { built_at: None, commit: None, ..site.clone() };
    let ctx_for = |root: &str| {
        let mut c = Context::new();
        c.insert("site", &page_site);
        c.insert("root", root);
        c
    };
    let ctx_now = |root: &str| {
        let mut c = Context::new();
        c.insert("site", &site);
        c.insert("root", root);
        c
    };

    // Incidents: summaries and pages, from the caches where nothing changed.
    let audit = if internal { audit::index(repo)? } else { HashMap::new() };
    // The complete audit log (staff only) is read beside the incident pages' rendering:
    // after a large import, its first read (every entry's field deltas) is seconds of
    // work that needs none of the rest.
    let audit_log = internal.then(|| {
        let git_dir = repo.git.path().to_path_buf();
        std::thread::spawn(move || audit::log(&Repo { git: git2::Repository::open(git_dir)? }))
    });
    // Messages `ims deliver` gave up on, shown on the internal incident pages.
    let mut deliveries: HashMap<String, Vec<Value>> = HashMap::new();
    if internal {
        for f in crate::deliver::failed(&snap)? {
            deliveries.entry(f["incident_id"].as_str().unwrap_or_default().to_string()).or_default().push(f);
        }
    }
    let mut pirs: HashMap<String, Vec<String>> = HashMap::new();
    for r in &reviews {
        pirs.entry(r.incident_id.clone()).or_default().push(r.pir_id.clone());
    }
    let inputs = incidents::PageInputs {
        tera: &tera,
        site: &page_site,
        templates: &templates,
        internal,
        view,
        audit: &audit,
        deliveries: &deliveries,
        reviews: &pirs,
        untriaged: config.sla.untriaged.as_deref(),
    };
    // The `incidents/` folder's manifest: its incident pages and list pages, with the keys
    // they were made from.
    let folder = incidents::Manifest::load(repo, out, internal, "incident-pages", &inputs.common()?);
    let old = folder.old();
    let (on_disk, seen) = incidents::OnDisk::of(&out.join("incidents"), &folder);
    let mut loaded = incidents::load_and_render(repo, tip, out, &inputs, &old, &on_disk)?;
    let incidents = &loaded.visible;
    let git_dir = repo.git.path().to_path_buf();
    let organization = config.organization.clone();
    std::thread::scope(|scope| -> Result<Built> {
        // Beside the rest, on a core of its own: the incidents' entries of the search index
        // and the feed (which reads the records of the latest updates).
        let beside = scope.spawn(move || -> Result<(String, String)> {
            let search = incident_search(incidents, view)?;
            let repo = Repo { git: git2::Repository::open(&git_dir)? };
            Ok((search, feed(&repo, &organization, incidents, view, tip_time)?))
        });
        // The incident list: active incidents first, then newest first; and the same list
        // filtered by each status, priority, service and team, pre-rendered so the filters
        // are links that work without script.
        let row = |i: &incidents::Summary| views::list::Row {
            id: i.id.clone(),
            title: view.text(&i.title).to_string(),
            status: i.status.as_str().replace('_', " "),
            status_class: i.status.as_str().replace('_', "-"),
            priority: i.priority.map(|p| p.as_str()).unwrap_or("—").to_string(),
            service: view.text(&i.service).to_string(),
            team: i.team.as_deref().map(|t| view.text(t).to_string()).unwrap_or_else(|| "—".into()),
            created_at: i.created_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            done: u8::from(i.status.is_done()),
        };
        let mut ordered: Vec<&incidents::Summary> = incidents.iter().collect();
        ordered.sort_by(|a, b| {
            a.status.is_done().cmp(&b.status.is_done()).then(b.created_at.cmp(&a.created_at)).then(a.id.cmp(&b.id))
        });
        type FacetFn<'f> = &'f dyn for<'s> Fn(&'s incidents::Summary) -> std::borrow::Cow<'s, str>;
        let facet_fns: [(&'static str, &str, FacetFn); 4] = [
            ("Status", "status", &|i| i.status.as_str().replace('_', " ").into()),
            ("Priority", "priority", &|i| i.priority.map(|p| p.as_str()).unwrap_or("unset").into()),
            ("Service", "service", &|i| view.text(&i.service).into()),
            ("Team", "team", &|i| i.team.as_deref().map(|t| view.text(t)).unwrap_or("unassigned").into()),
        ];
        // (file stem, heading, filter, rows)
        type List<'l> = (String, String, Option<(String, String)>, Vec<&'l incidents::Summary>);
        let mut lists: Vec<List> = vec![("index".into(), "Incidents".into(), None, ordered.clone())];
        let mut facets: Vec<views::list::Facet> = Vec::new();
        for (label, key, f) in facet_fns {
            let mut groups: BTreeMap<std::borrow::Cow<str>, Vec<&incidents::Summary>> = BTreeMap::new();
            for i in &ordered {
                let value = f(i);
                match groups.get_mut(value.as_ref()) {
                    Some(rows) => rows.push(i),
                    None => drop(groups.insert(value, vec![i])),
                }
            }
            let mut taken = HashSet::new();
            let mut values = Vec::new();
            for (value, rows) in groups {
                let value = value.into_owned();
                let stem = format!("{key}-{}", views::list::slug(&value, &mut taken));
                values.push(views::list::FacetValue { label: value.clone(), href: format!("{stem}.html") });
                lists.push((
                    stem,
                    format!("Incidents: {} {value}", label.to_lowercase()),
                    Some((label.into(), value)),
                    rows,
                ));
            }
            facets.push(views::list::Facet { label, values });
        }
        // List pages that show the same rows as last time are not rendered again: a row is
        // a function of its record, so the blob ids of a page's records stand for its rows.
        let site_key = serde_json::to_string(&page_site)?;
        let common = incidents::render_key(&[&templates, &site_key, &serde_json::to_string(&facets)?]);
        let mut list_pages = std::collections::HashSet::new();
        let mut list_written = 0;
        let mut list_jobs: Vec<(String, String, views::list::ListPage)> = Vec::new();
        for (stem, heading, filter, rows) in &lists {
            let chunks = list_chunks(rows);
            let name = |k: usize| list_page_name(stem, k, chunks.len());
            let links: Vec<views::list::PageLink> = if chunks.len() > 1 {
                (1..=chunks.len()).map(|n| views::list::PageLink { n, href: name(n) }).collect()
            } else {
                vec![]
            };
            for (n, chunk) in chunks.iter().enumerate() {
                let name = name(n + 1);
                let rel = format!("incidents/{name}");
                // Only the first page counts the whole list; an older page shows its rows alone.
                let total = if n == 0 { rows.len().to_string() } else { String::new() };
                let blobs = chunk.iter().filter_map(|s| s.blob);
                let key = incidents::render_key_with(&[&common, &rel, &chunks.len().to_string(), &total], blobs);
                list_pages.insert(rel.clone());
                old.made(&rel);
                if old.fresh(&rel, &key, &on_disk) {
                    loaded.made.push((rel, key));
                    continue;
                }
                let plural = |n: usize| if n == 1 { "incident" } else { "incidents" };
                let note = if n == 0 {
                    format!("{} {}: active first, then newest first.", rows.len(), plural(rows.len()))
                } else {
                    format!("Page {} of the list: {} older {}, newest first.", n + 1, chunk.len(), plural(chunk.len()))
                };
                let page = views::list::ListPage {
                    heading: heading.clone(),
                    note,
                    filter: filter.clone(),
                    rows: chunk.iter().map(|i| row(i)).collect(),
                    total: (n == 0).then_some(rows.len()),
                    page: n + 1,
                    pages: links.clone(),
                    facets: facets.clone(),
                };
                list_jobs.push((rel, key, page));
            }
        }
        // Rendered on every core: a full build renders each incident's row once per list it is in.
        list_written += render_pages(list_jobs, &mut loaded.made, |rel, page| {
            let mut c = ctx_for("../");
            c.insert("list", page);
            cache::write_if_changed(&out.join(rel), render("incidents.html", &c)?.as_bytes())
        })?;

        // Problems, changes and reviews: a list each and a page per record, linking both ways.
        let titles: HashMap<&str, &str> = incidents.iter().map(|i| (i.id.as_str(), i.title.as_str())).collect();
        let mut names: HashMap<&str, (&str, &str)> = HashMap::new();
        names.extend(problems.iter().map(|p| (p.problem_id.as_str(), ("problems", p.title.as_str()))));
        names.extend(changes.iter().map(|c| (c.change_id.as_str(), ("changes", c.summary.as_str()))));
        names.extend(articles.iter().map(|a| (a.kb_id.as_str(), ("kb", a.title.as_str()))));
        names.extend(reviews.iter().map(|r| (r.pir_id.as_str(), ("pir", ""))));
        let link = |id: &str| -> Option<views::record::Link> {
            let (dir, title) = match titles.get(id) {
                Some(t) => ("incidents", *t),
                None if view.linked(id) => *names.get(id)?,
                None => return None,
            };
            Some(views::record::Link {
                id: id.to_string(),
                href: format!("../{dir}/{id}.html"),
                title: view.text(title).to_string(),
            })
        };
        let text = |t: &str| view.text(t).to_string();
        let rctx = views::record::Ctx { internal, text: &text, link: &link };
        let record_page = |page: &views::record::RecordPage| -> Result<String> {
            let mut c = ctx_for("../");
            c.insert("r", page);
            render("record.html", &c)
        };
        for p in problems.iter().filter(|p| view.linked(&p.problem_id)) {
            let changes_naming = views::record::backlinks(&changes, &p.problem_id, |c| (&c.change_id, &c.problem_ids));
            let kb_naming = views::record::backlinks(&articles, &p.problem_id, |a| (&a.kb_id, &a.problem_ids));
            let page = views::record::problem(p, changes_naming, kb_naming, &rctx);
            pages.insert(format!("problems/{}.html", p.problem_id), record_page(&page)?);
        }
        for c in changes.iter().filter(|c| view.linked(&c.change_id)) {
            let problems_naming = views::record::backlinks(&problems, &c.change_id, |p| (&p.problem_id, &p.change_ids));
            pages.insert(
                format!("changes/{}.html", c.change_id),
                record_page(&views::record::change(c, problems_naming, &rctx))?,
            );
        }
        for r in reviews.iter().filter(|r| view.linked(&r.pir_id)) {
            let Some(title) = titles.get(r.incident_id.as_str()) else { continue };
            pages.insert(format!("pir/{}.html", r.pir_id), record_page(&views::record::review(r, title, &rctx))?);
        }
        use views::table::{TablePage, TableRow};
        let table = |page: TablePage| -> Result<String> { render("list.html", &with_view(ctx_for("../"), &page)?) };
        let rows = problems
            .iter()
            .filter(|p| view.linked(&p.problem_id))
            .map(|p| {
                TableRow::new(
                    &p.problem_id,
                    vec![
                        p.problem_id.clone(),
                        text(&p.title),
                        p.status.as_str().into(),
                        if p.known_error { "yes" } else { "no" }.into(),
                        text(p.service.as_deref().unwrap_or_default()),
                        p.incident_ids.len().to_string(),
                    ],
                )
            })
            .collect();
        pages.insert(
            "problems/index.html".into(),
            table(TablePage {
                heading: "Problems and known errors".into(),
                columns: vec!["Id", "Title", "Status", "Known error", "Service", "Incidents"],
                rows,
                search: false,
            })?,
        );
        let rows = changes
            .iter()
            .filter(|c| view.linked(&c.change_id))
            .map(|c| {
                TableRow::new(
                    &c.change_id,
                    vec![
                        c.change_id.clone(),
                        text(&c.summary),
                        c.kind.as_str().into(),
                        c.risk.as_str().into(),
                        c.status.as_str().into(),
                        c.outcome.map(|o| o.as_str()).unwrap_or("—").into(),
                    ],
                )
            })
            .collect();
        pages.insert(
            "changes/index.html".into(),
            table(TablePage {
                heading: "Changes".into(),
                columns: vec!["Id", "Summary", "Type", "Risk", "Status", "Outcome"],
                rows,
                search: false,
            })?,
        );

        // Search: one index for the whole site, in one script file every search box loads.
        let mut search: Vec<SearchEntry> = Vec::new();
        for p in problems.iter().filter(|p| view.linked(&p.problem_id)) {
            let text =
                format!("{} {}", view.text(&p.description), view.text(p.workaround.as_deref().unwrap_or_default()));
            search.push(SearchEntry::new("problem", &p.problem_id, view.text(&p.title), &text, "problems"));
        }
        for c in changes.iter().filter(|c| view.linked(&c.change_id)) {
            search.push(SearchEntry::new("change", &c.change_id, view.text(&c.summary), "", "changes"));
        }

        // Knowledge base: for the public, published articles about public incidents only.
        let articles: Vec<&model::kb::Article> = articles.iter().filter(|a| view.linked(&a.kb_id)).collect();
        let rows = articles
            .iter()
            .map(|a| {
                TableRow::new(
                    &a.kb_id,
                    vec![
                        a.kb_id.clone(),
                        text(&a.title),
                        a.kind.as_str().into(),
                        a.status.as_str().into(),
                        a.version.to_string(),
                    ],
                )
            })
            .collect();
        pages.insert(
            "kb/index.html".into(),
            table(TablePage {
                heading: "Knowledge base".into(),
                columns: vec!["Id", "Title", "Type", "Status", "Version"],
                rows,
                search: true,
            })?,
        );
        for a in &articles {
            let mut c = ctx_for("../");
            // Judged as written and as the reader sees it: markdown emphasis or an entity
            // (`Ada **Lovelace**`, `ada&#64;example.com`) must not hide what it shows.
            let rendered = views::article::body_html(&a.body, &a.title);
            let html = if view.withholds(&a.body)
                || view.withholds(&visible_text(&rendered))
                || view.withholds(&attribute_text(&rendered))
            {
                format!("<p>{}</p>", escape(audience::WITHHELD))
            } else {
                rendered
            };
            let page = views::article::article(a, html.clone(), &rctx);
            c.insert("a", &page);
            pages.insert(format!("kb/{}.html", a.kb_id), render("article.html", &c)?);
            search.push(SearchEntry::new("kb", &a.kb_id, view.text(&a.title), &visible_text(&html), "kb"));
        }

        // Reviews: for staff, of every incident with its factors and action items; for the
        // public, reviews of public incidents that ended, without their internals.
        let (columns, rows): (Vec<&'static str>, Vec<TableRow>) = if internal {
            let rows = reviews
                .iter()
                .filter(|r| titles.contains_key(r.incident_id.as_str()))
                .map(|r| {
                    let items: Vec<String> =
                        r.action_items.iter().map(|a| format!("{} ({})", a.action, a.status.as_str())).collect();
                    TableRow::new(
                        &r.pir_id,
                        vec![r.incident_id.clone(), r.contributing_factors.clone(), items.join("; ")],
                    )
                })
                .collect();
            (vec!["Incident", "Contributing factors", "Action items"], rows)
        } else {
            let rows = reviews
                .iter()
                .filter(|r| view.linked(&r.pir_id))
                .filter_map(|r| titles.get(r.incident_id.as_str()).map(|t| (r, t)))
                .map(|(r, t)| {
                    let kb: Vec<&str> = r.kb_ids.iter().filter(|k| view.linked(k)).map(String::as_str).collect();
                    let kb = if kb.is_empty() { "—".to_string() } else { kb.join(", ") };
                    TableRow::new(&r.pir_id, vec![r.incident_id.clone(), text(t), fmt(&Some(r.created_at)), kb])
                })
                .collect();
            (vec!["Incident", "Title", "Reviewed", "Articles"], rows)
        };
        pages.insert(
            "pir/index.html".into(),
            table(TablePage { heading: "Post-incident reviews".into(), columns, rows, search: false })?,
        );

        // KPIs: the dashboard and report pages per month, week and day, from the one KPI
        // engine `ims report` uses, with the same periods and previous periods.
        use crate::report::{Period, Selection};
        let facts: Vec<&crate::report::Facts> = incidents.iter().map(|i| &i.facts).collect();
        let mut ctxk = crate::query::report_context(&snap)?;
        if !internal {
            // The public's KPIs count only the problems, articles and changes it may see.
            ctxk.known_errors.retain(|id, _| view.linked(id));
            ctxk.published.retain(|id, _| view.linked(id));
            ctxk.change_reviews = changes
                .iter()
                .filter(|c| view.linked(&c.change_id))
                .filter_map(|c| Some((c.reviewed_at?.timestamp(), c.outcome? == model::change::Outcome::Successful)))
                .collect();
        }
        let tz: chrono_tz::Tz = config.timezone.parse().unwrap_or(chrono_tz::UTC);
        let month = Selection::calendar(Period::Monthly, now, tz);
        let now_k = crate::report::kpis_of_refs(&facts, &ctxk, month.current);
        let prev_k = month.previous.map(|w| crate::report::kpis_of_refs(&facts, &ctxk, w));
        let open: Vec<&incidents::Summary> = incidents.iter().filter(|i| i.open()).collect();
        let mut worst: Vec<&&incidents::Summary> = open.iter().collect();
        worst.sort_by_key(|i| (std::cmp::Reverse(i.priority), std::cmp::Reverse(i.created_at)));
        let open_list = worst
            .iter()
            .take(15)
            .map(|i| views::dashboard::OpenIncident {
                id: i.id.clone(),
                title: text(&i.title),
                priority: i.priority.map(|p| p.as_str()).unwrap_or("unset").into(),
                service: text(&i.service),
                status: i.status.as_str().replace('_', " "),
            })
            .collect();
        // The clocks at risk or in breach now: those of incidents with SLA targets (read
        // from their records), and the `sla.untriaged` acknowledge clock of those never
        // prioritized (from their summaries).
        let mut sla = Vec::new();
        let left = |clock: &crate::sla::Clock| {
            if clock.remaining_seconds >= 0 {
                format!("{} left", model::config::format_duration(clock.remaining_seconds))
            } else {
                format!("{} over", model::config::format_duration(-clock.remaining_seconds))
            }
        };
        let untriaged_target = config.sla.untriaged.as_deref().map(model::config::parse_duration).transpose()?;
        for i in &open {
            let mut clocks = Vec::new();
            if i.has_sla {
                clocks = crate::sla::clocks(&incidents::parse(repo, i)?, now, config.sla.warning_threshold)?;
            } else if let (true, Some(target)) = (i.untriaged && i.created_at <= now, untriaged_target) {
                let warning = config.sla.warning_threshold;
                clocks.push(crate::sla::untriaged_clock(i.created_at, i.acknowledged_at, now, warning, target));
            }
            for clock in clocks.iter().filter(|c| c.state.needs_attention()) {
                sla.push(views::dashboard::SlaClock {
                    id: i.id.clone(),
                    clock: if clock.untriaged {
                        format!("{} (untriaged)", clock.clock)
                    } else {
                        clock.clock.to_string()
                    },
                    state: clock.state,
                    left: left(clock),
                });
            }
        }
        let months = periods(&facts, Period::Monthly, tz);
        let monthly: Vec<(String, crate::report::Kpis)> = months
            .iter()
            .map(|(label, s, e)| {
                (label.clone(), crate::report::kpis_of_refs(&facts, &ctxk, crate::report::Window::new(*s, *e)))
            })
            .collect();
        let series = |f: &dyn Fn(&crate::report::Kpis) -> Option<f64>| -> Vec<(String, Option<f64>)> {
            monthly.iter().map(|(l, k)| (l.clone(), f(k))).collect()
        };
        use views::dashboard::{bars, count_by, Chart};
        let chart = |title: &str, svg_title: &str, unit: &str, data: Vec<(String, Option<f64>)>| Chart {
            title: title.into(),
            svg: bars(svg_title, unit, &data, None),
        };
        let charts = vec![
            chart(
                "Incidents opened per month",
                "Incidents opened per month",
                "incidents",
                series(&|k| Some(k.incidents_opened as f64)),
            ),
            chart(
                "Mean time to resolve per month, in hours (no bar: nothing resolved)",
                "Mean time to resolve per month, hours",
                "hours",
                series(&|k| k.mttr_minutes.map(|m| m / 60.0)),
            ),
            chart(
                "SLA compliance per month, percent (no bar: no SLA verdicts)",
                "SLA compliance per month, percent",
                "%",
                series(&|k| k.sla_compliance.map(|r| r * 100.0)),
            ),
        ];
        let month_start = month.current.start.unwrap_or(now);
        let dashboard = views::dashboard::Dashboard {
            as_of: as_of.clone(),
            period: month_start.with_timezone(&tz).format("%B %Y").to_string(),
            period_start: now_k.start.clone(),
            period_end: now_k.end.clone(),
            kpi_rows: views::report::kpi_rows(&now_k, prev_k.as_ref()),
            open_by_priority: count_by(open.iter().map(|i| i.priority.map(|p| p.as_str()).unwrap_or("unset"))),
            open_by_team: count_by(open.iter().map(|i| i.team.as_deref().unwrap_or("unassigned"))),
            open_total: open.len(),
            open_list,
            sla,
            charts,
            kpis: now_k,
        };
        let c = with_view(ctx_now(""), &dashboard)?;
        pages.insert(if internal { "index.html" } else { "dashboard.html" }.into(), render("index.html", &c)?);

        // The status page: the public site's front page, beside the dashboard on the internal one.
        let inputs: Vec<views::status::Input> = incidents
            .iter()
            .zip(&facts)
            .map(|(i, f)| views::status::Input {
                summary: i,
                title: view.text(&i.title),
                service: view.text(&i.service),
                ended: f.resolved.or(f.closed).and_then(|t| Utc.timestamp_opt(t, 0).single()),
            })
            .collect();
        let services: Vec<String> = config.services.iter().map(|s| view.text(s).to_string()).collect();
        let mut latest = |s: &incidents::Summary| -> Result<Option<views::status::Update>> {
            let i = incidents::parse(repo, s)?;
            Ok(i.communications
                .iter()
                .rev()
                .find(|c| view.communication(c))
                .map(|c| views::status::Update { at: fmt(&Some(c.at)), message: view.text(&c.message).to_string() }))
        };
        let status = views::status::build(&inputs, &services, now, tz, &mut latest)?;
        let mut c = ctx_now("");
        c.insert("s", &status);
        pages.insert(if internal { "status.html" } else { "index.html" }.into(), render("status.html", &c)?);
        // Report pages depend on the records only: no build time or commit on them, so a
        // rebuild that changes no figure rewrites none of them.
        let mut report_rows = Vec::new();
        for period in [Period::Monthly, Period::Weekly, Period::Daily] {
            for (label, s, _) in periods(&facts, period, tz) {
                let sel = Selection::calendar(period, s, tz);
                let k = crate::report::kpis_of_refs(&facts, &ctxk, sel.current);
                let p = sel.previous.map(|w| crate::report::kpis_of_refs(&facts, &ctxk, w));
                let c = with_view(ctx_for("../"), &views::report::ReportPage::new(label.clone(), &k, p.as_ref()))?;
                let file = format!("{}.html", label.replace(' ', "-"));
                pages.insert(format!("reports/{file}"), render("report.html", &c)?);
                report_rows.push(TableRow {
                    id: format!("period-{label}"),
                    href: file,
                    cells: vec![label, k.incidents_opened.to_string(), k.incidents_resolved.to_string()],
                });
            }
        }
        pages.insert(
            "reports/index.html".into(),
            table(TablePage {
                heading: "Reports".into(),
                columns: vec!["Period", "Opened", "Resolved"],
                rows: report_rows,
                search: false,
            })?,
        );

        // The audit log (staff only): every entry of `ims audit`, oldest first in pages that
        // are rendered only when their entries change.
        let mut audit_pages = HashSet::new();
        if internal {
            use views::auditlog::{kind_rank, row, AuditIndex, AuditPage, PageLink, PAGE};
            let log = match audit_log {
                Some(reading) => reading.join().map_err(|_| Error::internal("the audit log's reader panicked"))??,
                None => audit::log(repo)?,
            };
            let has_page = |dir: &str, id: &str| match dir {
                "incidents" => titles.contains_key(id),
                _ => names.contains_key(id),
            };
            let chunks: Vec<&[crate::query::AuditEntry]> = log.chunks(PAGE).collect();
            let page_file = |n: usize| format!("audit/page-{n}.html");
            let manifest = incidents::Manifest::load(
                repo,
                out,
                internal,
                "audit-pages",
                &incidents::render_key(&[&templates, &site_key]),
            );
            let old = manifest.old();
            let mut kept = Vec::new();
            let on_disk = incidents::OnDisk::Listed(incidents::existing(&out.join("audit")));
            let mut jobs = Vec::new();
            for (k, chunk) in chunks.iter().enumerate() {
                let n = k + 1;
                let last = n == chunks.len();
                let rel = page_file(n);
                let first_commit = chunk.first().map(|e| e.commit.as_str()).unwrap_or_default();
                let last_commit = chunk.last().map(|e| e.commit.as_str()).unwrap_or_default();
                let key = incidents::render_key(&[
                    &n.to_string(),
                    &last.to_string(),
                    first_commit,
                    last_commit,
                    &chunk.len().to_string(),
                ]);
                audit_pages.insert(rel.clone());
                if old.fresh(&rel, &key, &on_disk) {
                    kept.push((rel, key));
                    continue;
                }
                let start = k * PAGE;
                let page = AuditPage {
                    heading: format!("Audit log, entries {} to {}", start + 1, start + chunk.len()),
                    intro: format!("Page {n} of the log, oldest first."),
                    rows: chunk.iter().enumerate().map(|(j, e)| row(start + j + 1, e, "../", &has_page)).collect(),
                    prev: (n > 1).then(|| format!("page-{}.html", n - 1)),
                    next: (!last).then(|| format!("page-{}.html", n + 1)),
                };
                jobs.push((rel, key, page));
            }
            list_written += render_pages(jobs, &mut kept, |rel, page| {
                let mut c = ctx_for("../");
                c.insert("page", page);
                c.insert("index", &false);
                cache::write_if_changed(&out.join(rel), render("auditlog.html", &c)?.as_bytes())
            })?;
            drop(old);
            manifest.save(&kept);
            // Each kind of record on its own page (the incidents' entries are on the log's
            // pages and each incident's page).
            let mut kinds: BTreeMap<(u8, String), Vec<usize>> = BTreeMap::new();
            for (j, e) in log.iter().enumerate() {
                kinds.entry(kind_rank(&e.ref_type)).or_default().push(j);
            }
            let mut kind_links = Vec::new();
            for ((_, kind), idx) in &kinds {
                if kind == "incident" {
                    continue;
                }
                let rel = format!("audit/kind-{kind}.html");
                let page = AuditPage {
                    heading: format!("Audit log: {kind} entries"),
                    intro: format!("All {} entries about {kind} records, oldest first.", idx.len()),
                    rows: idx.iter().map(|&j| row(j + 1, &log[j], "../", &has_page)).collect(),
                    prev: None,
                    next: None,
                };
                let mut c = ctx_for("../");
                c.insert("page", &page);
                c.insert("index", &false);
                pages.insert(rel, render("auditlog.html", &c)?);
                kind_links.push(PageLink {
                    label: kind.replace('_', " "),
                    href: format!("audit/kind-{kind}.html"),
                    count: idx.len(),
                });
            }
            let index = AuditIndex {
                total: log.len(),
                pages: (1..=chunks.len())
                    .rev()
                    .map(|n| PageLink {
                        label: format!("Entries {} to {}", (n - 1) * PAGE + 1, ((n - 1) * PAGE + chunks[n - 1].len())),
                        href: page_file(n),
                        count: chunks[n - 1].len(),
                    })
                    .collect(),
                kinds: kind_links,
                latest: log.iter().enumerate().rev().take(50).map(|(j, e)| row(j + 1, e, "", &has_page)).collect(),
            };
            let mut c = ctx_for("");
            c.insert("index", &index);
            pages.insert("audit.html".into(), render("auditlog.html", &c)?);
        }
        let (incident_search, feed) =
            beside.join().map_err(|_| Error::internal("the search index's maker panicked"))??;
        pages.insert("feed.xml".into(), feed);
        pages.insert("style.css".into(), STYLE.into());
        pages.insert("search.js".into(), SEARCH_JS.into());
        pages.insert("lists.js".into(), LISTS_JS.into());
        pages.insert("search-index.js".into(), search_index(&search, &incident_search)?);
        pages.insert("search.html".into(), render("search.html", &ctx_for(""))?);

        // Write what changed, and remove pages this build no longer makes (an incident now
        // hidden from this audience, a report period that moved).
        let mut written = loaded.written + list_written;
        for (rel, text) in &pages {
            written += usize::from(cache::write_if_changed(&out.join(rel), text.as_bytes())?);
        }
        // The `incidents/` folder: the pages the last build left (listed, or known from its
        // manifest) that this build did not make.
        let gone: Vec<&str> = match &on_disk {
            incidents::OnDisk::Listed(names) => {
                let made_here: HashSet<&str> =
                    loaded.made.iter().filter_map(|(rel, _)| rel.strip_prefix("incidents/")).collect();
                names.iter().map(String::as_str).filter(|n| n.ends_with(".html") && !made_here.contains(n)).collect()
            }
            incidents::OnDisk::AsLastBuilt => old.unmade().filter_map(|rel| rel.strip_prefix("incidents/")).collect(),
        };
        for name in gone {
            match std::fs::remove_file(out.join("incidents").join(name)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        for dir in ["kb", "reports", "problems", "changes", "pir", "audit"] {
            for name in incidents::existing(&out.join(dir)) {
                let rel = format!("{dir}/{name}");
                let made = pages.contains_key(&rel) || audit_pages.contains(&rel);
                // Earlier builds kept the knowledge base's search in `kb/search.{json,js}`.
                let old_search = rel == "kb/search.json" || rel == "kb/search.js";
                if (rel.ends_with(".html") && !made) || old_search {
                    std::fs::remove_file(out.join(&rel))?;
                }
            }
        }
        // Saved once the folder holds exactly what this build made, with its time.
        let pages_made = loaded.made.len();
        drop(old);
        folder.save_folder(&loaded.made, &out.join("incidents"), seen);
        Ok(Built {
            out: out.to_path_buf(),
            pages: pages.len() + pages_made + audit_pages.len(),
            written,
            rendered: loaded.rendered,
        })
    })
}

/// An incident list cut into pages, first page first. The older pages hold exactly
/// [`PAGE_SIZE`] rows counted from the list's end and the first page the rest (between
/// `PAGE_SIZE` and twice that, less one): a new incident, which sorts to the top, changes
/// the first page only, and an older page keeps its rows until one of its incidents
/// changes (the audit log's pages are cut the same way, from its oldest entry).
fn list_chunks<T>(rows: &[T]) -> Vec<&[T]> {
    if rows.len() < 2 * PAGE_SIZE {
        return vec![rows];
    }
    let older = rows.len() / PAGE_SIZE - 1;
    let first = rows.len() - older * PAGE_SIZE;
    let mut out = vec![&rows[..first]];
    out.extend(rows[first..].chunks(PAGE_SIZE));
    out
}

/// The file of page `n` (1: the first) of `count` pages of list `stem`: the first page
/// is `stem.html`, an older one is numbered from the oldest (`page-1.html` holds the
/// oldest incidents), so its name stays when newer pages are added.
fn list_page_name(stem: &str, n: usize, count: usize) -> String {
    let k = count + 1 - n;
    match (n, stem) {
        (1, _) => format!("{stem}.html"),
        (_, "index") => format!("page-{k}.html"),
        _ => format!("{stem}-page-{k}.html"),
    }
}

/// One thing search finds: its kind, id, title, the text searched besides them, and its
/// page from the site root.
#[derive(Debug, Clone, serde::Serialize)]
struct SearchEntry(&'static str, String, String, String, String);

/// At most this many characters of a record's text are searched (an article's first
/// paragraphs say what it is about; the index stays small enough to load at once).
const SEARCH_TEXT: usize = 2000;

impl SearchEntry {
    fn new(kind: &'static str, id: &str, title: &str, text: &str, dir: &str) -> SearchEntry {
        // Most text (an incident's service, status and team) is short single-spaced words
        // already: taken as it is.
        let plain = text.len() <= SEARCH_TEXT
            && !text.starts_with(' ')
            && !text.ends_with(' ')
            && !text.contains("  ")
            && !text.chars().any(|c| c.is_whitespace() && c != ' ');
        let text = if plain {
            text.to_string()
        } else {
            text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(SEARCH_TEXT).collect()
        };
        SearchEntry(kind, id.to_string(), title.to_string(), text, format!("{dir}/{id}.html"))
    }
}

/// The incidents' entries of the search index, as the JSON array's items (without brackets).
fn incident_search(incidents: &[incidents::Summary], view: View) -> Result<String> {
    let mut out = Vec::with_capacity(incidents.len() * 128);
    for i in incidents {
        let text = format!(
            "{} {} {}",
            view.text(&i.service),
            i.status.as_str().replace('_', " "),
            i.team.as_deref().map(|t| view.text(t)).unwrap_or_default()
        );
        if !out.is_empty() {
            out.push(b',');
        }
        let entry = SearchEntry::new("incident", &i.id, view.text(&i.title), &text, "incidents");
        serde_json::to_writer(&mut out, &entry)?;
    }
    String::from_utf8(out).map_err(|_| Error::internal("the search index is not UTF-8"))
}

/// `search-index.js`: the index as a script assigning `window.IMS_SEARCH`, so a page
/// opened from disk loads it with a `<script>` tag. `<` is escaped so no text closes it.
/// Articles come first, then problems, changes and incidents (`incidents`: their entries,
/// from [`incident_search`]): a match in a few articles is not buried under the many
/// incidents that share a title.
fn search_index(entries: &[SearchEntry], incidents: &str) -> Result<String> {
    let rank = |kind: &str| ["kb", "problem", "change"].iter().position(|k| *k == kind).unwrap_or(3);
    let mut entries: Vec<&SearchEntry> = entries.iter().collect();
    entries.sort_by_key(|e| rank(e.0));
    let mut out = b"window.IMS_SEARCH = ".to_vec();
    serde_json::to_writer(&mut out, &entries)?;
    if !incidents.is_empty() {
        out.pop();
        if !entries.is_empty() {
            out.push(b',');
        }
        out.extend_from_slice(incidents.as_bytes());
        out.push(b']');
    }
    out.extend_from_slice(b";\n");
    let out = String::from_utf8(out).map_err(|_| Error::internal("the search index is not UTF-8"))?;
    Ok(if out.contains('<') { out.replace('<', "\\u003c") } else { out })
}

/// Every record of a kind, each checked to hold a well-formed id at its own path (the id
/// names its page file).
fn load_all<T: serde::de::DeserializeOwned>(
    snap: &dyn Snapshot,
    kind: RecordKind,
    id: fn(&T) -> &str,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    for (path, bytes) in model::all_records(snap, kind)? {
        let record: T = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path)?;
        incidents::record_at(kind, id(&record), Some(&path))?;
        out.push(record);
    }
    Ok(out)
}

/// Every period of this length that holds an incident's creation, oldest first.
fn periods(
    facts: &[&crate::report::Facts],
    period: crate::report::Period,
    tz: chrono_tz::Tz,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    // start → end of each period found. A fact inside a period already found needs no
    // time-zone arithmetic (most of a large repository's facts are).
    let mut seen: BTreeMap<DateTime<Utc>, DateTime<Utc>> = BTreeMap::new();
    for f in facts {
        let at = Utc.timestamp_opt(f.created, 0).single().unwrap_or_default();
        if seen.range(..=at).next_back().is_some_and(|(_, e)| at < *e) {
            continue;
        }
        let ((s, e), _) = crate::report::bounds(period, at, tz);
        seen.insert(s, e);
    }
    seen.into_iter()
        .map(|(s, e)| {
            let local = s.with_timezone(&tz);
            let label = match period {
                crate::report::Period::Monthly => local.format("%Y-%m").to_string(),
                crate::report::Period::Weekly => local.format("week-%G-W%V").to_string(),
                crate::report::Period::Daily => local.format("%Y-%m-%d").to_string(),
            };
            (label, s, e)
        })
        .collect()
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Markdown to HTML, sanitized: no script, no event handlers, no foreign elements.
/// The text a reader sees in sanitized HTML: tags dropped (inline ones join what they
/// split), the entities the sanitizer writes decoded.
fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The values of the attributes a reader can see or follow in sanitized HTML (a link's
/// address and title, an image's alt text and source), entities decoded: Markdown decodes
/// `&#64;` inside a link destination or title, which [`visible_text`] never reads.
fn attribute_text(html: &str) -> String {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE
        .get_or_init(|| regex::Regex::new(r#"(?i)\b(?:href|title|alt|src)\s*=\s*"([^"]*)""#).expect("a valid pattern"));
    let values: Vec<&str> = re.captures_iter(html).filter_map(|c| c.get(1)).map(|m| m.as_str()).collect();
    // The same decoding as the visible text, one value a line.
    visible_text(&values.join("\n").replace('<', "&lt;").replace('>', "&gt;"))
}

pub fn markdown(text: &str) -> String {
    let parser = pulldown_cmark::Parser::new(text);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::clean(&html)
}

const FEED_ENTRIES: usize = 200;

/// An Atom feed of the newest updates (communications) the audience may read: on the
/// internal site every update, on the public site only updates to end users — its own
/// feed, with its own id and title. Only the incidents whose latest such update is among
/// the newest are read (each summary knows when its latest update and its latest public
/// update were sent), so a rebuild reads a few records, not all. The feed's `updated` is
/// its newest entry's time (the tip's time when it has none): a procedure that sends no
/// update does not rewrite it.
fn feed(
    repo: &Repo,
    org: &str,
    incidents: &[incidents::Summary],
    view: View,
    tip_time: DateTime<Utc>,
) -> Result<String> {
    let latest = |s: &incidents::Summary| if view.internal() { s.last_update } else { s.last_public_update };
    let mut by_update: Vec<(DateTime<Utc>, &incidents::Summary)> =
        incidents.iter().filter_map(|s| latest(s).map(|t| (t, s))).collect();
    by_update.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    // Entries at the same second are ordered by their incident's place in that order,
    // so an incident whose latest update is no newer than the 200th entry so far adds
    // nothing, and reading stops there (an import gives thousands of updates one time).
    let mut read: Vec<Incident> = Vec::new();
    let mut times: Vec<DateTime<Utc>> = Vec::new();
    for (at, s) in by_update {
        if times.len() >= FEED_ENTRIES {
            times.sort_unstable_by(|a, b| b.cmp(a));
            times.truncate(FEED_ENTRIES);
            if at <= times[FEED_ENTRIES - 1] {
                break;
            }
        }
        let i = incidents::parse(repo, s)?;
        times.extend(i.communications.iter().filter(|c| view.communication(c)).map(|c| c.at));
        read.push(i);
    }
    let mut items: Vec<(DateTime<Utc>, usize, &Incident, &model::incident::Communication)> = read
        .iter()
        .enumerate()
        .flat_map(|(n, i)| i.communications.iter().filter(|c| view.communication(c)).map(move |c| (c.at, n, i, c)))
        .collect();
    items.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.3.communication_id.cmp(&b.3.communication_id)));
    items.truncate(FEED_ENTRIES);
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let updated = items.first().map(|e| e.0).unwrap_or(tip_time);
    let (name, title, home) = if view.internal() {
        ("updates", format!("{org}: incident updates"), "index.html")
    } else {
        ("public-updates", format!("{org} status updates"), "index.html")
    };
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{}</title>\n<id>urn:ims:{}:{name}</id>\n<link rel=\"self\" type=\"application/atom+xml\" href=\"feed.xml\"/>\n<link rel=\"alternate\" type=\"text/html\" href=\"{home}\"/>\n<author><name>{}</name></author>\n<updated>{}</updated>\n",
        escape(&title),
        escape(&org.replace(' ', "-")),
        escape(org),
        ts(updated)
    );
    for (at, _, i, c) in &items {
        // The public reads who the update is from as the organisation; staff, the sender.
        let author = if view.internal() { c.sender.as_str() } else { org };
        let title = if view.internal() {
            format!("{} ({})", view.text(&i.title), c.recipients.as_str())
        } else {
            view.text(&i.title).to_string()
        };
        x.push_str(&format!(
            "<entry><id>urn:ims:{}</id><title>{}</title><author><name>{}</name></author><updated>{}</updated><link href=\"incidents/{}.html\"/><content type=\"text\">{}</content></entry>\n",
            escape(&c.communication_id),
            escape(&title),
            escape(author),
            ts(*at),
            escape(&i.incident_id),
            escape(view.text(&c.message))
        ));
    }
    x.push_str("</feed>\n");
    Ok(x)
}

#[cfg(test)]
mod tests {
    #[test]
    fn list_pages_are_cut_from_the_oldest_so_a_new_incident_changes_only_the_first() {
        use super::{list_chunks, list_page_name, PAGE_SIZE};
        let rows: Vec<usize> = (0..5 * PAGE_SIZE + 7).rev().collect();
        let pages = list_chunks(&rows);
        assert_eq!(pages.len(), 5);
        assert_eq!(pages[0].len(), PAGE_SIZE + 7);
        assert!(pages[1..].iter().all(|p| p.len() == PAGE_SIZE));
        // One more at the top: the older pages hold the same rows.
        let more: Vec<usize> = (0..5 * PAGE_SIZE + 8).rev().collect();
        let after = list_chunks(&more);
        assert_eq!(after[1..], pages[1..]);
        assert_eq!(list_chunks::<usize>(&[]).len(), 1);
        assert_eq!(list_chunks(&rows[..2 * PAGE_SIZE - 1]).len(), 1);
        assert_eq!(list_page_name("index", 1, 5), "index.html");
        assert_eq!(list_page_name("index", 2, 5), "page-4.html");
        assert_eq!(list_page_name("status-open", 5, 5), "status-open-page-1.html");
    }

    #[test]
    fn the_built_in_templates_are_the_ones_the_template_procedures_know() {
        let builtin: Vec<&str> = super::BUILTIN.iter().map(|(n, _)| *n).collect();
        assert_eq!(builtin, crate::procedures::template::NAMES);
    }
}
