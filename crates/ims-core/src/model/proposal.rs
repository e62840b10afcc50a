//! Proposals: person and config changes waiting for a second incident manager.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const SCHEMA: &str = "proposal/1";

/// `records/proposals/…/PRP-….yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub schema: String,
    pub proposal_id: String,
    /// The procedure that takes effect on approval, with its version.
    pub procedure: String,
    /// That procedure's input.
    pub input: serde_json::Value,
    pub summary: String,
    pub status: ProposalStatus,
    pub proposed_by: String,
    pub proposed_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposalStatus {
    Pending,
    Approved,
    Rejected,
}
