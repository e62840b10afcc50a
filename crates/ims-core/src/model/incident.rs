//! Incidents: the record of an unplanned interruption, carrying its own truth (times,
//! timeline, SLA targets) so clocks and reports never need history.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::enums::{Category, Channel, ContactMethod, Level, Recipients, Source, Status, Team};

pub const SCHEMA: &str = "incident/1";

/// `records/incidents/YYYY/MM/DD/INC-….yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub schema: String,
    pub incident_id: String,
    pub title: String,
    pub description: Option<String>,
    pub service: String,
    pub source: Source,
    pub category: Option<Category>,
    pub subcategory: Option<String>,
    pub priority: Option<Level>,
    pub severity: Option<Level>,
    pub priority_justification: Option<String>,
    pub status: Status,
    pub reporter: String,
    pub reported_by: String,
    pub assigned_team: Option<String>,
    pub assignee: Option<String>,
    pub workaround_available: bool,
    pub workaround: Option<String>,
    pub diagnosis: Vec<DiagnosisEntry>,
    pub problem_ids: Vec<String>,
    pub change_ids: Vec<String>,
    pub kb_ids: Vec<String>,
    pub communications: Vec<Communication>,
    pub vendor_engagements: Vec<VendorEngagement>,
    pub timeline: Vec<TimelineEntry>,
    pub sla: Option<SlaSnapshot>,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution_code: Option<String>,
    pub resolution_summary: Option<String>,
    pub altered_production: bool,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by: Option<String>,
    pub closure_notes: Option<String>,
    pub feedback: Option<Feedback>,
    pub updated_at: DateTime<Utc>,
    /// Whether the SLA was met, as reported by the source system of an imported
    /// incident (its own verdict, e.g. a `made_sla` column). Absent on every other
    /// incident, so records written before it existed stay byte for byte the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_sla_met: Option<bool>,
}

/// One diagnostic step recorded by `diagnose` or `log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosisEntry {
    pub at: DateTime<Utc>,
    pub by: String,
    pub steps: String,
    pub workaround: Option<String>,
}

/// A communication, recorded in the incident (`COM-`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Communication {
    pub communication_id: String,
    pub recipients: Recipients,
    pub message: String,
    pub sender: String,
    pub channel: Channel,
    pub at: DateTime<Utc>,
}

/// A vendor engagement, recorded in the incident (`VEN-`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorEngagement {
    pub vendor_engagement_id: String,
    pub vendor: String,
    pub contact_method: ContactMethod,
    pub vendor_ref: Option<String>,
    pub engaged_by: String,
    pub engaged_at: DateTime<Utc>,
    pub resumed_at: Option<DateTime<Utc>>,
    pub summary: Option<String>,
}

/// One change of a tracked field (status, priority, severity, team, assignee).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub by: String,
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The SLA targets an incident is measured against, fixed when it is prioritized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSnapshot {
    pub priority: Level,
    pub acknowledge: String,
    pub resolve: String,
    pub update: String,
    pub paused_statuses: Vec<Status>,
    pub calendar: String,
    pub set_at: DateTime<Utc>,
}

/// Stakeholder satisfaction, from `ims incident feedback`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    pub score: u8,
    pub comment: Option<String>,
    pub by: String,
    pub at: DateTime<Utc>,
}

impl Incident {
    /// An incident with every field empty, for readers that fill in only what they need
    /// (the import readers, the report's KPI facts, the procedures that open one).
    pub fn blank() -> Incident {
        let epoch = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Incident {
            schema: SCHEMA.into(),
            incident_id: String::new(),
            title: String::new(),
            description: None,
            service: String::new(),
            source: Source::UserReport,
            category: None,
            subcategory: None,
            priority: None,
            severity: None,
            priority_justification: None,
            status: Status::Open,
            reporter: String::new(),
            reported_by: String::new(),
            assigned_team: None,
            assignee: None,
            workaround_available: false,
            workaround: None,
            diagnosis: vec![],
            problem_ids: vec![],
            change_ids: vec![],
            kb_ids: vec![],
            communications: vec![],
            vendor_engagements: vec![],
            timeline: vec![],
            sla: None,
            created_at: epoch,
            acknowledged_at: None,
            resolved_at: None,
            resolved_by: None,
            resolution_code: None,
            resolution_summary: None,
            altered_production: false,
            closed_at: None,
            closed_by: None,
            closure_notes: None,
            feedback: None,
            source_sla_met: None,
            updated_at: epoch,
        }
    }

    /// Appends a timeline entry when `from != to`.
    pub fn track(&mut self, at: DateTime<Utc>, by: &str, field: &str, from: Option<String>, to: Option<String>) {
        if from != to {
            self.timeline.push(TimelineEntry { at, by: by.into(), field: field.into(), from, to });
        }
    }

    /// Sets the status and records the change.
    pub fn set_status(&mut self, at: DateTime<Utc>, by: &str, status: Status) {
        let from = Some(self.status.to_string());
        self.status = status;
        self.track(at, by, "status", from, Some(status.to_string()));
    }

    /// Sets the assigned team and records the change.
    pub fn set_team(&mut self, at: DateTime<Utc>, by: &str, team: &str) {
        let from = self.assigned_team.clone();
        self.assigned_team = Some(team.to_string());
        self.track(at, by, "assigned_team", from, Some(team.to_string()));
    }

    pub fn team(&self) -> Option<Team> {
        self.assigned_team.as_deref().and_then(|t| t.parse().ok())
    }
}
