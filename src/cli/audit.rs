//! `ims audit`: the audit trail.

use clap::Args;
use serde_json::{json, Value};

use super::{parse_opt, parse_time, Env};
use crate::error::{Error, Kind, Result};
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
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only the procedures of a pull request: the commits of B not in A (`main..HEAD`).
    #[arg(long, value_name = "A..B")]
    pub range: Option<String>,
    /// A Markdown summary for a pull-request comment: one line per procedure in plain
    /// words, its field changes, signer and signature, SLA effect, and the `ims verify`
    /// verdict for the range (exit 7 when it fails, after printing).
    #[arg(long)]
    pub markdown: bool,
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
        range: args.range.as_deref().map(|r| crate::verify::parse_range(&repo.git, r)).transpose()?,
    };
    let entries = query::audit(&repo, &filter)?;
    if args.markdown {
        return markdown(env, &repo, &args, &filter, &entries);
    }
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

/// `ims audit --range A..B --markdown`: the pull request in plain words, for a bot to
/// post as a comment (as `terraform plan` comments are), then the verdict of
/// `ims verify --range` on the same commits.
fn markdown(
    env: &Env,
    repo: &crate::repo::Repo,
    args: &AuditArgs,
    filter: &AuditFilter,
    entries: &[query::AuditEntry],
) -> Result<()> {
    let report = crate::verify::verify(
        repo,
        &crate::verify::Options { range: filter.range, trust_root: None, no_cache: false, require_read_audit: false },
    )?;
    // Oldest first, one item per commit (a procedure may touch several records).
    let mut commits: Vec<(&query::AuditEntry, Vec<&query::AuditEntry>)> = Vec::new();
    for e in entries.iter().rev() {
        match commits.iter_mut().find(|(first, _)| first.commit == e.commit) {
            Some((_, all)) => all.push(e),
            None => commits.push((e, vec![e])),
        }
    }
    let md = |t: &str| crate::terminal::line(t).replace('|', "\\|").replace('`', "'");
    let range = args.range.clone().unwrap_or_else(|| "the history".into());
    let mut t = format!("### ims: {} procedure(s) in `{}`\n\n", commits.len(), md(&range));
    if report.ok {
        t.push_str(&format!("**ims verify: passed** ({} commits checked, no violations)\n\n", report.checked));
    } else {
        t.push_str(&format!("**ims verify: FAILED** ({} violations)\n\n", report.violations.len()));
        for v in &report.violations {
            t.push_str(&format!(
                "- `{}` {}: {}\n",
                &v.commit[..v.commit.len().min(10)],
                md(v.rule.as_str()),
                md(&v.message)
            ));
        }
        t.push('\n');
    }
    if commits.is_empty() {
        t.push_str("No procedures in this range.\n");
    }
    for (first, all) in &commits {
        let signature = serde_json::to_value(first.signature).ok().and_then(|v| v.as_str().map(String::from));
        let signature = signature.unwrap_or_default();
        let mark = if signature == "good" { "signed" } else { "**signature: " };
        let signed = if signature == "good" {
            format!("{mark}, good signature")
        } else {
            format!("{mark}{}**", signature.replace('_', " "))
        };
        t.push_str(&format!(
            "- **{}** — by {} at {} ({signed}; `{}`, commit `{}`)\n",
            md(&first.subject),
            md(&first.actor),
            first.at,
            md(&first.procedure),
            &first.commit[..10]
        ));
        let mut sla = Vec::new();
        if first.procedure.starts_with("incident.sla-escalate") {
            sla.push("an SLA breach escalated".to_string());
        }
        for e in all {
            for (field, delta) in &e.fields {
                if field == "timeline" {
                    sla.extend(sla_effects(&delta["old"], &delta["new"]));
                    continue;
                }
                t.push_str(&format!("  - {}: {}\n", md(field), md(&describe(&delta["old"], &delta["new"]))));
            }
        }
        sla.dedup();
        if !sla.is_empty() {
            t.push_str(&format!("  - SLA: {}\n", md(&sla.join("; "))));
        }
    }
    let ok = report.ok;
    env.ui.data(json!({ "ok": ok, "markdown": t, "entries": entries, "verify": report }), || t.clone());
    if ok {
        Ok(())
    } else {
        crate::cli::document_printed();
        Err(Error::new(Kind::Verify, format!("{}: ims verify found violations", range)))
    }
}

/// What the timeline entries a procedure added mean for the incident's SLA clocks.
fn sla_effects(old: &Value, new: &Value) -> Vec<String> {
    let (Value::Array(o), Value::Array(n)) = (old, new) else { return vec![] };
    let added = if n.starts_with(o) { &n[o.len()..] } else { &n[..] };
    let mut out = Vec::new();
    for e in added {
        let field = e.get("field").and_then(Value::as_str).unwrap_or("");
        let to = e.get("to").and_then(Value::as_str).unwrap_or("");
        match (field, to) {
            ("sla", spec) => out.push(format!("targets set ({})", spec.replace(';', ", "))),
            ("status", "pending_vendor") => out.push("clocks paused (pending vendor)".into()),
            ("status", "resolved") => out.push("clocks stopped (resolved)".into()),
            ("status", "in_progress") if e.get("from").and_then(Value::as_str) == Some("pending_vendor") => {
                out.push("clocks running again".into())
            }
            _ => {}
        }
    }
    out
}
