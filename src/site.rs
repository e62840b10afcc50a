//! `ims site build`: the records rendered as a static site with tera — dashboard, incidents
//! with their audit trail, problems, changes, knowledge base with search, reviews, report
//! pages, audit log and an Atom feed of communications.
//!
//! Templates receive view models already filtered for the audience, never records, so a
//! repository's own template (in its `templates/`, overriding a built-in one of the same
//! name) cannot show what the audience may not see. Every value is HTML-escaped by tera;
//! Markdown is rendered with pulldown-cmark and sanitized with ammonia.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use tera::{Context, Tera};

use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::enums::{Category, Recipients};
use crate::model::{self, Incident, Snapshot};
use crate::repo::Repo;

const BUILTIN: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("index.html", include_str!("../templates/index.html")),
    ("incidents.html", include_str!("../templates/incidents.html")),
    ("incident.html", include_str!("../templates/incident.html")),
    ("list.html", include_str!("../templates/list.html")),
    ("article.html", include_str!("../templates/article.html")),
    ("report.html", include_str!("../templates/report.html")),
];
const STYLE: &str = include_str!("../templates/style.css");
const SEARCH_JS: &str = "fetch('search.json').then(r=>r.json()).then(items=>{const q=document.getElementById('q'),h=document.getElementById('hits');q.addEventListener('input',()=>{const t=q.value.toLowerCase();h.replaceChildren(...items.filter(i=>t&&i.title.toLowerCase().includes(t)).map(i=>{const li=document.createElement('li'),a=document.createElement('a');a.href=i.url;a.textContent=i.title;li.append(a);return li;}));});});\n";

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

/// What a build wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Built {
    pub out: PathBuf,
    pub pages: usize,
    pub written: usize,
}

fn fmt(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "—".into())
}

fn tera(root: &Path) -> Result<Tera> {
    let mut t = Tera::default();
    t.add_raw_templates(BUILTIN.to_vec()).map_err(|e| Error::internal(format!("built-in templates: {e}")))?;
    // The repository's own templates override the built-in ones, file by file.
    let own = root.join("templates");
    if let Ok(entries) = std::fs::read_dir(&own) {
        let mut files: Vec<(String, String)> = Vec::new();
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".html") {
                let text = std::fs::read_to_string(e.path())?;
                files.push((name, text));
            }
        }
        t.add_raw_templates(files).map_err(|e| Error::invalid(format!("templates/: {e}")))?;
    }
    t.autoescape_on(vec![".html"]);
    Ok(t)
}

/// Renders the site into `out`, writing only files whose bytes changed.
pub fn build(repo: &Repo, out: &Path, audience: Audience) -> Result<Built> {
    let tip = repo.tip()?.ok_or_else(|| Error::invalid("nothing to build: the branch has no commits"))?;
    let snap = repo.snapshot(Some(tip))?;
    let config = model::config(&snap)?;
    let internal = audience == Audience::Internal;
    let built_at = repo.commit_time(tip)?;
    let site = json!({
        "organization": config.organization,
        "internal": internal,
        "simulated": config.clock == model::config::Clock::Simulated,
        "audience": if internal { "internal" } else { "public" },
        "built_at": built_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "commit": tip.to_string(),
    });
    let tera = tera(repo.root())?;
    let mut pages: BTreeMap<String, String> = BTreeMap::new();
    let render = |name: &str, ctx: &Context| -> Result<String> {
        tera.render(name, ctx).map_err(|e| {
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg.push_str(&format!(": {s}"));
                src = s.source();
            }
            Error::invalid(format!("template {name}: {msg}"))
        })
    };
    let ctx_for = |root: &str| {
        let mut c = Context::new();
        c.insert("site", &site);
        c.insert("root", root);
        c
    };

    // Records, filtered for the audience before any template sees them.
    let mut incidents: Vec<Incident> = Vec::new();
    for (path, bytes) in model::all_records(&snap, RecordKind::Incident)? {
        let inc: Incident = crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path)?;
        if internal || inc.category != Some(Category::Security) {
            incidents.push(inc);
        }
    }
    incidents.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.incident_id.cmp(&b.incident_id)));
    let audit = if internal { audit_index(repo)? } else { HashMap::new() };

    // Incidents.
    let rows: Vec<Value> = incidents
        .iter()
        .map(|i| {
            json!({"id": i.incident_id, "title": i.title, "status": i.status.as_str(),
                   "priority": i.priority.map(|p| p.as_str()).unwrap_or("—"), "service": i.service,
                   "created_at": fmt(&Some(i.created_at))})
        })
        .collect();
    let mut c = ctx_for("../");
    c.insert("incidents", &rows);
    pages.insert("incidents/index.html".into(), render("incidents.html", &c)?);
    for i in &incidents {
        let mut c = ctx_for("../");
        c.insert("i", &incident_view(i, internal, audit.get(&i.incident_id)));
        pages.insert(format!("incidents/{}.html", i.incident_id), render("incident.html", &c)?);
    }

    // Problems and changes.
    let problems: Vec<model::problem::Problem> = load_all(&snap, RecordKind::Problem)?;
    let rows: Vec<Value> = problems
        .iter()
        .map(|p| json!({"id": p.problem_id, "href": Value::Null, "cells": [p.problem_id, p.title, p.status.as_str(), if p.known_error { "yes" } else { "no" }, p.service.clone().unwrap_or_default(), p.incident_ids.len().to_string()]}))
        .collect();
    pages.insert(
        "problems/index.html".into(),
        list(
            &render,
            ctx_for("../"),
            "Problems and known errors",
            &["Id", "Title", "Status", "Known error", "Service", "Incidents"],
            rows,
            false,
        )?,
    );
    let changes: Vec<model::change::Change> = load_all(&snap, RecordKind::Change)?;
    let rows: Vec<Value> = changes
        .iter()
        .map(|c| json!({"id": c.change_id, "href": Value::Null, "cells": [c.change_id, c.summary, c.kind.as_str(), c.risk.as_str(), c.status.as_str(), c.outcome.map(|o| o.as_str()).unwrap_or("—")]}))
        .collect();
    pages.insert(
        "changes/index.html".into(),
        list(&render, ctx_for("../"), "Changes", &["Id", "Summary", "Type", "Risk", "Status", "Outcome"], rows, false)?,
    );

    // Knowledge base: published articles only for the public.
    let articles: Vec<model::kb::Article> = load_all::<model::kb::Article>(&snap, RecordKind::Kb)?
        .into_iter()
        .filter(|a| internal || a.status == model::kb::ArticleStatus::Published)
        .collect();
    let rows: Vec<Value> = articles
        .iter()
        .map(|a| json!({"id": a.kb_id, "href": format!("{}.html", a.kb_id), "cells": [a.kb_id, a.title, a.kind.as_str(), a.status.as_str(), a.version.to_string()]}))
        .collect();
    pages.insert(
        "kb/index.html".into(),
        list(&render, ctx_for("../"), "Knowledge base", &["Id", "Title", "Type", "Status", "Version"], rows, true)?,
    );
    let mut search = Vec::new();
    for a in &articles {
        let mut c = ctx_for("../");
        let html = markdown(&a.body);
        c.insert("a", &json!({"id": a.kb_id, "title": a.title, "kind": a.kind.as_str(), "version": a.version, "status": a.status.as_str(), "body_html": html}));
        pages.insert(format!("kb/{}.html", a.kb_id), render("article.html", &c)?);
        if a.status == model::kb::ArticleStatus::Published {
            search.push(json!({"id": a.kb_id, "title": a.title, "url": format!("{}.html", a.kb_id)}));
        }
    }
    pages.insert("kb/search.json".into(), serde_json::to_string(&search)?);
    pages.insert("kb/search.js".into(), SEARCH_JS.into());

    // Reviews.
    let shown: std::collections::HashSet<&str> = incidents.iter().map(|i| i.incident_id.as_str()).collect();
    let reviews: Vec<model::pir::Review> = load_all::<model::pir::Review>(&snap, RecordKind::Pir)?
        .into_iter()
        .filter(|r| shown.contains(r.incident_id.as_str()))
        .collect();
    let rows: Vec<Value> = reviews
        .iter()
        .map(|r| {
            let items: Vec<String> = r.action_items.iter().map(|a| format!("{} ({})", a.action, a.status.as_str())).collect();
            json!({"id": r.pir_id, "href": format!("../incidents/{}.html", r.incident_id), "cells": [r.incident_id, r.contributing_factors, items.join("; ")]})
        })
        .collect();
    pages.insert(
        "pir/index.html".into(),
        list(
            &render,
            ctx_for("../"),
            "Post-incident reviews",
            &["Incident", "Contributing factors", "Action items"],
            rows,
            false,
        )?,
    );

    // KPIs: the dashboard and report pages per month, week and day.
    let facts: Vec<crate::report::Facts> = incidents.iter().map(crate::report::Facts::of).collect::<Result<_>>()?;
    let ctxk = crate::query::report_context(&snap)?;
    let tz: chrono_tz::Tz = config.timezone.parse().unwrap_or(chrono_tz::UTC);
    let ((start, end), (ps, pe)) = crate::report::bounds(crate::report::Period::Monthly, built_at, tz);
    let (now_k, prev_k) = (crate::report::kpis(&facts, &ctxk, start, end), crate::report::kpis(&facts, &ctxk, ps, pe));
    let mut c = ctx_for("");
    c.insert("kpis", &now_k);
    c.insert("period", &start.with_timezone(&tz).format("%B %Y").to_string());
    c.insert("kpi_rows", &kpi_rows(&now_k, &prev_k));
    let open: Vec<&Incident> = incidents
        .iter()
        .filter(|i| !matches!(i.status, model::enums::Status::Resolved | model::enums::Status::Closed))
        .collect();
    c.insert(
        "open_by_priority",
        &count_by(open.iter().map(|i| i.priority.map(|p| p.to_string()).unwrap_or_else(|| "unset".into()))),
    );
    c.insert(
        "open_by_team",
        &count_by(open.iter().map(|i| i.assigned_team.clone().unwrap_or_else(|| "unassigned".into()))),
    );
    let mut sla = Vec::new();
    for i in &open {
        for clock in crate::sla::clocks(i, built_at, config.sla.warning_threshold)? {
            if matches!(clock.state, "at_risk" | "breached") {
                let left = if clock.remaining_seconds >= 0 {
                    format!("{} left", model::config::format_duration(clock.remaining_seconds))
                } else {
                    format!("{} over", model::config::format_duration(-clock.remaining_seconds))
                };
                sla.push(json!({"id": i.incident_id, "clock": clock.clock, "state": clock.state, "left": left}));
            }
        }
    }
    c.insert("sla", &sla);
    let months = periods(&facts, crate::report::Period::Monthly, tz);
    let monthly: Vec<(String, crate::report::Kpis)> =
        months.iter().map(|(label, s, e)| (label.clone(), crate::report::kpis(&facts, &ctxk, *s, *e))).collect();
    let charts = vec![
        json!({"title": "Incidents opened per month", "svg": bars("Incidents opened per month", &monthly.iter().map(|(l, k)| (l.clone(), k.incidents_opened as f64)).collect::<Vec<_>>())}),
        json!({"title": "Mean time to resolve per month (minutes)", "svg": bars("Mean time to resolve per month", &monthly.iter().map(|(l, k)| (l.clone(), k.mttr_minutes.unwrap_or(0.0))).collect::<Vec<_>>())}),
        json!({"title": "SLA compliance per month (percent)", "svg": bars("SLA compliance per month", &monthly.iter().map(|(l, k)| (l.clone(), k.sla_compliance.unwrap_or(0.0) * 100.0)).collect::<Vec<_>>())}),
    ];
    c.insert("charts", &charts);
    pages.insert("index.html".into(), render("index.html", &c)?);
    let mut report_rows = Vec::new();
    for period in [crate::report::Period::Monthly, crate::report::Period::Weekly, crate::report::Period::Daily] {
        for (label, s, e) in periods(&facts, period, tz) {
            let len = e - s;
            let k = crate::report::kpis(&facts, &ctxk, s, e);
            let p = crate::report::kpis(&facts, &ctxk, s - len, s);
            let mut c = ctx_for("../");
            c.insert("label", &label);
            c.insert("kpi_rows", &kpi_rows(&k, &p));
            let file = format!("{}.html", label.replace(' ', "-"));
            pages.insert(format!("reports/{file}"), render("report.html", &c)?);
            report_rows.push(json!({"id": format!("period-{label}"), "href": file, "cells": [label, k.incidents_opened.to_string(), k.incidents_resolved.to_string()]}));
        }
    }
    pages.insert(
        "reports/index.html".into(),
        list(&render, ctx_for("../"), "Reports", &["Period", "Opened", "Resolved"], report_rows, false)?,
    );

    // The audit log (staff only) and the feed.
    if internal {
        let mut entries: Vec<&AuditLine> = audit.values().flatten().collect();
        entries.sort_by(|a, b| b.at.cmp(&a.at).then(a.commit.cmp(&b.commit)));
        let rows: Vec<Value> = entries
            .iter()
            .take(2000)
            .enumerate()
            .map(|(n, a)| json!({"id": format!("entry-{n}-{}", a.commit), "href": format!("incidents/{}.html", a.ref_id), "cells": [a.ref_id, a.at, a.action, a.actor, a.commit, a.signature]}))
            .collect();
        pages.insert(
            "audit.html".into(),
            list(
                &render,
                ctx_for(""),
                "Audit log (incidents, newest first)",
                &["Record", "Time", "Action", "By", "Commit", "Signature"],
                rows,
                false,
            )?,
        );
    }
    pages.insert("feed.xml".into(), feed(&config.organization, &incidents, internal, built_at));
    pages.insert("style.css".into(), STYLE.into());

    // Write what changed.
    let mut written = 0;
    for (rel, text) in &pages {
        let path = out.join(rel);
        if std::fs::read(&path).ok().as_deref() == Some(text.as_bytes()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, text)?;
        written += 1;
    }
    Ok(Built { out: out.to_path_buf(), pages: pages.len(), written })
}

fn list(
    render: &dyn Fn(&str, &Context) -> Result<String>,
    mut c: Context,
    heading: &str,
    columns: &[&str],
    rows: Vec<Value>,
    search: bool,
) -> Result<String> {
    c.insert("heading", heading);
    c.insert("columns", columns);
    c.insert("rows", &rows);
    c.insert("search", &search);
    render("list.html", &c)
}

fn load_all<T: serde::de::DeserializeOwned>(snap: &dyn Snapshot, kind: RecordKind) -> Result<Vec<T>> {
    model::all_records(snap, kind)?
        .into_iter()
        .map(|(path, bytes)| crate::yaml::from_str(&String::from_utf8_lossy(&bytes), &path))
        .collect()
}

fn count_by(items: impl Iterator<Item = String>) -> Vec<(String, usize)> {
    let mut m: BTreeMap<String, usize> = BTreeMap::new();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m.into_iter().collect()
}

fn kpi_rows(k: &crate::report::Kpis, p: &crate::report::Kpis) -> Vec<Value> {
    let (kv, pv) = (serde_json::to_value(k).unwrap_or_default(), serde_json::to_value(p).unwrap_or_default());
    let cell = |v: &Value| if v.is_null() { "—".to_string() } else { v.to_string() };
    [
        ("MTTA (minutes)", "mtta_minutes"),
        ("MTTR (minutes)", "mttr_minutes"),
        ("Escalation rate", "escalation_rate"),
        ("SLA compliance", "sla_compliance"),
        ("Known-error reuse", "known_error_reuse_rate"),
        ("First contact resolution", "first_contact_resolution_rate"),
        ("Change success", "change_success_rate"),
        ("Stakeholder satisfaction", "stakeholder_satisfaction"),
        ("Incidents opened", "incidents_opened"),
        ("Incidents resolved", "incidents_resolved"),
    ]
    .iter()
    .map(|(label, key)| json!({"label": label, "value": cell(&kv[*key]), "previous": cell(&pv[*key])}))
    .collect()
}

/// Every period of this length that holds an incident's creation, oldest first.
fn periods(
    facts: &[crate::report::Facts],
    period: crate::report::Period,
    tz: chrono_tz::Tz,
) -> Vec<(String, DateTime<Utc>, DateTime<Utc>)> {
    let mut seen = BTreeMap::new();
    for f in facts {
        let at = Utc.timestamp_opt(f.created, 0).single().unwrap_or_default();
        let ((s, e), _) = crate::report::bounds(period, at, tz);
        let local = s.with_timezone(&tz);
        let label = match period {
            crate::report::Period::Monthly => local.format("%Y-%m").to_string(),
            crate::report::Period::Weekly => local.format("week-%G-W%V").to_string(),
            crate::report::Period::Daily => local.format("%Y-%m-%d").to_string(),
        };
        seen.insert(s, (label, e));
    }
    seen.into_iter().map(|(s, (label, e))| (label, s, e)).collect()
}

/// A bar chart as inline SVG, made at build time.
fn bars(title: &str, data: &[(String, f64)]) -> String {
    let (w, h, pad) = (640.0, 200.0, 30.0);
    let max = data.iter().map(|d| d.1).fold(0.0_f64, f64::max).max(1.0);
    let bw = if data.is_empty() { 0.0 } else { (w - 2.0 * pad) / data.len() as f64 };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    for (i, (label, v)) in data.iter().enumerate() {
        let bh = (h - 2.0 * pad) * v / max;
        let x = pad + i as f64 * bw;
        svg.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#3b6ea5\"><title>{}: {v:.1}</title></rect>",
            h - pad - bh,
            (bw - 4.0).max(1.0),
            escape(label)
        ));
        svg.push_str(&format!("<text x=\"{:.1}\" y=\"{:.1}\">{}</text>", x, h - 10.0, escape(label)));
    }
    svg.push_str("</svg>");
    svg
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Markdown to HTML, sanitized: no script, no event handlers, no foreign elements.
pub fn markdown(text: &str) -> String {
    let parser = pulldown_cmark::Parser::new(text);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::clean(&html)
}

fn incident_view(i: &Incident, internal: bool, audit: Option<&Vec<AuditLine>>) -> Value {
    let communications: Vec<Value> = i
        .communications
        .iter()
        .filter(|c| internal || c.recipients != Recipients::ItStaff)
        .map(|c| json!({"at": fmt(&Some(c.at)), "to": c.recipients.as_str(), "message": c.message}))
        .collect();
    let timeline: Vec<Value> = i
        .timeline
        .iter()
        .filter(|t| internal || matches!(t.field.as_str(), "status" | "priority" | "severity"))
        .map(|t| json!({"at": fmt(&Some(t.at)), "what": format!("{}: {} → {}", t.field, t.from.as_deref().unwrap_or("—"), t.to.as_deref().unwrap_or("—"))}))
        .collect();
    let mut notes = Vec::new();
    if internal {
        notes.extend(i.diagnosis.iter().map(|d| format!("Diagnosis: {}", d.steps)));
        notes.extend(i.workaround.iter().map(|w| format!("Workaround: {w}")));
        notes.extend(i.closure_notes.iter().map(|n| format!("Closure: {n}")));
    }
    json!({
        "id": i.incident_id, "title": i.title, "status": i.status.as_str(),
        "priority": i.priority.map(|p| p.as_str()).unwrap_or("—"),
        "severity": i.severity.map(|p| p.as_str()).unwrap_or("—"),
        "category": i.category.map(|p| p.as_str()).unwrap_or("—"),
        "service": i.service, "team": i.assigned_team.clone().unwrap_or_else(|| "—".into()),
        "created_at": fmt(&Some(i.created_at)), "acknowledged_at": fmt(&i.acknowledged_at),
        "resolved_at": fmt(&i.resolved_at), "closed_at": fmt(&i.closed_at),
        "reporter": if internal { Value::from(i.reporter.clone()) } else { Value::Null },
        "description": i.description, "resolution": i.resolution_summary,
        "notes": notes, "problems": i.problem_ids, "changes": i.change_ids, "kb": i.kb_ids,
        "communications": communications,
        "vendors": i.vendor_engagements.iter().map(|v| format!("{} via {} at {}", v.vendor, v.contact_method.as_str(), fmt(&Some(v.engaged_at)))).collect::<Vec<_>>(),
        "timeline": timeline,
        "audit": if internal { json!(audit.cloned().unwrap_or_default()) } else { json!([]) },
    })
}

/// One audit entry about an incident, for its page and the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditLine {
    pub commit: String,
    pub ref_id: String,
    pub action: String,
    pub actor: String,
    pub at: String,
    pub signature: String,
}

/// One pass over history: every incident's audit entries, with signature status.
fn audit_index(repo: &Repo) -> Result<HashMap<String, Vec<AuditLine>>> {
    let git = &repo.git;
    let mut walk = git.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL)?;
    if let Some(tip) = repo.tip()? {
        walk.push(tip)?;
    }
    let mut out: HashMap<String, Vec<AuditLine>> = HashMap::new();
    for oid in walk {
        let commit = git.find_commit(oid?)?;
        let Some(t) = commit.message().ok().and_then(crate::engine::parse_trailers) else { continue };
        let signature = crate::query::signature_status(git, &commit, &t.actor)?;
        let at = Utc.timestamp_opt(commit.time().seconds(), 0).single().unwrap_or_default();
        for a in t.actions.iter().filter(|a| a.ref_type == "incident") {
            let Some(id) = &a.ref_id else { continue };
            out.entry(id.clone()).or_default().push(AuditLine {
                commit: commit.id().to_string()[..10].to_string(),
                ref_id: id.clone(),
                action: a.action.to_string(),
                actor: t.actor.clone(),
                at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                signature: serde_json::to_value(signature)
                    .ok()
                    .and_then(|v| v.as_str().map(String::from))
                    .unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// An Atom feed of the communications the audience may see, newest first.
fn feed(org: &str, incidents: &[Incident], internal: bool, updated: DateTime<Utc>) -> String {
    let mut items: Vec<(DateTime<Utc>, &Incident, &model::incident::Communication)> = incidents
        .iter()
        .flat_map(|i| {
            i.communications
                .iter()
                .filter(|c| internal || c.recipients != Recipients::ItStaff)
                .map(move |c| (c.at, i, c))
        })
        .collect();
    items.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.communication_id.cmp(&b.2.communication_id)));
    let ts = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>{} communications</title>\n<id>urn:ims:{}:communications</id>\n<updated>{}</updated>\n",
        escape(org),
        escape(&org.replace(' ', "-")),
        ts(updated)
    );
    for (at, i, c) in items.iter().take(200) {
        x.push_str(&format!(
            "<entry><id>urn:ims:{}</id><title>{} ({})</title><updated>{}</updated><link href=\"incidents/{}.html\"/><content type=\"text\">{}</content></entry>\n",
            escape(&c.communication_id),
            escape(&i.title),
            escape(c.recipients.as_str()),
            ts(*at),
            escape(&i.incident_id),
            escape(&c.message)
        ));
    }
    x.push_str("</feed>\n");
    x
}
