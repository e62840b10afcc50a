//! `ims show`, `ims find`, `ims audit`.

use clap::Args;
use serde_json::{json, Value};

use super::{parse, parse_opt, parse_time, Env};
use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::enums::{Category, Level, Status, Team};
use crate::model::Snapshot;
use crate::query::{self, AuditFilter, Filters};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// An id, or any unambiguous prefix of one.
    pub id: String,
    /// An earlier published version (KB articles).
    #[arg(long)]
    pub version: Option<u32>,
}

pub fn show(env: &Env, args: ShowArgs) -> Result<()> {
    let repo = env.repo()?;
    let snap = repo.snapshot(repo.tip()?)?;
    let rid = crate::model::resolve(&snap, &args.id)?;
    let bytes = match args.version {
        None => snap.read(&rid.path())?.ok_or_else(|| Error::invalid(format!("{}: no such record", rid.id)))?,
        Some(_) if rid.kind != RecordKind::Kb => {
            return Err(Error::invalid("--version: only KB articles have versions, and this is not one"))
        }
        Some(n) => query::kb_version(&repo, &rid.path(), n)?
            .ok_or_else(|| Error::invalid(format!("{}: has no published version {n}", rid.id)))?,
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let record = crate::yaml::to_value(&text, &rid.path())?;
    // Showing a security incident is an audited read.
    let identity_needed = record.get("category").and_then(Value::as_str) == Some("security");
    let registered = {
        let actor = crate::run::actor_from_env(&repo.git);
        let actor = actor.ok_or_else(|| Error::forbidden("no actor: set IMS_ACTOR or `git config user.email`"))?;
        crate::model::person(&snap, actor.trim())?
            .ok_or_else(|| Error::forbidden(format!("actor {}: not a registered person", actor.trim())))?
    };
    if registered.revoked {
        return Err(Error::forbidden(format!("actor {}: revoked", registered.email)));
    }
    if identity_needed {
        let identity = env.identity(&repo)?;
        query::audit_read(&repo, &identity, rid.kind.entity(), Some(&rid.id), Value::Null)?;
    }
    let mut doc = json!({ "ok": true, "id": rid.id, "record": record });
    if let (Value::Object(d), Value::Object(r)) = (&mut doc, &record) {
        for (k, v) in r {
            d.entry(k.clone()).or_insert(v.clone());
        }
    }
    env.ui.data(doc, || text);
    Ok(())
}

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

pub fn find(env: &Env, args: FindArgs) -> Result<()> {
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

pub fn audit(env: &Env, args: AuditArgs) -> Result<()> {
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
