//! Monitoring events: what the policy needs of an alert (labels, summary, fingerprint,
//! times), never the raw payload.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const SCHEMA: &str = "event/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub schema: String,
    pub event_id: String,
    pub service: String,
    pub source: EventSource,
    pub alert_type: String,
    pub severity: AlertSeverity,
    pub status: AlertStatus,
    pub summary: String,
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
    pub occurred_at: DateTime<Utc>,
    pub ingested_at: DateTime<Utc>,
    pub ingested_by: String,
    pub incident_id: Option<String>,
    pub qualified: bool,
}

crate::model::enums::policy_enum!(
    /// Where an event came from.
    EventSource, "event source" {
        MonitoringTool => "monitoring_tool",
        AutomatedAlert => "automated_alert",
    }
);

crate::model::enums::policy_enum!(
    /// An alert's severity.
    AlertSeverity, "alert severity" {
        Critical => "critical",
        Warning => "warning",
        Info => "info",
    }
);

crate::model::enums::policy_enum!(
    /// Firing, or resolved.
    AlertStatus, "alert status" {
        Firing => "firing",
        Resolved => "resolved",
    }
);

/// An event's id is a function of its identity (fingerprint, time, status), so
/// ingesting the same alert twice finds it already recorded.
pub fn event_id(fingerprint: &str, occurred_at: &DateTime<Utc>, status: AlertStatus) -> String {
    let suffix = crate::ids::digest_suffix(&format!("{fingerprint}|{}|{status}", occurred_at.timestamp()));
    format!("EVT-{}-{suffix}", occurred_at.format("%Y%m%d"))
}

/// A fingerprint for events that bring none: the service and the alert type.
pub fn derived_fingerprint(service: &str, alert_type: &str) -> String {
    let digest = Sha256::digest(format!("{service}|{alert_type}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
