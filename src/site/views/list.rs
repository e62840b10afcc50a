//! The view model of the incident list (`incidents/index.html`, its further pages and
//! its filtered views `incidents/status-open.html`, …): active incidents first, each row
//! with its status badge, and links to the list filtered by status, priority, service
//! and team, pre-rendered so they work without script (a small script sorts by column).

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: String,
    pub title: String,
    pub status: String,
    /// The status as a CSS class suffix.
    pub status_class: String,
    pub priority: String,
    pub service: String,
    pub team: String,
    pub created_at: String,
    /// 0 for an active incident, 1 for a resolved or closed one: the sort key of "active first".
    pub done: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct ListPage {
    pub heading: String,
    /// What the rows are and in which order.
    pub note: String,
    /// The filter this page shows, when it is one: e.g. ("status", "open").
    pub filter: Option<(String, String)>,
    pub rows: Vec<Row>,
    /// How many incidents the whole list holds: on its first page only, so an older
    /// page does not change with every new incident.
    pub total: Option<usize>,
    pub page: usize,
    pub pages: Vec<PageLink>,
    pub facets: Vec<Facet>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PageLink {
    pub n: usize,
    pub href: String,
}

/// One way to filter: its label and the values found, each with its page.
#[derive(Debug, Clone, Serialize)]
pub struct Facet {
    pub label: &'static str,
    pub values: Vec<FacetValue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FacetValue {
    pub label: String,
    pub href: String,
}

/// A file-name-safe form of `value`, unique among `taken` (a suffix tells apart values
/// that reduce to the same letters).
pub fn slug(value: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let mut s: String = value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    s.truncate(60);
    if s.is_empty() {
        s = "other".into();
    }
    let mut out = s.clone();
    let mut n = 2;
    while !taken.insert(out.clone()) {
        out = format!("{s}-{n}");
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_are_safe_and_unique() {
        let mut taken = Default::default();
        assert_eq!(super::slug("Shop / EU", &mut taken), "shop-eu");
        assert_eq!(super::slug("shop eu", &mut taken), "shop-eu-2");
        assert_eq!(super::slug("../..", &mut taken), "other");
    }
}
