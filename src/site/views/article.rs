//! The view model of a knowledge-base article page (`kb/KB-….html`): who wrote and
//! approved it (for staff), its version and dates, and the records it links to.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::record::{Ctx, Field, Link, LinkGroup};
use crate::model::kb::Article;

#[derive(Debug, Serialize)]
pub struct ArticlePage {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub status: String,
    pub version: u32,
    /// In the order shown: author and approver (staff only), version, dates.
    pub fields: Vec<Field>,
    /// The body as HTML, without a first heading repeating the title.
    pub body_html: String,
    /// The groups that hold a link this audience may follow.
    pub links: Vec<LinkGroup>,
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `body_html` is the article's body already rendered and judged for the audience.
pub fn article(a: &Article, body_html: String, ctx: &Ctx) -> ArticlePage {
    let mut fields = Vec::new();
    if ctx.internal {
        fields.push(Field { label: "Author", value: a.author.clone() });
        if let Some(approver) = &a.approver {
            fields.push(Field { label: "Approved by", value: approver.clone() });
        }
    }
    fields.push(Field { label: "Version", value: a.version.to_string() });
    fields.push(Field { label: "Written", value: ts(a.created_at) });
    fields.push(Field { label: "Last changed", value: ts(a.updated_at) });
    if let Some(t) = a.published_at {
        fields.push(Field { label: "Published", value: ts(t) });
    }
    if let Some(t) = a.retired_at {
        fields.push(Field { label: "Retired", value: ts(t) });
    }
    let group = |heading: &'static str, ids: &[String]| LinkGroup {
        heading,
        items: ids.iter().filter_map(|id| (ctx.link)(id)).collect::<Vec<Link>>(),
    };
    ArticlePage {
        id: a.kb_id.clone(),
        title: (ctx.text)(&a.title),
        kind: a.kind.as_str().replace('_', " "),
        status: a.status.as_str().replace('_', " "),
        version: a.version,
        fields,
        body_html,
        links: [
            group("Problems and known errors", &a.problem_ids),
            group("Incidents", &a.incident_ids),
            group("Changes", &a.change_ids),
        ]
        .into_iter()
        .filter(|g| !g.items.is_empty())
        .collect(),
    }
}

/// Markdown as safe HTML for a page whose `<h1>` is already `title`: a first heading
/// saying the title again is dropped, and every heading moves one level down.
pub fn body_html(markdown: &str, title: &str) -> String {
    use pulldown_cmark::{Event, HeadingLevel, Parser, Tag, TagEnd};
    let down = |l: HeadingLevel| match l {
        HeadingLevel::H1 => HeadingLevel::H2,
        HeadingLevel::H2 => HeadingLevel::H3,
        HeadingLevel::H3 => HeadingLevel::H4,
        HeadingLevel::H4 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    };
    let mut events: Vec<Event> = Parser::new(markdown).collect();
    if let Some(Event::Start(Tag::Heading { .. })) = events.first() {
        let end = events.iter().position(|e| matches!(e, Event::End(TagEnd::Heading(_))));
        if let Some(end) = end {
            let said: String = events[1..end]
                .iter()
                .filter_map(|e| match e {
                    Event::Text(t) | Event::Code(t) => Some(t.to_string()),
                    _ => None,
                })
                .collect();
            if said.trim().eq_ignore_ascii_case(title.trim()) {
                events.drain(..=end);
            }
        }
    }
    let events = events.into_iter().map(|e| match e {
        Event::Start(Tag::Heading { level, id, classes, attrs }) => {
            Event::Start(Tag::Heading { level: down(level), id, classes, attrs })
        }
        Event::End(TagEnd::Heading(level)) => Event::End(TagEnd::Heading(down(level))),
        e => e,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    ammonia::clean(&html)
}

#[cfg(test)]
mod tests {
    use super::body_html;

    #[test]
    fn a_first_heading_saying_the_title_is_dropped_and_the_rest_move_down() {
        let html = body_html("# Restart the mailer\n\nDo it.\n\n# Then\n\nCheck.", "Restart the mailer");
        assert_eq!(html, "<p>Do it.</p>\n<h2>Then</h2>\n<p>Check.</p>\n");
        let other = body_html("# Background\n\nWhy.", "Restart the mailer");
        assert!(other.starts_with("<h2>Background</h2>"), "{other}");
    }
}
