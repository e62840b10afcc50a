//! `records/deliveries/<incident id>.yaml`: what `ims deliver` sent for one incident,
//! written only by `communication.deliver/1` — per message (a communication or an
//! update-cadence reminder, to one recipient) its transport, `Message-ID`, state and
//! every attempt with the server's answer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Snapshot;
use crate::error::Result;

pub const SCHEMA: &str = "delivery/1";

/// Where the delivery record of `incident_id` lives.
pub fn path(incident_id: &str) -> String {
    format!("records/deliveries/{incident_id}.yaml")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRecord {
    pub schema: String,
    pub incident_id: String,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    /// The communication id, or a reminder's key (`<incident>.update.<since>`).
    pub about: String,
    pub kind: Kind,
    /// `email:ADDRESS` or `chat:NAME`.
    pub recipient: String,
    pub transport: Transport,
    /// Without angle brackets; the same on every attempt.
    pub message_id: String,
    pub state: State,
    /// When a `retrying` message is due again.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub attempts: Vec<Attempt>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    pub at: DateTime<Utc>,
    pub result: AttemptResult,
    /// SMTP reply code or HTTP status; none when no server answered.
    pub code: Option<u16>,
    /// The server's answer (or why none came), one line.
    pub answer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Communication,
    Reminder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    Smtp,
    Slack,
    Webhook,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Delivered,
    Retrying,
    Failed,
}

/// `sent`: the server accepted it; `temporary`: try again later (SMTP 4xx, HTTP 5xx,
/// 408, 429, no answer); `permanent`: the server refused it for good (SMTP 5xx, other
/// HTTP 4xx).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    Sent,
    Temporary,
    Permanent,
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            State::Delivered => "delivered",
            State::Retrying => "retrying",
            State::Failed => "failed",
        })
    }
}

impl DeliveryRecord {
    pub fn find(&self, about: &str, recipient: &str) -> Option<&Message> {
        self.messages.iter().find(|m| m.about == about && m.recipient == recipient)
    }
}

/// The delivery record of `incident_id`, if anything was delivered for it.
pub fn load(snap: &dyn Snapshot, incident_id: &str) -> Result<Option<DeliveryRecord>> {
    super::load(snap, &path(incident_id))
}
