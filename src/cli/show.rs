//! `ims show ID`.

use clap::Args;
use serde_json::{json, Value};

use super::Env;
use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::Snapshot;
use crate::query::{self};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// An id, or any unambiguous prefix of one.
    pub id: String,
    /// An earlier published version (KB articles).
    #[arg(long, value_name = "N")]
    pub version: Option<u32>,
    /// The record's file as stored (YAML), instead of the formatted record.
    #[arg(long)]
    pub yaml: bool,
}

pub fn run(env: &Env, args: ShowArgs) -> Result<()> {
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
        let actor = actor.ok_or_else(|| Error::forbidden(format!("no actor: {}", crate::run::CHOOSE_IDENTITY)))?;
        crate::model::person(&snap, actor.trim())?.ok_or_else(|| {
            Error::forbidden(format!(
                "actor {}: not a registered person; {}",
                actor.trim(),
                crate::run::CHOOSE_IDENTITY
            ))
        })?
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
    if args.yaml {
        env.ui.data(doc, || text);
    } else {
        let id = rid.id.clone();
        env.ui.data_styled(doc, |style| human(style, &record), || id);
    }
    Ok(())
}

/// A value on one line: text as it is, lists joined, objects as `key=value`.
fn flat(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(flat).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("{k}={}", flat(v)))
            .collect::<Vec<_>>()
            .join("  "),
        other => other.to_string(),
    }
}

/// `2026-08-23T12:40:00Z` as `2026-08-23 12:40`.
fn when(v: Option<&Value>) -> String {
    let t = v.and_then(Value::as_str).unwrap_or("-");
    t.replacen('T', " ", 1).trim_end_matches(":00Z").trim_end_matches('Z').to_string()
}

/// The record formatted for reading: its id and title, its fields (empty ones left out),
/// then its timeline and communications as dated lines. Every value is escaped.
fn human(style: crate::cli::style::Style, record: &Value) -> String {
    let line = |v: &Value| crate::terminal::line(&flat(v));
    let Value::Object(fields) = record else { return line(record) };
    let id_key = fields.keys().find(|k| k.ends_with("_id")).cloned().unwrap_or_default();
    let id = fields.get(&id_key).map(line);
    let title = fields.get("title").or_else(|| fields.get("summary")).map(line).unwrap_or_default();
    let mut out = format!("{}  {}\n", style.bold(&id.unwrap_or_default()), style.bold(&title));
    let sections = ["timeline", "communications", "description"];
    let shown: Vec<(&String, &Value)> = fields
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "schema" | "title") && !sections.contains(&k.as_str()) && **k != id_key)
        .filter(|(_, v)| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
        .collect();
    let width = shown.iter().map(|(k, _)| k.chars().count()).max().unwrap_or(0);
    for (k, v) in shown {
        let value = line(v);
        let value =
            if matches!(k.as_str(), "status" | "priority" | "severity" | "risk") { style.value(&value) } else { value };
        out.push_str(&format!("  {}{}  {value}\n", style.dim(k), " ".repeat(width - k.chars().count())));
    }
    if let Some(d) = fields.get("description").and_then(Value::as_str) {
        out.push_str(&format!("\n{}\n", style.bold("description")));
        for l in d.lines() {
            out.push_str(&format!("  {}\n", crate::terminal::line(l)));
        }
    }
    if let Some(Value::Array(entries)) = fields.get("timeline") {
        out.push_str(&format!("\n{}\n", style.bold("timeline")));
        for e in entries {
            let from = e.get("from").map(line).unwrap_or_else(|| "-".into());
            let to = e.get("to").map(line).unwrap_or_else(|| "-".into());
            out.push_str(&format!(
                "  {}  {:<32} {}: {from} -> {to}\n",
                when(e.get("at")),
                line(e.get("by").unwrap_or(&Value::Null)),
                line(e.get("field").unwrap_or(&Value::Null)),
            ));
        }
    }
    if let Some(Value::Array(entries)) = fields.get("communications") {
        if !entries.is_empty() {
            out.push_str(&format!("\n{}\n", style.bold("communications")));
        }
        for c in entries {
            let g = |k: &str| line(c.get(k).unwrap_or(&Value::Null));
            out.push_str(&format!(
                "  {}  {} to {}: {}\n",
                when(c.get("at")),
                g("sender"),
                g("recipients"),
                g("message")
            ));
        }
    }
    out
}
