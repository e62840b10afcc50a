//! `ims sla check [--escalate] [--at T]`: the standings (`ims_io::query::sla_standings`)
//! and, with `--escalate`, one `incident.sla-escalate` per breach (`ims_io::escalation`).

use clap::Args;
use serde_json::json;

use crate::cli::{parse_time, Env};
use crate::error::{Error, Result};
use crate::model::config::format_duration;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Escalate each breach once, as the automation identity (one signed commit each).
    #[arg(long)]
    pub escalate: bool,
    /// As of this moment (default: now).
    #[arg(long)]
    pub at: Option<String>,
}

pub fn run(env: &Env, a: CheckArgs) -> Result<()> {
    let escalate = a.escalate;
    let repo = env.repo()?;
    let at = match a.at {
        Some(t) if escalate => {
            return Err(Error::invalid(format!("--at {t}: breaches are only escalated as of now")));
        }
        Some(t) => parse_time("--at", &t)?,
        None => env.now(&repo)?,
    };
    let snap = repo.snapshot(repo.tip()?)?;
    let standings = crate::query::sla_standings(&snap, at)?;
    let escalated = if escalate {
        crate::escalation::escalate_breaches(&repo, &env.identity(&repo)?, &standings, at)?
    } else {
        Vec::new()
    };
    let rows: Vec<Vec<String>> = standings
        .iter()
        .map(|s| {
            let left = if s.clock.remaining_seconds >= 0 {
                format!("{} left", format_duration(s.clock.remaining_seconds))
            } else {
                format!("{} over", format_duration(-s.clock.remaining_seconds))
            };
            let priority = match (&s.priority, s.clock.untriaged) {
                (_, true) => "untriaged".to_string(),
                (Some(p), false) => p.clone(),
                (None, false) => "-".into(),
            };
            vec![
                s.incident_id.clone(),
                priority,
                s.clock.clock.to_string(),
                s.clock.state.to_string(),
                left,
                s.status.clone(),
                crate::terminal::line(&s.title),
            ]
        })
        .collect();
    if standings.is_empty() {
        env.ui.empty("no incident at risk or in breach");
    }
    let n_escalated = escalated.len();
    if escalate {
        env.ui.status(&format!("escalated {n_escalated} breach(es)"));
    }
    // Communications `ims deliver` gave up on (README, Notifications): listed under the
    // table and in the JSON.
    let failed = crate::deliver::failed(&repo.snapshot(repo.tip()?)?)?;
    let failed_text: String = failed
        .iter()
        .map(|f| {
            format!(
                "{}  delivery failed: {} to {} after {} attempt(s): {}\n",
                f["incident_id"].as_str().unwrap_or(""),
                f["about"].as_str().unwrap_or(""),
                f["recipient"].as_str().unwrap_or(""),
                f["attempts"],
                crate::terminal::line(f["answer"].as_str().unwrap_or(""))
            )
        })
        .collect();
    let mut doc = json!({ "ok": true, "at": at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "standings": standings, "escalated": escalated });
    if !failed.is_empty() {
        doc["failed_deliveries"] = json!(failed);
    }
    let ids: Vec<String> = rows.iter().map(|r| r[0].clone()).collect();
    env.ui.data_styled(
        doc,
        |style| {
            let mut text = if rows.is_empty() {
                String::new()
            } else {
                crate::cli::style::table(
                    style,
                    &["INCIDENT", "PRIORITY", "CLOCK", "STATE", "TIME", "STATUS", "TITLE"],
                    &rows,
                    &[1, 3],
                )
            };
            text.push_str(&failed_text);
            text
        },
        || ids.join("\n"),
    );
    Ok(())
}
