//! Change requests: approved before they touch production, with a quorum of distinct
//! approvers per risk, implemented, reviewed (successful, failed, rolled back), closed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::Level;

pub const SCHEMA: &str = "change/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Change {
    pub schema: String,
    pub change_id: String,
    pub summary: String,
    #[serde(rename = "type")]
    pub kind: ChangeType,
    pub risk: Level,
    pub requester: String,
    pub approval_status: ApprovalStatus,
    pub approvals: Vec<Approval>,
    pub approver: Option<String>,
    pub rejection_reason: Option<String>,
    pub status: ChangeStatus,
    pub outcome: Option<Outcome>,
    pub review_note: Option<String>,
    pub incident_ids: Vec<String>,
    pub problem_ids: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub approved_at: Option<DateTime<Utc>>,
    pub implemented_at: Option<DateTime<Utc>>,
    pub implemented_by: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// One approval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub by: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

crate::model::enums::policy_enum!(
    /// Standard changes come pre-approved from the catalogue.
    ChangeType, "change type" {
        Standard => "standard",
        Normal => "normal",
        Emergency => "emergency",
    }
);

crate::model::enums::policy_enum!(
    /// The policy's approval status.
    ApprovalStatus, "approval status" {
        Pending => "pending",
        Approved => "approved",
        Rejected => "rejected",
    }
);

crate::model::enums::policy_enum!(
    /// A change's lifecycle status.
    ChangeStatus, "change status" {
        Requested => "requested",
        Approved => "approved",
        Rejected => "rejected",
        Implemented => "implemented",
        Reviewed => "reviewed",
        Closed => "closed",
    }
);

crate::model::enums::policy_enum!(
    /// How a change went, which feeds the change success rate.
    Outcome, "outcome" {
        Successful => "successful",
        Failed => "failed",
        RolledBack => "rolled_back",
    }
);

impl Change {
    /// Approved, or further along (implemented, reviewed, closed after approval).
    pub fn is_approved(&self) -> bool {
        self.approval_status == ApprovalStatus::Approved
    }

    /// Implemented or later: the fix reached production under governance.
    pub fn is_implemented(&self) -> bool {
        self.implemented_at.is_some()
    }
}
