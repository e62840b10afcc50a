//! Post-incident reviews (`PIR-`): one per incident, its id derived from the incident's
//! so it is found with one path read, with action items tracked to done.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "pir/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Review {
    pub schema: String,
    pub pir_id: String,
    pub incident_id: String,
    /// The incident's own timeline, as it stood at the review.
    pub timeline: Vec<TimelineLine>,
    /// The incident manager's account.
    pub notes: String,
    pub contributing_factors: String,
    pub residual_risk: Option<String>,
    pub action_items: Vec<ActionItem>,
    pub kb_ids: Vec<String>,
    pub reviewed_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One line of the assembled timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineLine {
    pub at: DateTime<Utc>,
    pub by: String,
    pub what: String,
}

/// One action item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionItem {
    pub action: String,
    pub owner: Option<String>,
    /// `YYYY-MM-DD`.
    pub due: Option<String>,
    pub status: ActionStatus,
}

crate::model::enums::policy_enum!(
    /// An action item's status.
    ActionStatus, "action status" {
        Open => "open",
        Done => "done",
    }
);

/// The PIR id of an incident: same date and random part.
pub fn id_for(incident_id: &str) -> String {
    incident_id.replacen("INC-", "PIR-", 1)
}
