//! `ims audit`: the audit trail.

use clap::Args;
use serde_json::{json, Value};

use super::{parse_opt, parse_time, Env};
use crate::error::Result;
use crate::query::{self, AuditFilter};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only entries about this record (id or prefix).
    pub id: Option<String>,
    /// Only this audit action (identify, create, update, notify, escalate, …).
    #[arg(long)]
    pub action: Option<String>,
    /// Only this actor.
    #[arg(long)]
    pub actor: Option<String>,
    /// Only entries at or after (date or RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
}

pub fn run(env: &Env, args: AuditArgs) -> Result<()> {
    let repo = env.repo()?;
    let id = match &args.id {
        Some(text) => Some(match crate::model::resolve(&repo.snapshot(repo.tip()?)?, text) {
            Ok(rid) => rid.id,
            Err(e) if crate::model::valid_email(text) => {
                let _ = e;
                text.clone()
            }
            Err(e) => return Err(e.into()),
        }),
        None => None,
    };
    let filter = AuditFilter {
        id,
        action: parse_opt(args.action.as_deref())?,
        actor: args
            .actor
            .as_deref()
            .map(|a| crate::model::registered_email(&repo.snapshot(repo.tip()?)?, a))
            .transpose()?,
        since: args.since.as_deref().map(|t| parse_time("--since", t)).transpose()?,
    };
    let entries = query::audit(&repo, &filter)?;
    let mut last_commit = String::new();
    let text: String = entries
        .iter()
        .map(|e| {
            let target = match &e.ref_id {
                Some(id) => format!("{}/{id}", e.ref_type),
                None => e.ref_type.clone(),
            };
            let signature = serde_json::to_value(e.signature).ok().and_then(|v| v.as_str().map(String::from));
            let mut line = format!(
                "{} {} {:<9} {:<34} {} [{}]\n",
                &e.commit[..10],
                e.at,
                e.action,
                crate::terminal::line(&target),
                crate::terminal::line(&e.actor),
                signature.unwrap_or_default()
            );
            // A commit's deltas are shown once, under its first entry.
            if last_commit != e.commit {
                for (field, delta) in &e.fields {
                    line.push_str(&format!(
                        "    {}: {}\n",
                        crate::terminal::line(field),
                        crate::terminal::line(&describe(&delta["old"], &delta["new"]))
                    ));
                }
            }
            last_commit = e.commit.clone();
            line
        })
        .collect();
    env.ui.data(json!({ "ok": true, "entries": entries }), || text);
    Ok(())
}

/// `old -> new`, or for a list that grew, what was added.
fn describe(old: &Value, new: &Value) -> String {
    match (old, new) {
        (Value::Array(o), Value::Array(n)) if n.len() > o.len() && n.starts_with(o) => {
            n[o.len()..].iter().map(|v| format!("+ {}", short(v))).collect::<Vec<_>>().join("; ")
        }
        _ => format!("{} -> {}", short(old), short(new)),
    }
}

fn short(v: &Value) -> String {
    let text = |k: &str| v.get(k).map(|x| x.as_str().map(String::from).unwrap_or_else(|| x.to_string()));
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Object(_) if v.get("field").is_some() => {
            format!(
                "{} {} -> {}",
                text("field").unwrap_or_default(),
                text("from").unwrap_or_default(),
                text("to").unwrap_or_default()
            )
        }
        Value::Object(_) if v.get("communication_id").is_some() => {
            format!("to {}: {}", text("recipients").unwrap_or_default(), text("message").unwrap_or_default())
        }
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}
