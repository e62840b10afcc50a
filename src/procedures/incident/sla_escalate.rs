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
use crate::error::{Error, Result};
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

impl Procedure for SlaEscalate {
    const ID: &'static str = "incident.sla-escalate/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(&[Role::Automation, Role::IncidentManager], "sla escalate")?;
        let (rid, mut inc) = super::load(ctx, &input.id)?;
        super::require_status(&inc, "sla escalate", &[Status::Open, Status::InProgress, Status::Escalated])?;
        let config = crate::model::config(ctx.snap)?;
        let clocks = crate::sla::clocks(&inc, ctx.now, config.sla.warning_threshold)?;
        let clock = clocks.iter().find(|c| c.clock == input.clock).ok_or_else(|| {
            Error::invalid(format!("clock: `{}` is not a running SLA clock of {}", input.clock, rid.id))
        })?;
        if clock.state != "breached" {
            return Err(Error::precondition(format!(
                "incident {}: the {} clock is {}, not breached",
                rid.id, input.clock, clock.state
            )));
        }
        let key = breach_key(&rid.id, clock.clock, clock.since.as_deref());
        if keys::holder(ctx.snap, KEYS, &key)?.is_some() {
            return Err(Error::conflict(format!(
                "incident {}: this {} breach was escalated already",
                rid.id, input.clock
            )));
        }
        let target = config.sla.breach_escalation;
        let over = format_duration(-clock.remaining_seconds);
        let message = format!(
            "SLA breach on {}: the {} target of {} is exceeded by {over}; escalated to {target}",
            rid.id,
            clock.clock,
            format_duration(clock.target_seconds)
        );
        super::escalate_to(&mut inc, ctx.now, ctx.actor, target.as_str(), &input.communication_id, message.clone())?;
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
