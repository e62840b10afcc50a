//! `ims sla check --escalate`: each breached clock is escalated once, as the automation
//! identity, one signed `incident.sla-escalate` commit each. The decisions are the
//! core's (which clocks are breached: [`crate::sla`]; whether a breach is still to be
//! escalated: [`sla_escalate::unescalated`]); this runs them against the repository.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Kind, Result};
use crate::ids::{new_id, RecordKind};
use crate::procedures::incident::sla_escalate::{self, SlaEscalate};
use crate::query::SlaStanding;
use crate::repo::Repo;
use crate::run::Identity;

/// One breach escalated, and its commit.
#[derive(Debug, Clone, Serialize)]
pub struct Escalated {
    pub incident_id: String,
    pub clock: &'static str,
    pub commit: String,
}

/// Escalates every breached standing not escalated yet, at `at`. A breach that another
/// run escalated meanwhile, or whose incident moved on, is skipped: nothing to do.
pub fn escalate_breaches(
    repo: &Repo,
    identity: &Identity,
    standings: &[SlaStanding],
    at: DateTime<Utc>,
) -> Result<Vec<Escalated>> {
    let mut escalated = Vec::new();
    for s in standings.iter().filter(|s| s.clock.state == ims_core::sla::ClockState::Breached) {
        if !sla_escalate::unescalated(&repo.snapshot(repo.tip()?)?, &s.incident_id, &s.clock)? {
            continue;
        }
        let input = sla_escalate::Input {
            id: s.incident_id.clone(),
            clock: s.clock.clock.to_string(),
            communication_id: new_id(RecordKind::Incident, at).replacen("INC-", "COM-", 1),
        };
        match crate::run::run_at::<SlaEscalate>(repo, identity, &input, at) {
            Ok(outcome) => escalated.push(Escalated {
                incident_id: s.incident_id.clone(),
                clock: s.clock.clock,
                commit: outcome.commit.to_string(),
            }),
            Err(e) if matches!(e.kind, Kind::Conflict | Kind::Precondition) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(escalated)
}
