//! Problems: the underlying cause of one or more incidents, through investigation to a
//! known error, resolution and closure after a stability window.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "problem/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem {
    pub schema: String,
    pub problem_id: String,
    pub title: String,
    pub description: String,
    pub source: ProblemSource,
    pub service: Option<String>,
    pub status: ProblemStatus,
    pub known_error: bool,
    pub workaround: Option<String>,
    pub evidence: Option<String>,
    /// The normalized title and service that makes two problems "the same".
    pub dedupe_key: String,
    pub incident_ids: Vec<String>,
    pub change_ids: Vec<String>,
    pub kb_ids: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub known_error_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
}

crate::model::enums::policy_enum!(
    /// How a problem was detected.
    ProblemSource, "source" {
        UserReport => "user_report",
        MonitoringTool => "monitoring_tool",
        AutomatedAlert => "automated_alert",
        IncidentTrend => "incident_trend",
        Proactive => "proactive",
    }
);

crate::model::enums::policy_enum!(
    /// A problem's status.
    ProblemStatus, "problem status" {
        New => "new",
        UnderInvestigation => "under_investigation",
        KnownError => "known_error",
        Resolved => "resolved",
        Closed => "closed",
    }
);

impl Problem {
    /// Active problems take part in dedupe: not yet resolved or closed.
    pub fn is_active(&self) -> bool {
        !matches!(self.status, ProblemStatus::Resolved | ProblemStatus::Closed)
    }
}

/// Words that say nothing about which problem it is.
const STOP_WORDS: &[&str] = &["a", "an", "the", "of", "on", "in", "at", "to", "for", "and", "or", "is", "are", "with"];

/// The dedupe key: the service and the title's words, lower-cased, without punctuation
/// or filler words, deduplicated and sorted, so "DB: connection pool exhausted" and
/// "Exhausted connection-pool on the db" are the same problem on the same service.
pub fn dedupe_key(service: Option<&str>, title: &str) -> String {
    let mut words: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect();
    words.sort();
    words.dedup();
    format!("{}:{}", service.unwrap_or("").to_lowercase(), words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupe_ignores_case_punctuation_order_and_filler() {
        assert_eq!(
            dedupe_key(Some("DB"), "Connection pool exhausted!"),
            dedupe_key(Some("db"), "exhausted: the connection-pool")
        );
        assert_ne!(dedupe_key(Some("db"), "pool exhausted"), dedupe_key(Some("web"), "pool exhausted"));
        assert_ne!(dedupe_key(None, "pool exhausted"), dedupe_key(None, "pool drained"));
    }
}
