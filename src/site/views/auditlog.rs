//! The audit log's view model (`audit.html` and `audit/…`): every entry of `ims audit`,
//! oldest first in pages of [`PAGE`] (so a new entry changes only the last page), and
//! the entries about each kind of record on a page of their own (people and settings
//! first: what an auditor looks for).

use serde::Serialize;

use crate::query::AuditEntry;

/// Entries per page of the log.
pub const PAGE: usize = 500;

#[derive(Debug, Serialize)]
pub struct Row {
    /// The entry's position in the whole log, from 1 (stable: the log only grows).
    pub n: usize,
    pub at: String,
    pub action: String,
    pub kind: String,
    pub record: String,
    /// The record's page, when it has one.
    pub href: Option<String>,
    pub actor: String,
    pub procedure: String,
    pub commit: String,
    pub signature: String,
    /// "field: old → new", one per changed field.
    pub deltas: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct PageLink {
    pub label: String,
    pub href: String,
    pub count: usize,
}

#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub heading: String,
    pub intro: String,
    pub rows: Vec<Row>,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AuditIndex {
    pub total: usize,
    /// The pages of the log, newest first.
    pub pages: Vec<PageLink>,
    /// The entries by kind of record, people and settings first.
    pub kinds: Vec<PageLink>,
    /// The newest entries, newest first.
    pub latest: Vec<Row>,
}

fn short(v: &serde_json::Value) -> String {
    let s = match v {
        serde_json::Value::Null => "—".to_string(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 120 {
        format!("{}…", s.chars().take(120).collect::<String>())
    } else {
        s
    }
}

/// An entry as a row; `root` leads from the page to the site's root.
pub fn row(n: usize, e: &AuditEntry, root: &str, has_page: &dyn Fn(&str, &str) -> bool) -> Row {
    let record = e.ref_id.clone().unwrap_or_default();
    let dir = match e.ref_type.as_str() {
        "incident" => Some("incidents"),
        "problem" => Some("problems"),
        "change" => Some("changes"),
        "kb" => Some("kb"),
        "pir" => Some("pir"),
        _ => None,
    };
    let href = dir.filter(|d| has_page(d, &record)).map(|d| format!("{root}{d}/{record}.html"));
    let signature =
        serde_json::to_value(e.signature).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
    Row {
        n,
        at: e.at.clone(),
        action: e.action.clone(),
        kind: e.ref_type.clone(),
        record,
        href,
        actor: e.actor.clone(),
        procedure: e.procedure.clone(),
        commit: e.commit[..10.min(e.commit.len())].to_string(),
        signature,
        deltas: e.fields.iter().map(|(f, d)| format!("{f}: {} → {}", short(&d["old"]), short(&d["new"]))).collect(),
    }
}

/// The order kinds are listed in: what an auditor looks for first.
pub fn kind_rank(kind: &str) -> (u8, String) {
    let r = match kind {
        "person" => 0,
        "config" => 1,
        "template" | "template_proposal" => 2,
        "incident" => 9,
        _ => 5,
    };
    (r, kind.to_string())
}
