//! The view model of an incident page (`incidents/INC-….html`): a header with status,
//! priority, service, team, people and SLA outcome, and one activity stream merging the
//! timeline, communications, diagnosis, vendor engagements and the audit trail in time
//! order (the PagerDuty / incident.io habit). Public pages get only what
//! [`crate::site::View`] lets the public read: no people, no internal notes, no audit.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::Incident;
use crate::site::audit::AuditLine;
use crate::site::View;

#[derive(Debug, Serialize)]
pub struct IncidentPage {
    pub id: String,
    pub title: String,
    pub status: String,
    pub status_class: String,
    pub priority: String,
    pub severity: String,
    pub category: String,
    pub service: String,
    pub team: String,
    /// People: staff pages only.
    pub assignee: Option<String>,
    pub reporter: Option<String>,
    pub created_at: String,
    pub acknowledged_at: String,
    pub resolved_at: String,
    pub closed_at: String,
    /// How long it took to resolve (or "ongoing").
    pub duration: String,
    pub description: Option<String>,
    pub resolution: Option<String>,
    pub notes: Vec<String>,
    pub sla: Vec<SlaRow>,
    pub problems: Vec<String>,
    pub changes: Vec<String>,
    pub kb: Vec<String>,
    pub reviews: Vec<String>,
    pub activity: Vec<Activity>,
    /// Counts, for the header of the stream.
    pub communications: usize,
    pub audit_entries: usize,
    /// Messages `ims deliver` gave up on (internal pages), as `ims sla check --json` lists them.
    pub failed_deliveries: Vec<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct SlaRow {
    pub clock: String,
    pub target: String,
    /// `met`, `missed`, or `running` (an open incident's clocks are on the dashboard).
    pub outcome: String,
    pub took: String,
}

/// One line of the activity stream.
#[derive(Debug, Serialize)]
pub struct Activity {
    pub at: String,
    /// `change`, `update`, `diagnosis`, `vendor`, `audit`.
    pub kind: &'static str,
    pub who: String,
    pub what: String,
    pub from: Option<String>,
    pub to: Option<String>,
    pub commit: Option<String>,
    pub signature: Option<String>,
}

fn ts(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "—".into())
}

/// A duration as people read it: "2 d 3 h", "14 h 42 m", "5 m", "40 s".
pub fn human_duration(secs: i64) -> String {
    let s = secs.abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    let text = if d > 0 {
        format!("{d} d {h} h")
    } else if h > 0 {
        format!("{h} h {m} m")
    } else if m > 0 {
        format!("{m} m")
    } else {
        format!("{s} s")
    };
    if secs < 0 {
        format!("−{text}")
    } else {
        text
    }
}

pub fn build(
    i: &Incident,
    view: View,
    audit: Option<&Vec<AuditLine>>,
    reviews: &[String],
    untriaged: Option<&str>,
) -> IncidentPage {
    let internal = view.internal();
    let mut activity: Vec<Activity> = Vec::new();
    let blank = |at: String, kind: &'static str, who: String, what: String| Activity {
        at,
        kind,
        who,
        what,
        from: None,
        to: None,
        commit: None,
        signature: None,
    };
    for t in i.timeline.iter().filter(|t| internal || matches!(t.field.as_str(), "status" | "priority" | "severity")) {
        let who = if internal { t.by.clone() } else { String::new() };
        let mut a = blank(ts(&Some(t.at)), "change", who, t.field.replace('_', " "));
        a.from = Some(t.from.clone().unwrap_or_else(|| "—".into()));
        a.to = Some(t.to.clone().unwrap_or_else(|| "—".into()));
        activity.push(a);
    }
    for c in i.communications.iter().filter(|c| view.communication(c)) {
        let who = if internal { format!("{} via {}", c.sender, c.channel.as_str()) } else { String::new() };
        let what = format!("Update to {}: {}", c.recipients.as_str().replace('_', " "), view.text(&c.message));
        activity.push(blank(ts(&Some(c.at)), "update", who, what));
    }
    if internal {
        for d in &i.diagnosis {
            let mut what = format!("Diagnosis: {}", d.steps);
            if let Some(w) = &d.workaround {
                what.push_str(&format!(" (workaround: {w})"));
            }
            activity.push(blank(ts(&Some(d.at)), "diagnosis", d.by.clone(), what));
        }
        for v in &i.vendor_engagements {
            let what = format!("Vendor {} engaged via {}", v.vendor, v.contact_method.as_str());
            activity.push(blank(ts(&Some(v.engaged_at)), "vendor", v.engaged_by.clone(), what));
        }
        for a in audit.into_iter().flatten() {
            let mut line = blank(a.at.clone(), "audit", a.actor.clone(), format!("Signed procedure: {}", a.action));
            line.commit = Some(a.commit.clone());
            line.signature = Some(a.signature.clone());
            activity.push(line);
        }
    }
    // Time order; at the same second, the audit entry (the commit) last.
    activity.sort_by(|a, b| a.at.cmp(&b.at).then((a.kind == "audit").cmp(&(b.kind == "audit"))));
    let mut notes = Vec::new();
    if internal {
        notes.extend(i.workaround.iter().map(|w| format!("Workaround: {w}")));
        notes.extend(i.closure_notes.iter().map(|n| format!("Closure: {n}")));
        notes.extend(i.priority_justification.iter().map(|n| format!("Priority justification: {n}")));
    }
    let mut sla = Vec::new();
    if internal {
        if let Some(s) = &i.sla {
            let end = i.resolved_at.or(i.closed_at);
            let clocks = end.and_then(|e| crate::sla::clocks(i, e, 1.0).ok()).unwrap_or_default();
            for (name, target) in [("acknowledge", &s.acknowledge), ("resolve", &s.resolve)] {
                let clock = clocks.iter().find(|c| c.clock == name);
                sla.push(SlaRow {
                    clock: name.into(),
                    target: format!("{target} ({} priority)", s.priority.as_str()),
                    outcome: clock.map(|c| c.state.to_string()).unwrap_or_else(|| "running".into()),
                    took: clock.map(|c| human_duration(c.elapsed_seconds)).unwrap_or_else(|| "—".into()),
                });
            }
            sla.push(SlaRow {
                clock: "update".into(),
                target: s.update.clone(),
                outcome: "cadence".into(),
                took: "—".into(),
            });
        } else if let Some(target) = untriaged {
            // Never prioritized: the `sla.untriaged` acknowledge clock, stopped (met or
            // missed) once acknowledged, else running (the dashboard says where it stands).
            let acked = i.acknowledged_at.and_then(|a| crate::sla::untriaged(i, a, 1.0, target).ok().flatten());
            let open = !i.status.is_done();
            if acked.is_some() || open {
                sla.push(SlaRow {
                    clock: "acknowledge (untriaged)".into(),
                    target: format!("{target} (not prioritized)"),
                    outcome: acked.as_ref().map(|c| c.state.to_string()).unwrap_or_else(|| "running".into()),
                    took: acked.map(|c| human_duration(c.elapsed_seconds)).unwrap_or_else(|| "—".into()),
                });
            }
        }
    }
    let linked = |ids: &[String]| ids.iter().filter(|id| view.linked(id)).cloned().collect::<Vec<_>>();
    let duration = match i.resolved_at.or(i.closed_at) {
        Some(e) => human_duration((e - i.created_at).num_seconds()),
        None => "ongoing".into(),
    };
    IncidentPage {
        id: i.incident_id.clone(),
        title: view.text(&i.title).to_string(),
        status: i.status.as_str().replace('_', " "),
        status_class: i.status.as_str().replace('_', "-"),
        priority: i.priority.map(|p| p.as_str()).unwrap_or("unset").into(),
        severity: i.severity.map(|p| p.as_str()).unwrap_or("unset").into(),
        category: i.category.map(|p| p.as_str()).unwrap_or("—").into(),
        service: view.text(&i.service).to_string(),
        team: i.assigned_team.clone().unwrap_or_else(|| "—".into()),
        assignee: internal.then(|| i.assignee.clone().unwrap_or_else(|| "unassigned".into())),
        reporter: internal.then(|| i.reporter.clone()),
        created_at: ts(&Some(i.created_at)),
        acknowledged_at: ts(&i.acknowledged_at),
        resolved_at: ts(&i.resolved_at),
        closed_at: ts(&i.closed_at),
        duration,
        description: view.opt_text(&i.description),
        resolution: view.opt_text(&i.resolution_summary),
        notes,
        sla,
        problems: linked(&i.problem_ids),
        changes: linked(&i.change_ids),
        kb: linked(&i.kb_ids),
        reviews: reviews.iter().filter(|r| view.linked(r)).cloned().collect(),
        communications: i.communications.iter().filter(|c| view.communication(c)).count(),
        audit_entries: if internal { audit.map_or(0, Vec::len) } else { 0 },
        failed_deliveries: Vec::new(),
        activity,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(super::human_duration(52_920), "14 h 42 m");
        assert_eq!(super::human_duration(300), "5 m");
        assert_eq!(super::human_duration(40), "40 s");
        assert_eq!(super::human_duration(2 * 86_400 + 3 * 3600 + 59), "2 d 3 h");
    }
}
