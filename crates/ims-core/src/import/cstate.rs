//! cState status-page incidents: Markdown files with YAML front matter (`title`, `date`,
//! `resolved`, `resolvedWhen`, `severity`, `affected`, `section`, `informational`) and a
//! body of updates, each under a `[Label]` line.
//!
//! The archive is a bundle of the files: a JSON list of `{"file", "text"}`, by name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{incident_id, lenient_time, Imported, Read, Reading, Skipped, UNKNOWN};
use crate::error::{Error, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{Channel, Level, Recipients, Source, Status};
use crate::model::incident::Communication;

/// One file of the bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    pub file: String,
    pub text: String,
}

#[derive(Debug, Deserialize)]
struct Front {
    title: Option<String>,
    date: Option<serde_yaml_ng::Value>,
    resolved: Option<bool>,
    #[serde(rename = "resolvedWhen")]
    resolved_when: Option<serde_yaml_ng::Value>,
    severity: Option<String>,
    affected: Option<Vec<String>>,
    informational: Option<bool>,
}

fn scalar(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Front matter and body, or why the file has none.
fn split(text: &str) -> std::result::Result<(&str, &str), String> {
    let rest = text.strip_prefix("---").ok_or("no front matter (the file does not start with ---)")?;
    let end = rest.find("\n---").ok_or("the front matter is not closed by a --- line")?;
    let body = &rest[end + 4..];
    Ok((&rest[..end], body.split_once('\n').map_or("", |(_, b)| b)))
}

/// The updates of a body: `(label, text)` for each `[Label]` section.
fn sections(body: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in body.lines() {
        let t = line.trim();
        if t.len() > 2 && t.starts_with('[') && t.ends_with(']') && !t[1..].contains('[') && !t.contains("](") {
            out.push((t[1..t.len() - 1].trim().to_string(), String::new()));
        } else if let Some((_, text)) = out.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    out.into_iter().map(|(l, t)| (l, t.trim().to_string())).filter(|(_, t)| !t.is_empty()).collect()
}

/// When an update was posted, where its label says: the opening message at the start,
/// the closing one at the resolution. Other updates carry no time and stay in the
/// description only.
fn update_time(label: &str, start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    let l = label.to_lowercase();
    if ["initial", "open"].iter().any(|w| l.contains(w)) {
        Some(start)
    } else if ["final", "clos", "end of", "resolved"].iter().any(|w| l.contains(w)) {
        end
    } else {
        None
    }
}

fn one(f: &File, zone: chrono_tz::Tz, reading: Reading, read: &mut Read) -> std::result::Result<Imported, String> {
    let Reading { actor, now, rules } = reading;
    let (front, body) = split(&f.text)?;
    crate::yaml::guard(front, "front matter").map_err(|e| e.message)?;
    let front: Front = serde_yaml_ng::from_str(front).map_err(|e| format!("front matter: {e}"))?;
    if front.informational == Some(true) {
        return Err("an informational notice, not an incident".into());
    }
    let title =
        hygiene::text(rules, "title", front.title.as_deref().unwrap_or(""), Shape::Line).map_err(|e| e.message)?;
    let mut time =
        |field: &str, v: &Option<serde_yaml_ng::Value>| -> std::result::Result<Option<DateTime<Utc>>, String> {
            let Some(v) = v else { return Ok(None) };
            let text = scalar(v).ok_or(format!("{field}: not a date and time"))?;
            let (t, assumed) = lenient_time(&text, zone).map_err(|e| format!("{field}: {}", e.message))?;
            if assumed {
                read.notes.push(Skipped {
                    item: f.file.clone(),
                    reason: format!("{field} `{text}` has no UTC offset; read in {zone}"),
                });
            }
            Ok(Some(t))
        };
    let start = time("date", &front.date)?.ok_or("no date")?;
    let end = match front.resolved {
        Some(true) => Some(time("resolvedWhen", &front.resolved_when)?.ok_or("resolved, but no resolvedWhen")?),
        _ => None,
    };
    if start > now {
        return Err(format!("date {} is in the future", start.to_rfc3339()));
    }
    if let Some(end) = end {
        if end < start {
            return Err(format!(
                "resolved before it began (date {}, resolvedWhen {})",
                start.to_rfc3339(),
                end.to_rfc3339()
            ));
        }
        if end > now {
            return Err(format!("resolvedWhen {} is in the future", end.to_rfc3339()));
        }
    }
    let level = match front.severity.as_deref().map(str::trim) {
        Some("down") => Level::High,
        Some("disrupted") => Level::Medium,
        Some("notice") => Level::Low,
        other => return Err(format!("severity {other:?} is not down, disrupted or notice")),
    };
    let affected: Vec<String> = front.affected.unwrap_or_default().into_iter().map(|a| a.trim().to_string()).collect();
    let service = affected.first().filter(|s| !s.is_empty()).ok_or("no affected service")?;
    let service = hygiene::text(rules, "service", service, Shape::Line).map_err(|e| e.message)?;
    let mut description = body.trim().to_string();
    if affected.len() > 1 {
        description.push_str(&format!("\n\nAffected services: {}", affected.join(", ")));
    }
    let description = hygiene::optional(rules, "body", Some(&description), Shape::Text).map_err(|e| e.message)?;
    let key = format!("cstate:{}", f.file);
    let id = incident_id(&key, start);
    let mut inc = crate::model::Incident {
        incident_id: id.clone(),
        title,
        description,
        service,
        source: Source::UserReport,
        priority: Some(level),
        severity: Some(level),
        priority_justification: Some(format!("cState severity {}", front.severity.unwrap_or_default().trim())),
        reporter: UNKNOWN.into(),
        reported_by: actor.into(),
        created_at: start,
        updated_at: end.unwrap_or(start),
        ..crate::model::Incident::blank()
    };
    inc.track(start, UNKNOWN, "status", None, Some(Status::Open.to_string()));
    inc.track(start, UNKNOWN, "priority", None, Some(level.to_string()));
    for (n, (label, text)) in sections(body).into_iter().enumerate() {
        let Some(at) = update_time(&label, start, end) else { continue };
        let message = hygiene::text(rules, "update", &text, Shape::Text).map_err(|e| e.message)?;
        inc.communications.push(Communication {
            communication_id: incident_id(&format!("{key}#{n}"), at).replacen("INC-", "COM-", 1),
            recipients: Recipients::EndUsers,
            message,
            sender: UNKNOWN.into(),
            channel: Channel::StatusPage,
            at,
        });
    }
    inc.communications.sort_by_key(|c| c.at);
    if let Some(end) = end {
        inc.set_status(end, UNKNOWN, Status::Resolved);
        inc.resolved_at = Some(end);
        inc.resolution_summary = inc.communications.iter().rev().find(|c| c.at == end).map(|c| c.message.clone());
    }
    Ok(Imported { key, incident: inc })
}

/// Reads a bundle of cState files.
pub fn read(bundle: &[u8], zone: chrono_tz::Tz, reading: Reading) -> Result<Read> {
    let files: Vec<File> = serde_json::from_slice(bundle).map_err(|e| Error::invalid(format!("cstate bundle: {e}")))?;
    let mut read = Read::default();
    for f in &files {
        match one(f, zone, reading, &mut read) {
            Ok(i) => read.imported.push(i),
            Err(reason) => read.rejected.push(Skipped { item: f.file.clone(), reason }),
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> File {
        File { file: "2022-03-04-x.md".into(), text: text.into() }
    }

    fn reading() -> Reading<'static> {
        Reading { actor: "im@x.test", now: now(), rules: Default::default() }
    }

    fn now() -> DateTime<Utc> {
        "2026-11-26T00:00:00Z".parse().unwrap()
    }

    const GOOD: &str = "---\ntitle: Disk full\ndate: 2022-03-04T18:00:00-00:00\nresolved: true\nresolvedWhen: 2022-03-07T10:45:00-00:00\n# comment\nseverity: disrupted\naffected:\n  - repo\n  - ci\nsection: issue\n---\n\n[Final Message]\n\nCleaned up.\n\n[Update]\nStill full.\n\n[Initial Message]\nDisk is full.\n";

    #[test]
    fn a_file_becomes_an_incident_with_its_updates() {
        let mut read = Read::default();
        let i = one(&file(GOOD), chrono_tz::UTC, reading(), &mut read).unwrap().incident;
        assert_eq!((i.title.as_str(), i.service.as_str(), i.status), ("Disk full", "repo", Status::Resolved));
        assert_eq!(i.priority, Some(Level::Medium));
        assert_eq!(i.created_at.to_rfc3339(), "2022-03-04T18:00:00+00:00");
        assert_eq!(i.resolved_at.unwrap().to_rfc3339(), "2022-03-07T10:45:00+00:00");
        let messages: Vec<&str> = i.communications.iter().map(|c| c.message.as_str()).collect();
        assert_eq!(messages, ["Disk is full.", "Cleaned up."], "the undated update stays in the description");
        assert!(i.description.unwrap().contains("Still full.\n\n[Initial Message]"));
        assert_eq!(i.resolution_summary.as_deref(), Some("Cleaned up."));
        assert!(read.notes.is_empty());
    }

    #[test]
    fn what_cannot_be_imported_faithfully_is_rejected_with_a_reason() {
        let mut read = Read::default();
        let mut reject = |text: &str| one(&file(text), chrono_tz::UTC, reading(), &mut read).unwrap_err();
        assert!(reject(&GOOD.replace("2022-03-07T10:45", "2022-03-01T10:45")).contains("resolved before it began"));
        assert!(reject(&GOOD.replace("  - repo\n  - ci\n", "")).contains("no affected service"));
        assert!(reject(&GOOD.replace("disrupted", "meh")).contains("severity"));
        assert!(reject(&GOOD.replace("2022-03-04T18", "2027-03-04T18")).contains("in the future"));
        assert!(reject("no front matter").contains("front matter"));
        assert!(reject(&GOOD.replace("Disk full", "\"\"")).contains("title"));
        assert!(reject(&GOOD.replace("Disk is full.", "AKIAIOSFODNN7EXAMPLE")).contains("AWS"));
    }

    #[test]
    fn times_without_an_offset_are_noted() {
        let mut read = Read::default();
        let text = GOOD.replace("2022-03-04T18:00:00-00:00", "2022-03-04 18:00:00");
        one(&file(&text), chrono_tz::UTC, reading(), &mut read).unwrap();
        assert_eq!(read.notes.len(), 1);
        assert!(read.notes[0].reason.contains("no UTC offset"));
    }
}
