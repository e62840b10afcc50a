//! `ims sla check` and `ims report`.

use chrono::Utc;
use clap::Subcommand;
use serde_json::json;

use super::{parse_time, Env};
use crate::error::{Error, Result};
use crate::ids::{new_id, RecordKind};
use crate::model::config::format_duration;
use crate::procedures::incident::sla_escalate::{self, SlaEscalate};

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Incidents at risk of, or in, breach of their SLA targets, with time left or over.
    Check {
        /// Escalate each breach once, as the automation identity (one signed commit each).
        #[arg(long)]
        escalate: bool,
        /// As of this moment (default: now).
        #[arg(long)]
        at: Option<String>,
    },
}

pub fn sla(env: &Env, command: SlaCommand) -> Result<()> {
    let SlaCommand::Check { escalate, at } = command;
    let repo = env.repo()?;
    let at = match at {
        Some(t) if escalate => {
            return Err(Error::invalid(format!("--at {t}: breaches are only escalated as of now")));
        }
        Some(t) => parse_time("--at", &t)?,
        None => {
            let config = crate::model::config(&repo.snapshot(repo.tip()?)?)?;
            crate::run::clock(config.clock == crate::model::config::Clock::Simulated)?
        }
    };
    let snap = repo.snapshot(repo.tip()?)?;
    let standings = crate::query::sla_standings(&snap, at)?;
    let mut escalated = Vec::new();
    if escalate {
        let identity = env.identity(&repo)?;
        for s in standings.iter().filter(|s| s.clock.state == "breached") {
            let key = sla_escalate::breach_key(&s.incident_id, s.clock.clock, s.clock.since.as_deref());
            if crate::model::keys::holder(&repo.snapshot(repo.tip()?)?, sla_escalate::KEYS, &key)?.is_some() {
                continue;
            }
            let input = sla_escalate::Input {
                id: s.incident_id.clone(),
                clock: s.clock.clock.to_string(),
                communication_id: new_id(RecordKind::Incident, Utc::now()).replacen("INC-", "COM-", 1),
            };
            match crate::run::run::<SlaEscalate>(&repo, &identity, &input) {
                Ok(outcome) => escalated.push(json!({
                    "incident_id": s.incident_id, "clock": s.clock.clock, "commit": outcome.commit.to_string()
                })),
                // Another run escalated it meanwhile, or the incident moved on: nothing to do.
                Err(e) if matches!(e.kind, crate::error::Kind::Conflict | crate::error::Kind::Precondition) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let text: String = standings
        .iter()
        .map(|s| {
            let left = if s.clock.remaining_seconds >= 0 {
                format!("{} left", format_duration(s.clock.remaining_seconds))
            } else {
                format!("{} over", format_duration(-s.clock.remaining_seconds))
            };
            format!(
                "{}  {:<8} {:<11} {:<9} {:<12} {}  {}\n",
                s.incident_id,
                s.priority.as_deref().unwrap_or("-"),
                s.clock.clock,
                s.clock.state,
                left,
                s.status,
                s.title
            )
        })
        .collect();
    let count = standings.len();
    let n_escalated = escalated.len();
    env.ui.data(
        json!({ "ok": true, "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "standings": standings, "escalated": escalated }),
        || {
            let mut t = if count == 0 { "no incident at risk or in breach\n".to_string() } else { text };
            if escalate {
                t.push_str(&format!("escalated {n_escalated} breach(es)\n"));
            }
            t
        },
    );
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// daily, weekly or monthly (default).
    #[arg(long)]
    pub period: Option<String>,
    /// A moment inside the period to report (default: now).
    #[arg(long)]
    pub at: Option<String>,
    /// CSV for spreadsheets: kpi,value,previous.
    #[arg(long)]
    pub csv: bool,
}

const KPI_KEYS: &[&str] = &[
    "mtta_minutes",
    "mttr_minutes",
    "mtta_median_minutes",
    "mttr_median_minutes",
    "escalation_rate",
    "sla_compliance",
    "known_error_reuse_rate",
    "change_success_rate",
    "first_contact_resolution_rate",
    "stakeholder_satisfaction",
    "incidents_opened",
    "incidents_resolved",
];

pub fn report(env: &Env, args: ReportArgs) -> Result<()> {
    use crate::report::{self, Period};
    let repo = env.repo()?;
    let tip = repo.tip()?;
    let snap = repo.snapshot(tip)?;
    let config = crate::model::config(&snap)?;
    let tz: chrono_tz::Tz = config
        .timezone
        .parse()
        .map_err(|_| Error::invalid(format!("ims.yaml timezone: `{}` is unknown", config.timezone)))?;
    let period: Period = args.period.as_deref().unwrap_or("monthly").parse()?;
    let at = match &args.at {
        Some(t) => parse_time("--at", t)?,
        None => crate::run::clock(config.clock == crate::model::config::Clock::Simulated)?,
    };
    let ((start, end), (pstart, pend)) = report::bounds(period, at, tz);
    let facts = crate::query::incident_facts(&repo, tip)?;
    let ctx = crate::query::report_context(&snap)?;
    let current = report::kpis(&facts, &ctx, start, end);
    let previous = report::kpis(&facts, &ctx, pstart, pend);
    let outliers: Vec<_> = report::outliers(&facts, start, end)
        .into_iter()
        .map(|(id, minutes)| json!({ "incident_id": id, "resolution_minutes": minutes }))
        .collect();
    let (open_actions, overdue_actions) = crate::query::pir_actions(&snap, at)?;
    let overdue_reviews = crate::query::overdue_reviews(&repo, at)?;
    let mut doc = serde_json::to_value(&current)?;
    let prev = serde_json::to_value(&previous)?;
    if let serde_json::Value::Object(map) = &mut doc {
        map.insert("ok".into(), json!(true));
        map.insert("period".into(), json!(args.period.as_deref().unwrap_or("monthly")));
        map.insert("timezone".into(), json!(config.timezone));
        map.insert("previous".into(), prev.clone());
        map.insert("outliers".into(), json!(outliers));
        map.insert(
            "pir".into(),
            json!({ "action_items_open": open_actions, "action_items_overdue": overdue_actions, "reviews_overdue": overdue_reviews }),
        );
    }
    if args.csv {
        let mut out = String::from("kpi,value,previous\n");
        let cell = |v: &serde_json::Value| if v.is_null() { String::new() } else { v.to_string() };
        for k in KPI_KEYS {
            out.push_str(&format!("{k},{},{}\n", cell(&doc[*k]), cell(&prev[*k])));
        }
        print!("{out}");
        return Ok(());
    }
    let text = {
        let mut t = format!("{} to {} ({})\n", current.start, current.end, config.timezone);
        t.push_str(&format!("{:<32} {:>12} {:>12}\n", "kpi", "value", "previous"));
        let cell = |v: &serde_json::Value| if v.is_null() { "-".to_string() } else { v.to_string() };
        for k in KPI_KEYS {
            let trend = match (doc[*k].as_f64(), prev[*k].as_f64()) {
                (Some(a), Some(b)) if a > b => " ↑",
                (Some(a), Some(b)) if a < b => " ↓",
                _ => "",
            };
            t.push_str(&format!("{k:<32} {:>12} {:>12}{trend}\n", cell(&doc[*k]), cell(&prev[*k])));
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
