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
