//! `incident.escalate/1` — policy procedure 8, Escalation.
//!
//! Policy steps:
//! 1. Validate the actor (staff, or the automation identity for SLA breaches).
//! 2. Validate the incident's state (open, in_progress, escalated), the path (a target
//!    other than the current team) and the reason.
//! 3. Set `status=escalated`, `assigned_team` = target.
//! 4. Notify the target (a communication to IT staff). Audit: `escalate`, `notify`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, EscalationTarget, Role, Status};

pub struct Escalate;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub to: EscalationTarget,
    pub reason: String,
    pub communication_id: String,
}

impl Procedure for Escalate {
    const ID: &'static str = "incident.escalate/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        let roles: Vec<Role> = Role::STAFF.iter().copied().chain([Role::Automation]).collect();
        ctx.require(&roles, "incident escalate").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(2))?;
        super::require_status(&inc, "escalate", &[Status::Open, Status::InProgress, Status::Escalated])
            .at(Self::step(2))?;
        let reason = hygiene::text(ctx.rules, "reason", &input.reason, Shape::Text).at(Self::step(2))?;
        if inc.assigned_team.as_deref() == Some(input.to.as_str()) && inc.status == Status::Escalated {
            return Err(Error::precondition(format!("incident {}: already escalated to {}", rid.id, input.to))
                .at(Self::step(2))
                .field("to"));
        }
        let message = format!("Escalated {} \"{}\" to {}: {reason}", rid.id, inc.title, input.to);
        super::escalate_to(&mut inc, ctx.now, ctx.actor, input.to.as_str(), &input.communication_id, message)
            .at(Self::step(4))?;
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: escalate {} to {}", rid.id, input.to))
            .line(format!("Reason: {reason}"))
            .action(AuditAction::Escalate, "incident", &rid.id)
            .action(AuditAction::Notify, "incident", &rid.id)
            .fields(&["status", "assigned_team", "timeline", "communications"]);
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Recipients;
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input {
            id: ID.into(),
            to: EscalationTarget::L3,
            reason: "database team needed".into(),
            communication_id: "COM-20261126-0000000001".into(),
        }
    }

    #[test]
    fn escalates_and_notifies() {
        let e = apply::<Escalate>(&incident(Status::InProgress), &as_role(Role::Automation), &input()).unwrap();
        let i = written(&e);
        assert_eq!((i.status, i.assigned_team.as_deref()), (Status::Escalated, Some("L3")));
        assert_eq!(i.communications[0].recipients, Recipients::ItStaff);
        assert_eq!(e.actions.len(), 2);
    }

    #[test]
    fn step1_staff_or_automation() {
        halts_at(
            apply::<Escalate>(&incident(Status::Open), &as_role(Role::Auditor), &input()),
            Kind::Forbidden,
            "needs one of",
            Escalate::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_state_path_and_reason() {
        halts_at(
            apply::<Escalate>(&incident(Status::PendingVendor), &as_role(Role::L1), &input()),
            Kind::Precondition,
            "pending_vendor",
            Escalate::step(2),
            Some("status"),
        );
        let mut inc = incident(Status::Escalated);
        inc.assigned_team = Some("L3".into());
        halts_at(
            apply::<Escalate>(&inc, &as_role(Role::L1), &input()),
            Kind::Precondition,
            "already escalated",
            Escalate::step(2),
            Some("to"),
        );
        let mut i = input();
        i.reason = " ".into();
        halts_at(
            apply::<Escalate>(&incident(Status::Open), &as_role(Role::L1), &i),
            Kind::Invalid,
            "reason",
            Escalate::step(2),
            Some("reason"),
        );
    }
}
