//! `incident.prioritize/1` — policy procedure 5, Incident Prioritization.
//!
//! Policy steps:
//! 1. Validate the incident (exists, not closed) and the actor (staff).
//! 2. Validate priority and severity (or impact × urgency through the configured
//!    matrix) and the justification, which is required.
//! 3. Update them and fix the SLA targets the incident is measured against.
//!    Audit: `update`, field=priority.
//! 4. Automatic escalation on classification: `high` escalates to the target in
//!    `ims.yaml` (default incident_manager), with its communication. Audit: `escalate`,
//!    `notify`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Level, Status};
use crate::model::incident::SlaSnapshot;

pub struct Prioritize;

/// Sets priority and severity and fixes the SLA targets the incident is measured
/// against — severity tightens them; the record keeps the effective ones and the
/// calendar, and the timeline keeps every change. Shared with monitoring intake.
pub fn classify(
    inc: &mut crate::model::Incident,
    config: &crate::model::Config,
    priority: Level,
    severity: Level,
    justification: &str,
    now: chrono::DateTime<chrono::Utc>,
    actor: &str,
) -> Result<()> {
    let target = config
        .sla
        .targets
        .get(&priority)
        .ok_or_else(|| Error::invalid(format!("ims.yaml: no SLA target for priority {priority}")))
        .at(Prioritize::step(3))
        .field("priority")?;
    inc.track(now, actor, "priority", inc.priority.map(|p| p.to_string()), Some(priority.to_string()));
    inc.track(now, actor, "severity", inc.severity.map(|p| p.to_string()), Some(severity.to_string()));
    inc.priority = Some(priority);
    inc.severity = Some(severity);
    inc.priority_justification = Some(justification.to_string());
    let factor = config.sla.severity_factors.get(&severity).copied().unwrap_or(1.0);
    let tighten = |d: &str| -> Result<String> {
        let secs = crate::model::config::parse_duration(d)?;
        Ok(crate::model::config::format_duration(((secs as f64) * factor).round().max(1.0) as i64))
    };
    let snapshot = SlaSnapshot {
        priority,
        acknowledge: tighten(&target.acknowledge)?,
        resolve: tighten(&target.resolve)?,
        update: tighten(&target.update)?,
        paused_statuses: config.sla.paused_statuses.clone(),
        calendar: config.calendar_spec(&inc.service),
        set_at: now,
    };
    let spec = |s: &SlaSnapshot| {
        crate::sla::Targets::spec(&s.acknowledge, &s.resolve, &s.update, &s.paused_statuses, &s.calendar)
    };
    let old_spec = inc.sla.as_ref().map(spec);
    inc.track(now, actor, "sla", old_spec, Some(spec(&snapshot)));
    inc.sla = Some(snapshot);
    Ok(())
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub priority: Option<Level>,
    pub severity: Option<Level>,
    pub impact: Option<Level>,
    pub urgency: Option<Level>,
    pub justification: String,
    /// The id of the escalation communication, used only when prioritizing high escalates.
    pub communication_id: String,
}

impl Procedure for Prioritize {
    const ID: &'static str = "incident.prioritize/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident prioritize").at(Prioritize::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Prioritize::step(1))?;
        super::require_open(&inc, "prioritize").at(Prioritize::step(1))?;
        let config = crate::model::config(ctx.snap)?;
        let justification =
            hygiene::text(ctx.rules, "justification", &input.justification, Shape::Text).at(Prioritize::step(2))?;
        let (priority, severity) = match (input.priority, input.severity, input.impact, input.urgency) {
            (Some(p), Some(s), None, None) => (p, s),
            (None, sev, Some(impact), Some(urgency)) => {
                let matrix = config
                    .priority_matrix
                    .as_ref()
                    .ok_or_else(|| {
                        Error::precondition("prioritize --impact/--urgency: ims.yaml has no priority_matrix configured")
                    })
                    .at(Prioritize::step(2))
                    .field("impact")?;
                let p = matrix
                    .get(&impact)
                    .and_then(|row| row.get(&urgency))
                    .copied()
                    .ok_or_else(|| {
                        Error::invalid(format!("priority_matrix: no entry for impact {impact}, urgency {urgency}"))
                    })
                    .at(Prioritize::step(2))
                    .field("urgency")?;
                (p, sev.unwrap_or(impact))
            }
            _ => {
                return Err(Error::invalid("prioritize: give --priority and --severity, or --impact and --urgency")
                    .at(Prioritize::step(2))
                    .field("priority"))
            }
        };
        let was_high = inc.priority == Some(Level::High);
        classify(&mut inc, &config, priority, severity, &justification, ctx.now, ctx.actor).at(Prioritize::step(3))?;
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: prioritize {} {priority} (severity {severity})", rid.id))
            .line(format!("Justification: {justification}"))
            .action(AuditAction::Update, "incident", &rid.id)
            .fields(&["priority", "severity", "priority_justification", "sla"]);
        let escalate_to = config.escalation.on_high_priority;
        let escalates = priority == Level::High
            && !was_high
            && matches!(inc.status, Status::Open | Status::InProgress | Status::Escalated);
        if let (true, Some(target)) = (escalates, escalate_to) {
            if inc.assigned_team.as_deref() != Some(target.as_str()) {
                let message = format!("Automatic escalation to {target}: {} was prioritized high", rid.id);
                super::escalate_to(&mut inc, ctx.now, ctx.actor, target.as_str(), &input.communication_id, message)
                    .at(Prioritize::step(4))?;
                effect = effect
                    .line(format!("Escalated to {target} automatically (ims.yaml escalation.on_high_priority)"))
                    .action(AuditAction::Escalate, "incident", &rid.id)
                    .action(AuditAction::Notify, "incident", &rid.id)
                    .fields(&["status", "assigned_team", "communications"]);
            }
        }
        effect = effect.fields(&["timeline"]);
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::procedures::incident::testing::*;

    fn input(p: Level) -> Input {
        Input {
            id: ID.into(),
            priority: Some(p),
            severity: Some(Level::Medium),
            impact: None,
            urgency: None,
            justification: "many users".into(),
            communication_id: "COM-20261126-0000000001".into(),
        }
    }

    #[test]
    fn sets_priority_and_sla_snapshot() {
        let i = written(&apply::<Prioritize>(&incident(Status::Open), &as_role(Role::L1), &input(Level::Low)).unwrap());
        assert_eq!(i.priority, Some(Level::Low));
        assert_eq!(i.sla.unwrap().resolve, "5d");
        assert_eq!(i.status, Status::Open);
    }

    #[test]
    fn step4_high_escalates_to_the_incident_manager() {
        let e = apply::<Prioritize>(&incident(Status::InProgress), &as_role(Role::L1), &input(Level::High)).unwrap();
        let i = written(&e);
        assert_eq!(i.status, Status::Escalated);
        assert_eq!(i.assigned_team.as_deref(), Some("incident_manager"));
        assert_eq!(i.communications.len(), 1);
        assert!(e.actions.iter().any(|a| a.action == AuditAction::Escalate));
    }

    #[test]
    fn step1_staff_only_and_not_closed() {
        halts_at(
            apply::<Prioritize>(&incident(Status::Open), "user@x.test", &input(Level::Low)),
            Kind::Forbidden,
            "needs one of",
            Prioritize::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Prioritize>(&incident(Status::Closed), &as_role(Role::L1), &input(Level::Low)),
            Kind::Precondition,
            "closed",
            Prioritize::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_justification_required_and_matrix_needed_for_impact() {
        let mut i = input(Level::Low);
        i.justification = "".into();
        halts_at(
            apply::<Prioritize>(&incident(Status::Open), &as_role(Role::L1), &i),
            Kind::Invalid,
            "justification",
            Prioritize::step(2),
            Some("justification"),
        );
        let mut i = input(Level::Low);
        (i.priority, i.impact, i.urgency) = (None, Some(Level::High), Some(Level::Low));
        halts_at(
            apply::<Prioritize>(&incident(Status::Open), &as_role(Role::L1), &i),
            Kind::Precondition,
            "priority_matrix",
            Prioritize::step(2),
            Some("impact"),
        );
    }

    #[test]
    fn step3_history_of_priority_is_kept() {
        let mut inc = incident(Status::Open);
        inc.priority = Some(Level::Low);
        let i = written(&apply::<Prioritize>(&inc, &as_role(Role::L1), &input(Level::Medium)).unwrap());
        let entry = i.timeline.iter().find(|t| t.field == "priority").unwrap();
        assert_eq!((entry.from.as_deref(), entry.to.as_deref()), (Some("low"), Some("medium")));
    }
}
