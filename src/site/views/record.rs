//! The view model of a problem, known error, change or post-incident review page
//! (`problems/PRB-….html`, `changes/CHG-….html`, `pir/PIR-….html`), with the records it
//! links to and the ones linking to it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::change::Change;
use crate::model::pir::Review;
use crate::model::problem::Problem;

#[derive(Debug, Serialize)]
pub struct RecordPage {
    /// What the record is: "Problem", "Known error", "Change", "Post-incident review".
    pub kind: &'static str,
    pub id: String,
    pub title: String,
    pub status: String,
    pub fields: Vec<Field>,
    pub sections: Vec<Section>,
    pub links: Vec<LinkGroup>,
}

#[derive(Debug, Serialize)]
pub struct Field {
    pub label: &'static str,
    pub value: String,
}

/// A block of text, or a list of items.
#[derive(Debug, Serialize)]
pub struct Section {
    pub heading: &'static str,
    pub text: Option<String>,
    pub items: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct LinkGroup {
    pub heading: &'static str,
    pub items: Vec<Link>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub id: String,
    pub href: String,
    pub title: String,
}

/// What a record page needs from the rest of the site.
pub struct Ctx<'a> {
    pub internal: bool,
    /// Free text as the audience may read it.
    pub text: &'a dyn Fn(&str) -> String,
    /// A link to a record this audience may see (from a page one folder deep), or none.
    pub link: &'a dyn Fn(&str) -> Option<Link>,
}

fn ts(t: &Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_else(|| "—".into())
}

fn field(label: &'static str, value: impl Into<String>) -> Field {
    Field { label, value: value.into() }
}

fn text(heading: &'static str, t: Option<String>) -> Option<Section> {
    t.filter(|t| !t.trim().is_empty()).map(|t| Section { heading, text: Some(t), items: vec![] })
}

fn group(heading: &'static str, ids: &[String], ctx: &Ctx) -> LinkGroup {
    LinkGroup { heading, items: ids.iter().filter_map(|id| (ctx.link)(id)).collect() }
}

/// Ids of the records of `of` naming `id`.
pub fn backlinks<T>(of: &[T], id: &str, links: impl Fn(&T) -> (&String, &Vec<String>)) -> Vec<String> {
    of.iter()
        .filter_map(|r| {
            let (rid, to) = links(r);
            to.iter().any(|t| t == id).then(|| rid.clone())
        })
        .collect()
}

pub fn problem(p: &Problem, changes_naming: Vec<String>, articles_naming: Vec<String>, ctx: &Ctx) -> RecordPage {
    let mut fields = vec![
        field("Status", p.status.as_str().replace('_', " ")),
        field("Known error", if p.known_error { "yes" } else { "no" }),
        field("Service", p.service.as_deref().map(|s| (ctx.text)(s)).unwrap_or_else(|| "—".into())),
        field("Detected by", p.source.as_str().replace('_', " ")),
        field("Opened", ts(&Some(p.created_at))),
        field("Known error since", ts(&p.known_error_at)),
        field("Resolved", ts(&p.resolved_at)),
        field("Closed", ts(&p.closed_at)),
    ];
    if ctx.internal {
        fields.push(field("Opened by", p.created_by.clone()));
        if let Some(by) = &p.resolved_by {
            fields.push(field("Resolved by", by.clone()));
        }
    }
    let mut sections: Vec<Section> = [
        text("Description", Some((ctx.text)(&p.description))),
        text("Workaround", p.workaround.as_deref().map(|t| (ctx.text)(t))),
    ]
    .into_iter()
    .flatten()
    .collect();
    if ctx.internal {
        sections.extend(text("Evidence", p.evidence.clone()));
    }
    let mut changes = p.change_ids.clone();
    changes.extend(changes_naming.into_iter().filter(|c| !p.change_ids.contains(c)));
    let mut kb = p.kb_ids.clone();
    kb.extend(articles_naming.into_iter().filter(|k| !p.kb_ids.contains(k)));
    RecordPage {
        kind: if p.known_error { "Known error" } else { "Problem" },
        id: p.problem_id.clone(),
        title: (ctx.text)(&p.title),
        status: p.status.as_str().replace('_', " "),
        fields,
        sections,
        links: vec![
            group("Incidents", &p.incident_ids, ctx),
            group("Changes", &changes, ctx),
            group("Knowledge base articles", &kb, ctx),
        ],
    }
}

pub fn change(c: &Change, problems_naming: Vec<String>, ctx: &Ctx) -> RecordPage {
    let mut fields = vec![
        field("Status", c.status.as_str().replace('_', " ")),
        field("Type", c.kind.as_str()),
        field("Risk", c.risk.as_str()),
        field("Approval", c.approval_status.as_str()),
        field("Outcome", c.outcome.map(|o| o.as_str()).unwrap_or("—")),
        field("Requested", ts(&Some(c.created_at))),
        field("Approved", ts(&c.approved_at)),
        field("Implemented", ts(&c.implemented_at)),
        field("Reviewed", ts(&c.reviewed_at)),
        field("Closed", ts(&c.closed_at)),
    ];
    let mut sections = Vec::new();
    if ctx.internal {
        fields.push(field("Requester", c.requester.clone()));
        if let Some(by) = &c.implemented_by {
            fields.push(field("Implemented by", by.clone()));
        }
        sections.push(Section {
            heading: "Approvals",
            text: None,
            items: c
                .approvals
                .iter()
                .map(|a| {
                    format!(
                        "{} at {}{}",
                        a.by,
                        ts(&Some(a.at)),
                        a.note.as_deref().map(|n| format!(": {n}")).unwrap_or_default()
                    )
                })
                .collect(),
        });
        sections.extend(text("Rejection reason", c.rejection_reason.clone()));
    }
    sections.extend(text("Review", c.review_note.as_deref().map(|t| (ctx.text)(t))));
    let mut problems = c.problem_ids.clone();
    problems.extend(problems_naming.into_iter().filter(|p| !c.problem_ids.contains(p)));
    RecordPage {
        kind: "Change",
        id: c.change_id.clone(),
        title: (ctx.text)(&c.summary),
        status: c.status.as_str().replace('_', " "),
        fields,
        sections,
        links: vec![group("Incidents", &c.incident_ids, ctx), group("Problems", &problems, ctx)],
    }
}

pub fn review(r: &Review, incident_title: &str, ctx: &Ctx) -> RecordPage {
    let mut fields = vec![field("Reviewed", ts(&Some(r.created_at))), field("Last changed", ts(&Some(r.updated_at)))];
    let mut sections = Vec::new();
    if ctx.internal {
        fields.push(field("Reviewed by", r.reviewed_by.clone()));
        sections.push(Section {
            heading: "Timeline",
            text: None,
            items: r.timeline.iter().map(|t| format!("{} {} ({})", ts(&Some(t.at)), t.what, t.by)).collect(),
        });
        sections.extend(text("Notes", Some(r.notes.clone())));
        sections.extend(text("Contributing factors", Some(r.contributing_factors.clone())));
        sections.extend(text("Residual risk", r.residual_risk.clone()));
        sections.push(Section {
            heading: "Action items",
            text: None,
            items: r
                .action_items
                .iter()
                .map(|a| {
                    let owner = a.owner.as_deref().map(|o| format!(", owner {o}")).unwrap_or_default();
                    let due = a.due.as_deref().map(|d| format!(", due {d}")).unwrap_or_default();
                    format!("{} ({}{owner}{due})", a.action, a.status.as_str().replace('_', " "))
                })
                .collect(),
        });
    }
    RecordPage {
        kind: "Post-incident review",
        id: r.pir_id.clone(),
        title: format!("Review of {}: {}", r.incident_id, (ctx.text)(incident_title)),
        status: "reviewed".into(),
        fields,
        sections,
        links: vec![
            group("Incident", std::slice::from_ref(&r.incident_id), ctx),
            group("Knowledge base articles", &r.kb_ids, ctx),
        ],
    }
}
