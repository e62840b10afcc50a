//! `ims report`: KPIs for a period, with the previous one beside them.

use serde_json::json;

use super::{parse_time, Env};
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// daily, weekly or monthly (default): the calendar period containing --at, beside
    /// the calendar period before it.
    #[arg(long, conflicts_with_all = ["since", "until", "all"])]
    pub period: Option<String>,
    /// A moment inside the period to report (default: now).
    #[arg(long, conflicts_with_all = ["since", "until", "all"])]
    pub at: Option<String>,
    /// Start of a custom span (a date, midnight in the configured timezone, or an RFC 3339
    /// time), inclusive; the previous span is the one of the same length just before.
    #[arg(long, requires = "until", conflicts_with = "all")]
    pub since: Option<String>,
    /// End of the custom span, exclusive.
    #[arg(long, requires = "since", conflicts_with = "all")]
    pub until: Option<String>,
    /// The whole history, with no previous period.
    #[arg(long)]
    pub all: bool,
    /// One row per service, team, priority or category, and a total row.
    #[arg(long)]
    pub by: Option<String>,
    /// CSV for spreadsheets: kpi,value,previous (with --by: one row per group and a total).
    #[arg(long)]
    pub csv: bool,
}

/// A date (midnight in `tz`) or an RFC 3339 time.
fn parse_local(field: &str, text: &str, tz: chrono_tz::Tz) -> Result<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| Error::invalid(format!("{field}: `{text}` is not a date (2026-11-26) or an RFC 3339 time")))?;
    tz.from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
        .ok_or_else(|| Error::invalid(format!("{field}: `{text}` has no midnight in {tz}")))
}

/// A CSV cell (RFC 4180 quoting); a text starting like a formula is prefixed with `'`
/// so a spreadsheet shows it instead of evaluating it.
fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// A group name for the terminal: no control characters.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '?' } else { c }).collect()
}

pub fn run(env: &Env, args: ReportArgs) -> Result<()> {
    use crate::report::{self, By, Period, Selection, KPI_KEYS};
    let repo = env.repo()?;
    let tip = repo.tip()?;
    let snap = repo.snapshot(tip)?;
    let config = crate::model::config(&snap)?;
    let tz: chrono_tz::Tz = config
        .timezone
        .parse()
        .map_err(|_| Error::invalid(format!("ims.yaml timezone: `{}` is unknown", config.timezone)))?;
    let now = env.now(&repo)?;
    let selection = if args.all {
        Selection::all()
    } else if let (Some(since), Some(until)) = (&args.since, &args.until) {
        Selection::range(parse_local("--since", since, tz)?, parse_local("--until", until, tz)?)?
    } else {
        let period: Period = args.period.as_deref().unwrap_or("monthly").parse()?;
        let at = match &args.at {
            Some(t) => parse_time("--at", t)?,
            None => now,
        };
        Selection::calendar(period, at, tz)
    };
    let by: Option<By> = args.by.as_deref().map(str::parse).transpose()?;
    let facts = crate::query::incident_facts(&repo, tip)?;
    let ctx = crate::query::report_context(&snap)?;
    let current = report::kpis(&facts, &ctx, selection.current);
    let previous = selection.previous.map(|w| report::kpis(&facts, &ctx, w));
    let groups = by.map(|b| report::by_group(&facts, &ctx, b, selection.current)).unwrap_or_default();
    let outliers: Vec<_> = report::outliers(&facts, selection.current)
        .into_iter()
        .map(|(id, minutes)| json!({ "incident_id": id, "resolution_minutes": minutes }))
        .collect();
    let (open_actions, overdue_actions) = crate::query::pir_actions(&snap, now)?;
    let overdue_reviews = crate::query::overdue_reviews(&snap, &facts, now)?;
    let mut doc = serde_json::to_value(&current)?;
    let prev = serde_json::to_value(&previous)?;
    if let serde_json::Value::Object(map) = &mut doc {
        map.insert("ok".into(), json!(true));
        map.insert("period".into(), json!(selection.kind));
        map.insert("timezone".into(), json!(config.timezone));
        map.insert("as_of".into(), json!(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        map.insert("previous".into(), prev.clone());
        if let Some(b) = by {
            map.insert("by".into(), json!(b.as_str()));
            let rows: Vec<serde_json::Value> = groups
                .iter()
                .map(|(g, k)| {
                    let mut row = serde_json::to_value(k).unwrap_or_default();
                    row["group"] = json!(g);
                    row
                })
                .collect();
            map.insert("groups".into(), json!(rows));
        }
        map.insert("outliers".into(), json!(outliers));
        map.insert(
            "pir".into(),
            json!({ "action_items_open": open_actions, "action_items_overdue": overdue_actions, "reviews_overdue": overdue_reviews }),
        );
    }
    let value = |v: &serde_json::Value| if v.is_null() { String::new() } else { v.to_string() };
    if args.csv {
        let mut out = String::new();
        if by.is_some() {
            out.push_str(&format!("group,start,end,{}\n", KPI_KEYS.join(",")));
            let mut row = |group: &str, k: &serde_json::Value| {
                let cells: Vec<String> = KPI_KEYS.iter().map(|key| value(&k[*key])).collect();
                let bound = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
                out.push_str(&format!(
                    "{},{},{},{}\n",
                    csv_cell(group),
                    bound(&k["start"]),
                    bound(&k["end"]),
                    cells.join(",")
                ));
            };
            for (g, k) in &groups {
                row(g, &serde_json::to_value(k)?);
            }
            row("total", &doc);
        } else {
            out.push_str("kpi,value,previous\n");
            for k in KPI_KEYS {
                out.push_str(&format!("{k},{},{}\n", value(&doc[*k]), value(&prev[*k])));
            }
        }
        print!("{out}");
        return Ok(());
    }
    let text = {
        let cell = |v: &serde_json::Value| if v.is_null() { "-".to_string() } else { v.to_string() };
        let span = match (&current.start, &current.end) {
            (Some(s), Some(e)) => format!("{s} to {e}"),
            _ => "the whole history".to_string(),
        };
        let mut t = format!("{span} ({}), as of {}\n", config.timezone, doc["as_of"].as_str().unwrap_or(""));
        if let Some(b) = by {
            const SHORT: &[(&str, &str)] = &[
                ("incidents_opened", "opened"),
                ("incidents_resolved", "resolved"),
                ("mtta_minutes", "mtta"),
                ("mttr_minutes", "mttr"),
                ("mttr_p90_minutes", "mttr_p90"),
                ("escalation_rate", "escalation"),
                ("reassignment_rate", "reassign"),
                ("sla_compliance", "sla"),
                ("known_error_reuse_rate", "ke_reuse"),
                ("first_contact_resolution_rate", "fcr"),
                ("change_success_rate", "change"),
                ("stakeholder_satisfaction", "satisfaction"),
            ];
            t.push_str(&format!("{:<20}", b.as_str()));
            for (_, h) in SHORT {
                t.push_str(&format!(" {h:>12}"));
            }
            t.push('\n');
            let mut line = |group: &str, k: &serde_json::Value| {
                t.push_str(&format!("{:<20}", printable(group)));
                for (key, _) in SHORT {
                    t.push_str(&format!(" {:>12}", cell(&k[*key])));
                }
                t.push('\n');
            };
            for (g, k) in &groups {
                line(g, &serde_json::to_value(k).unwrap_or_default());
            }
            line("total", &doc);
        } else if previous.is_some() {
            t.push_str(&format!("{:<32} {:>12} {:>12}\n", "kpi", "value", "previous"));
            for k in KPI_KEYS {
                let trend = match (doc[*k].as_f64(), prev[*k].as_f64()) {
                    (Some(a), Some(b)) if a > b => " ↑",
                    (Some(a), Some(b)) if a < b => " ↓",
                    _ => "",
                };
                t.push_str(&format!("{k:<32} {:>12} {:>12}{trend}\n", cell(&doc[*k]), cell(&prev[*k])));
            }
        } else {
            t.push_str(&format!("{:<32} {:>12}\n", "kpi", "value"));
            for k in KPI_KEYS {
                t.push_str(&format!("{k:<32} {:>12}\n", cell(&doc[*k])));
            }
        }
        if current.sla_verdicts_from_source > 0 {
            t.push_str(&format!(
                "sla_compliance: {} of its SLA verdicts as reported by the source (imported)\n",
                current.sla_verdicts_from_source
            ));
        }
        t.push_str(&format!("outliers (resolution above the 95th percentile): {}\n", outliers.len()));
        t.push_str(&format!(
            "PIR action items: {open_actions} open, {overdue_actions} overdue; reviews overdue: {}\n",
            overdue_reviews.len()
        ));
        t
    };
    env.ui.data(doc, || text);
    Ok(())
}
