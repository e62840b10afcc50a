//! `ims find ENTITY`: records by their fields (an audited read).

use clap::Args;
use serde_json::{json, Value};

use super::{parse, parse_opt, parse_time, Env};
use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::enums::{Category, Level, Status, Team};
use crate::query::{self, Filters};

#[derive(Debug, Args)]
pub struct FindArgs {
    /// incident, problem, change or kb (also pir, event, tool, simulation).
    pub entity: String,
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub priority: Option<String>,
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    /// The assigned team.
    #[arg(long)]
    pub team: Option<String>,
    #[arg(long)]
    pub assignee: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
    #[arg(long)]
    pub reporter: Option<String>,
    /// Change or KB type.
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Change risk.
    #[arg(long)]
    pub risk: Option<String>,
    /// Opened at or after (date or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Opened before (date or RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
}

pub fn run(env: &Env, args: FindArgs) -> Result<()> {
    let repo = env.repo()?;
    let kind = RecordKind::from_entity(&args.entity).filter(|k| *k != RecordKind::Proposal).ok_or_else(|| {
        Error::invalid(format!(
            "entity: `{}` is not one of incident, problem, change, kb, pir, event, tool, simulation",
            args.entity
        ))
    })?;
    let mut filters = Filters::default();
    let mut put = |field: &str, value: Option<String>| {
        if let Some(v) = value {
            filters.equals.insert(field.into(), v);
        }
    };
    if kind == RecordKind::Incident {
        put("status", parse_opt::<Status>(args.status.as_deref())?.map(|s| s.to_string()));
        put("category", parse_opt::<Category>(args.category.as_deref())?.map(|s| s.to_string()));
        put(
            "assigned_team",
            args.team
                .as_deref()
                .map(|t| {
                    parse::<Team>(t).map(|t| t.to_string()).or_else(|_| {
                        if t == "incident_manager" {
                            Ok(t.to_string())
                        } else {
                            parse::<Team>(t).map(|t| t.to_string())
                        }
                    })
                })
                .transpose()?,
        );
    } else {
        put("status", args.status.clone());
        put("category", args.category.clone());
        put("assigned_team", args.team.clone());
    }
    put("priority", parse_opt::<Level>(args.priority.as_deref())?.map(|s| s.to_string()));
    put("severity", parse_opt::<Level>(args.severity.as_deref())?.map(|s| s.to_string()));
    put("service", args.service.clone());
    let tip_snap = repo.snapshot(repo.tip()?)?;
    let email = |e: &Option<String>| e.as_deref().map(|e| crate::model::registered_email(&tip_snap, e)).transpose();
    put("assignee", email(&args.assignee)?);
    put("reporter", email(&args.reporter)?);
    put("type", args.kind.clone());
    put("risk", parse_opt::<Level>(args.risk.as_deref())?.map(|s| s.to_string()));
    filters.since = args.since.as_deref().map(|t| parse_time("--since", t)).transpose()?;
    filters.until = args.until.as_deref().map(|t| parse_time("--until", t)).transpose()?;
    let identity = env.identity(&repo)?;
    // The read is audited first: if the audit cannot be written, nothing is shown.
    query::audit_read(&repo, &identity, kind.entity(), None, serde_json::to_value(&filters)?)?;
    let snap = repo.snapshot(repo.tip()?)?;
    let matches = query::find(&snap, kind, &filters)?;
    let id_field = format!("{}_id", if kind == RecordKind::Tool { "tool_usage" } else { kind.entity() });
    let text: String = matches
        .iter()
        .map(|r| {
            let s = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("-").to_string();
            let title = if r.get("title").is_some() { s("title") } else { s("summary") };
            let s = |k: &str| crate::terminal::line(&s(k));
            format!(
                "{}  {:<14} {:<7} {:<16} {}\n",
                s(&id_field),
                s("status"),
                s("priority"),
                s("assigned_team"),
                crate::terminal::line(&title)
            )
        })
        .collect();
    let count = matches.len();
    env.ui.data(json!({ "ok": true, "entity": kind.entity(), "matches": matches }), || {
        if count == 0 {
            format!("no {} matches", kind.entity())
        } else {
            text
        }
    });
    Ok(())
}
