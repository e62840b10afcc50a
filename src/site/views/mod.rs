//! Typed view models, one file per page kind, serialized to the templates (as zola's
//! `SerializingPage`): a template sees these fields and nothing else.

pub mod article;
pub mod auditlog;
pub mod dashboard;
pub mod incident;
pub mod list;
pub mod record;
pub mod report;
pub mod status;
pub mod table;

use serde::Serialize;

/// What every page knows of the site (`site` in the templates).
#[derive(Debug, Clone, Serialize)]
pub struct Site {
    pub organization: String,
    pub internal: bool,
    /// Built from a `clock: simulated` repository: every page says so.
    pub simulated: bool,
    /// `internal` or `public`.
    pub audience: &'static str,
    /// The build's time and commit: only on the pages that depend on the current time
    /// (the dashboard and the status page), `None` elsewhere.
    pub built_at: Option<String>,
    pub commit: Option<String>,
    /// On a record's page: which version of the record it shows.
    pub record: Option<RecordVersion>,
    /// The status page and the dashboard: the public site opens on the status page, the
    /// internal one on the dashboard.
    pub status_href: &'static str,
    pub dashboard_href: &'static str,
}

/// The version of the record a page shows (its blob id) instead of the tip commit, so
/// an unrelated procedure does not change the page.
#[derive(Debug, Clone, Serialize)]
pub struct RecordVersion {
    pub id: String,
    pub version: String,
    pub updated_at: String,
}
