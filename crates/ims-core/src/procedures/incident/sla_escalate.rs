//! `incident.sla-escalate/1` — policy: automatic escalation on an SLA breach.
//!
//! Steps:
//! 1. Validate the actor: the automation identity (or an incident manager).
//! 2. Validate the incident (open, in progress or escalated) and that the named clock
//!    is breached at the procedure's time, computed from the record alone.
//! 3. Once per breach: a key under `records/keys/sla/` names the breach (incident,
//!    clock, and for the update cadence the communication it counts from), so a
//!    second run, or a second branch, cannot escalate it again.
//! 4. Escalate to `sla.breach_escalation` and notify IT staff. Audit: `escalate`, `notify`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::model::config::format_duration;
use crate::model::enums::{AuditAction, Role, Status};
use crate::model::keys::{self, KeyFile};

pub struct SlaEscalate;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    /// `acknowledge`, `resolve` or `update`.
    pub clock: String,
    pub communication_id: String,
}

/// The key that makes a breach escalate once.
pub fn breach_key(incident: &str, clock: &str, since: Option<&str>) -> String {
    match since {
        Some(s) => format!("{incident}:{clock}:{s}"),
        None => format!("{incident}:{clock}"),
    }
}

pub const KEYS: &str = "sla";

/// Whether the breach `clock` of `incident` is still to be escalated in `snap`: nobody
/// holds its key yet. (`ims sla check --escalate` asks before running the procedure,
/// which checks it again.)
pub fn unescalated(snap: &dyn crate::model::Snapshot, incident: &str, clock: &crate::sla::Clock) -> Result<bool> {
    let key = breach_key(incident, clock.clock, clock.since.as_deref());
    Ok(keys::holder(snap, KEYS, &key)?.is_none())
}

impl Procedure for SlaEscalate {
    const ID: &'static str = "incident.sla-escalate/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(&[Role::Automation, Role::IncidentManager], "sla escalate").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(2))?;
        super::require_status(&inc, "sla escalate", &[Status::Open, Status::InProgress, Status::Escalated])
            .at(Self::step(2))?;
        let config = crate::model::config(ctx.snap)?;
        let clocks = crate::sla::clocks(&inc, ctx.now, config.sla.warning_threshold).at(Self::step(2))?;
        let clock = clocks
            .iter()
            .find(|c| c.clock == input.clock)
            .ok_or_else(|| Error::invalid(format!("clock: `{}` is not a running SLA clock of {}", input.clock, rid.id)))
            .at(Self::step(2))
            .field("clock")?;
        if clock.state != crate::sla::ClockState::Breached {
            return Err(Error::precondition(format!(
                "incident {}: the {} clock is {}, not breached",
                rid.id, input.clock, clock.state
            ))
            .at(Self::step(2))
            .field("clock"));
        }
        let key = breach_key(&rid.id, clock.clock, clock.since.as_deref());
        if keys::holder(ctx.snap, KEYS, &key)?.is_some() {
            return Err(Error::conflict(format!(
                "incident {}: this {} breach was escalated already",
                rid.id, input.clock
            ))
            .at(Self::step(3))
            .field("clock"));
        }
        let target = config.sla.breach_escalation;
        let over = format_duration(-clock.remaining_seconds);
        let message = format!(
            "SLA breach on {}: the {} target of {} is exceeded by {over}; escalated to {target}",
            rid.id,
            clock.clock,
            format_duration(clock.target_seconds)
        );
        super::escalate_to(&mut inc, ctx.now, ctx.actor, target.as_str(), &input.communication_id, message.clone())
            .at(Self::step(4))?;
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: escalate {} on SLA breach ({})", rid.id, input.clock))
            .line(message)
            .action(AuditAction::Escalate, "incident", &rid.id)
            .action(AuditAction::Notify, "incident", &rid.id)
            .fields(&["status", "assigned_team", "timeline", "communications"]);
        effect.write(&keys::path(KEYS, &key), &KeyFile { key, record: rid.id.clone() })?;
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Recipients;
    use crate::model::incident::{Incident, TimelineEntry};
    use crate::procedures::testing::*;

    fn with_sla(status: Status) -> Incident {
        let mut i = incident(status);
        let spec = crate::sla::Targets::spec("15m", "4h", "1h", &[Status::PendingVendor], "24x7");
        let entry = |field: &str, to: String| TimelineEntry {
            at: now(),
            by: "x".into(),
            field: field.into(),
            from: None,
            to: Some(to),
        };
        i.timeline = vec![entry("status", "open".into()), entry("sla", spec)];
        i
    }

    fn input() -> Input {
        Input { id: ID.into(), clock: "acknowledge".into(), communication_id: "COM-20261126-0000000001".into() }
    }

    fn late() -> chrono::DateTime<chrono::Utc> {
        now() + chrono::Duration::minutes(20)
    }

    #[test]
    fn a_breached_clock_escalates_once_and_notifies_it_staff() {
        let snap = snapshot(Some(&with_sla(Status::Open)));
        let e = try_apply_at::<SlaEscalate>(&snap, &as_role(Role::Automation), late(), &input()).unwrap();
        let i = written(&e);
        let target = crate::model::config(&snap).unwrap().sla.breach_escalation;
        assert_eq!((i.status, i.assigned_team.as_deref()), (Status::Escalated, Some(target.as_str())));
        assert_eq!(i.communications[0].recipients, Recipients::ItStaff);
        assert!(
            i.communications[0].message.contains("acknowledge target of 15m is exceeded by 5m"),
            "{}",
            i.communications[0].message
        );
        assert!(e.writes.contains_key(&keys::path(KEYS, &breach_key(ID, "acknowledge", None))));
    }

    #[test]
    fn step1_only_automation_or_the_incident_manager() {
        let snap = snapshot(Some(&with_sla(Status::Open)));
        halts_at(
            try_apply_at::<SlaEscalate>(&snap, &as_role(Role::L1), late(), &input()),
            Kind::Forbidden,
            "sla escalate",
            SlaEscalate::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_only_a_running_incident() {
        let snap = snapshot(Some(&with_sla(Status::PendingVendor)));
        halts_at(
            try_apply_at::<SlaEscalate>(&snap, &as_role(Role::Automation), late(), &input()),
            Kind::Precondition,
            "it is pending_vendor",
            SlaEscalate::step(2),
            Some("status"),
        );
    }

    #[test]
    fn step2_the_named_clock_runs_and_is_breached() {
        let snap = snapshot(Some(&with_sla(Status::Open)));
        let mut i = input();
        i.clock = "lunch".into();
        halts_at(
            try_apply_at::<SlaEscalate>(&snap, &as_role(Role::Automation), late(), &i),
            Kind::Invalid,
            "`lunch` is not a running SLA clock",
            SlaEscalate::step(2),
            Some("clock"),
        );
        let no_sla = snapshot(Some(&incident(Status::Open)));
        halts(
            try_apply_at::<SlaEscalate>(&no_sla, &as_role(Role::Automation), late(), &input()),
            Kind::Invalid,
            "clock",
        );
        let early = now() + chrono::Duration::minutes(5);
        halts_at(
            try_apply_at::<SlaEscalate>(&snap, &as_role(Role::Automation), early, &input()),
            Kind::Precondition,
            "the acknowledge clock is ok, not breached",
            SlaEscalate::step(2),
            Some("clock"),
        );
    }

    #[test]
    fn step3_a_breach_escalates_only_once() {
        let mut snap = snapshot(Some(&with_sla(Status::Open)));
        step_at::<SlaEscalate>(&mut snap, &as_role(Role::Automation), late(), &input());
        halts_at(
            try_apply_at::<SlaEscalate>(&snap, &as_role(Role::IncidentManager), late(), &input()),
            Kind::Conflict,
            "escalated already",
            SlaEscalate::step(3),
            Some("clock"),
        );
    }
}
