//! Every incident's audit entries, with each commit's signature status, for incident
//! pages and the audit log — from one pass over history, kept in `.git/ims/cache/` by tip so a
//! rebuild walks only the commits made since.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::repo::Repo;

/// One audit entry about an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditLine {
    pub commit: String,
    pub ref_id: String,
    pub action: String,
    pub actor: String,
    pub at: String,
    pub signature: String,
}

const FIELDS: usize = 6;

impl AuditLine {
    fn to_line(&self) -> String {
        [&self.ref_id, &self.commit, &self.action, &self.actor, &self.at, &self.signature]
            .map(|f| f.replace(['\t', '\n'], " "))
            .join("\t")
    }

    fn from_line(line: &str) -> Option<AuditLine> {
        let f: Vec<&str> = line.split('\t').collect();
        (f.len() == FIELDS).then(|| AuditLine {
            ref_id: f[0].into(),
            commit: f[1].into(),
            action: f[2].into(),
            actor: f[3].into(),
            at: f[4].into(),
            signature: f[5].into(),
        })
    }
}

/// Entries newest first, by incident id.
pub type Index = HashMap<String, Vec<AuditLine>>;

/// The entries of the commits from `tip` back to (not including) `known`, newest first.
fn walk(repo: &Repo, tip: git2::Oid, known: Option<git2::Oid>) -> Result<Vec<AuditLine>> {
    let git = &repo.git;
    let mut walk = git.revwalk()?;
    walk.set_sorting(git2::Sort::TOPOLOGICAL)?;
    walk.push(tip)?;
    if let Some(known) = known {
        walk.hide(known)?;
    }
    let mut out = Vec::new();
    for oid in walk {
        let commit = git.find_commit(oid?)?;
        let Some(t) = commit.message().ok().and_then(crate::engine::parse_trailers) else { continue };
        let signature = crate::query::signature_status(git, &commit, &t.actor)?;
        let signature = serde_json::to_value(signature).ok().and_then(|v| v.as_str().map(String::from));
        let at = Utc.timestamp_opt(commit.time().seconds(), 0).single().unwrap_or_default();
        for a in t.actions.iter().filter(|a| a.ref_type == "incident") {
            let Some(id) = &a.ref_id else { continue };
            out.push(AuditLine {
                commit: commit.id().to_string()[..10].to_string(),
                ref_id: id.clone(),
                action: a.action.to_string(),
                actor: t.actor.clone(),
                at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                signature: signature.clone().unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// The index at the branch tip: the cached one when the tip has not moved, the cached one
/// with the new commits' entries in front when the tip moved forward, else a full walk.
pub fn index(repo: &Repo) -> Result<Index> {
    let Some(tip) = repo.tip()? else { return Ok(Index::new()) };
    let path = super::cache::cache_path(repo, crate::cache::SITE_AUDIT, "");
    let text = crate::cache::read(&path, crate::cache::SITE_AUDIT).unwrap_or_default();
    let mut lines = text.lines();
    let cached_tip = lines.next().and_then(|l| l.strip_prefix("tip ")).and_then(|t| git2::Oid::from_str(t).ok());
    // The cache counts only when the tip is it or descends from it, and parses whole.
    let (known, cached) = match cached_tip {
        Some(c) if c == tip || repo.git.graph_descendant_of(tip, c).unwrap_or(false) => {
            match lines.map(AuditLine::from_line).collect::<Option<Vec<_>>>() {
                Some(cached) => (Some(c), cached),
                None => (None, vec![]),
            }
        }
        _ => (None, vec![]),
    };
    let moved = known != Some(tip);
    let mut all = if moved { walk(repo, tip, known)? } else { vec![] };
    all.extend(cached);
    if moved {
        let mut body = format!("tip {tip}\n");
        for l in &all {
            body.push_str(&l.to_line());
            body.push('\n');
        }
        super::cache::save(&path, crate::cache::SITE_AUDIT, &body);
    }
    let mut out = Index::new();
    for l in all {
        out.entry(l.ref_id.clone()).or_default().push(l);
    }
    Ok(out)
}

/// Every entry of `ims audit` (branch and read refs, every record kind, people and
/// settings too, with field deltas), oldest first. Kept in the cache folder
/// ([`crate::cache::SITE_AUDIT_LOG`]) with the heads it
/// was read from: a rebuild reads only the commits made since, unless a head it knew
/// is gone or was rewritten, when it reads the whole trail again.
pub fn log(repo: &Repo) -> Result<Vec<crate::query::AuditEntry>> {
    use crate::query::{audit_heads, audit_walk, AuditEntry, AuditFilter};
    let heads = audit_heads(repo)?;
    let path = super::cache::cache_path(repo, crate::cache::SITE_AUDIT_LOG, "");
    let text = crate::cache::read(&path, crate::cache::SITE_AUDIT_LOG).unwrap_or_default();
    let mut lines = text.lines();
    let known: Option<Vec<git2::Oid>> = lines
        .next()
        .and_then(|l| l.strip_prefix("heads "))
        .and_then(|l| l.split_whitespace().map(|h| git2::Oid::from_str(h).ok()).collect::<Option<Vec<_>>>());
    // Usable when every known head is still reached from a current one.
    let reached = |k: &git2::Oid| heads.iter().any(|h| h == k || repo.git.graph_descendant_of(*h, *k).unwrap_or(false));
    let cached: Option<(Vec<git2::Oid>, Vec<AuditEntry>)> = known.filter(|k| k.iter().all(reached)).and_then(|k| {
        lines.map(|l| serde_json::from_str::<AuditEntry>(l).ok()).collect::<Option<Vec<_>>>().map(|c| (k, c))
    });
    let (hide, cached) = cached.unwrap_or_default();
    let moved = {
        let (mut a, mut b) = (hide.clone(), heads.clone());
        a.sort();
        b.sort();
        a != b || text.is_empty()
    };
    // Newest first, as `ims audit` lists them.
    let mut all = if moved { audit_walk(repo, &heads, &hide, &AuditFilter::default())? } else { vec![] };
    all.extend(cached);
    if moved {
        let mut body = format!("heads {}\n", heads.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(" "));
        for e in &all {
            body.push_str(&serde_json::to_string(e)?);
            body.push('\n');
        }
        super::cache::save(&path, crate::cache::SITE_AUDIT_LOG, &body);
    }
    all.reverse();
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_tabs_cannot_break_them() {
        let l = AuditLine {
            commit: "0123456789".into(),
            ref_id: "INC-20260101-AAAAAAAAAA".into(),
            action: "update".into(),
            actor: "a\tb@example.com".into(),
            at: "2026-01-01T00:00:00Z".into(),
            signature: "good".into(),
        };
        let back = AuditLine::from_line(&l.to_line()).unwrap();
        assert_eq!(back.actor, "a b@example.com");
        assert_eq!(AuditLine { actor: "a b@example.com".into(), ..l }, back);
        assert!(AuditLine::from_line("too\tfew").is_none());
    }
}
