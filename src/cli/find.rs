//! `ims find ENTITY`: records by their fields (an audited read).

use clap::Args;
use serde_json::{json, Value};

use super::{parse, parse_time, Env};
use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::enums::{Category, Level, Status, Team};
use crate::query::{self, Filters};

#[derive(Debug, Args)]
pub struct FindArgs {
    /// incident, problem, change or kb (also pir, event, tool, simulation).
    pub entity: String,
    /// Status (incident: open, in_progress, escalated, pending_vendor, resolved, closed).
    /// Every filter takes several values, comma-separated or repeated: any of them matches.
    #[arg(long, value_delimiter = ',', value_name = "STATUS")]
    pub status: Vec<String>,
    /// Only what is still being worked: a status other than resolved, closed, rejected,
    /// retired or done.
    #[arg(long)]
    pub active: bool,
    /// Priority: high, medium or low.
    #[arg(long, value_delimiter = ',', value_name = "LEVEL")]
    pub priority: Vec<String>,
    /// Severity: high, medium or low.
    #[arg(long, value_delimiter = ',', value_name = "LEVEL")]
    pub severity: Vec<String>,
    /// The service affected.
    #[arg(long, value_delimiter = ',', value_name = "SERVICE")]
    pub service: Vec<String>,
    /// The assigned team.
    #[arg(long, value_delimiter = ',', value_name = "TEAM")]
    pub team: Vec<String>,
    /// The assignee (a registered person's email).
    #[arg(long, value_delimiter = ',', value_name = "EMAIL")]
    pub assignee: Vec<String>,
    /// The category (incident: software, hardware, network, security, performance, …).
    #[arg(long, value_delimiter = ',', value_name = "CATEGORY")]
    pub category: Vec<String>,
    /// Who reported it (a registered person's email).
    #[arg(long, value_delimiter = ',', value_name = "EMAIL")]
    pub reporter: Vec<String>,
    /// Change or KB type.
    #[arg(long = "type", value_delimiter = ',', value_name = "TYPE")]
    pub kind: Vec<String>,
    /// Change risk: high, medium or low.
    #[arg(long, value_delimiter = ',', value_name = "LEVEL")]
    pub risk: Vec<String>,
    /// Opened at or after (date or RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Opened before (date or RFC 3339).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Order by: created (the default), updated, priority (most urgent first), severity,
    /// status, id or title.
    #[arg(long, value_name = "FIELD", default_value = "created")]
    pub sort: String,
    /// Reverse the order (e.g. newest first).
    #[arg(long)]
    pub reverse: bool,
    /// Show at most N records (after sorting).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// The statuses `--active` leaves out: every record type's end states.
const DONE_STATUSES: &[&str] = &["resolved", "closed", "rejected", "retired", "done"];

/// `--sort` words and the record field each orders by (`id` is the entity's id field).
const SORT_KEYS: &[(&str, &str)] = &[
    ("created", "created_at"),
    ("updated", "updated_at"),
    ("priority", "priority"),
    ("severity", "severity"),
    ("status", "status"),
    ("id", "id"),
    ("title", "title"),
];

pub fn run(env: &Env, args: FindArgs) -> Result<()> {
    let repo = env.repo()?;
    let kind = RecordKind::from_entity(&args.entity).filter(|k| *k != RecordKind::Proposal).ok_or_else(|| {
        Error::invalid(format!(
            "entity: `{}` is not one of incident, problem, change, kb, pir, event, tool, simulation",
            args.entity
        ))
    })?;
    let sort_field = SORT_KEYS.iter().find(|(w, _)| *w == args.sort).map(|(_, f)| *f).ok_or_else(|| {
        let words: Vec<&str> = SORT_KEYS.iter().map(|(w, _)| *w).collect();
        Error::invalid(format!("--sort: `{}` is not one of {}", args.sort, words.join(", ")))
    })?;
    let mut filters = Filters::default();
    let words = |values: &[String]| -> Vec<String> {
        values.iter().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect()
    };
    let parsed = |values: &[String], parse: &dyn Fn(&str) -> Result<String>| -> Result<Vec<String>> {
        words(values).iter().map(|v| parse(v)).collect()
    };
    let level = |v: &str| parse::<Level>(v).map(|l| l.to_string());
    if kind == RecordKind::Incident {
        filters.put("status", parsed(&args.status, &|v| parse::<Status>(v).map(|s| s.to_string()))?);
        filters.put("category", parsed(&args.category, &|v| parse::<Category>(v).map(|s| s.to_string()))?);
        filters.put(
            "assigned_team",
            parsed(&args.team, &|t| {
                if t == "incident_manager" {
                    Ok(t.to_string())
                } else {
                    parse::<Team>(t).map(|t| t.to_string())
                }
            })?,
        );
    } else {
        filters.put("status", words(&args.status));
        filters.put("category", words(&args.category));
        filters.put("assigned_team", words(&args.team));
    }
    if args.active {
        filters.none_of.insert("status".into(), DONE_STATUSES.iter().map(|s| s.to_string()).collect());
    }
    filters.put("priority", parsed(&args.priority, &level)?);
    filters.put("severity", parsed(&args.severity, &level)?);
    filters.put("service", words(&args.service));
    let tip_snap = repo.snapshot(repo.tip()?)?;
    let email = |v: &str| Ok(crate::model::registered_email(&tip_snap, v)?);
    filters.put("assignee", parsed(&args.assignee, &email)?);
    filters.put("reporter", parsed(&args.reporter, &email)?);
    filters.put("type", words(&args.kind));
    filters.put("risk", parsed(&args.risk, &level)?);
    filters.since = args.since.as_deref().map(|t| parse_time("--since", t)).transpose()?;
    filters.until = args.until.as_deref().map(|t| parse_time("--until", t)).transpose()?;
    let identity = env.identity(&repo)?;
    // The read is audited first: if the audit cannot be written, nothing is shown.
    query::audit_read(&repo, &identity, kind.entity(), None, serde_json::to_value(&filters)?)?;
    let snap = repo.snapshot(repo.tip()?)?;
    let mut matches = query::find(&snap, kind, &filters)?;
    let id_field = format!("{}_id", if kind == RecordKind::Tool { "tool_usage" } else { kind.entity() });
    let key_field = if sort_field == "id" { id_field.as_str() } else { sort_field };
    sort(&mut matches, key_field, args.reverse);
    let total = matches.len();
    if let Some(n) = args.limit {
        matches.truncate(n);
    }
    let rows: Vec<Vec<String>> = matches
        .iter()
        .map(|r| {
            let s = |k: &str| crate::terminal::line(r.get(k).and_then(Value::as_str).unwrap_or("-"));
            let title = if r.get("title").is_some() { s("title") } else { s("summary") };
            vec![s(&id_field), s("status"), s("priority"), s("assigned_team"), title]
        })
        .collect();
    if matches.is_empty() {
        env.ui.empty(&format!("no {} matches", kind.entity()));
    } else if args.limit.is_some_and(|n| n < total) {
        env.ui.status(&format!("{} of {total} matches shown (--limit)", matches.len()));
    }
    let ids: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    env.ui.data_styled(
        json!({ "ok": true, "entity": kind.entity(), "total": total, "matches": matches }),
        |style| {
            if rows.is_empty() {
                return String::new();
            }
            crate::cli::style::table(style, &["ID", "STATUS", "PRIORITY", "TEAM", "TITLE"], &rows, &[1, 2])
        },
        || ids.join("\n"),
    );
    Ok(())
}

/// Orders records by `field`: levels most urgent first, missing values last, then by
/// creation and id; `reverse` turns the whole order round.
fn sort(records: &mut [Value], field: &str, reverse: bool) {
    let rank = |v: &Value| -> (u8, String) {
        match v.get(field).and_then(Value::as_str) {
            None => (9, String::new()),
            Some(text) if matches!(field, "priority" | "severity") => {
                let rank = match text.parse::<Level>() {
                    Ok(Level::High) => 0,
                    Ok(Level::Medium) => 1,
                    Ok(Level::Low) => 2,
                    Err(_) => 8,
                };
                (rank, String::new())
            }
            Some(text) => (0, text.to_string()),
        }
    };
    let created = |v: &Value| v.get("created_at").and_then(Value::as_str).unwrap_or("").to_string();
    let id = |v: &Value| {
        let Value::Object(m) = v else { return String::new() };
        m.iter().find(|(k, _)| k.ends_with("_id")).and_then(|(_, v)| v.as_str()).unwrap_or("").to_string()
    };
    records.sort_by(|a, b| {
        rank(a).cmp(&rank(b)).then_with(|| created(a).cmp(&created(b))).then_with(|| id(a).cmp(&id(b)))
    });
    if reverse {
        records.reverse();
    }
}
