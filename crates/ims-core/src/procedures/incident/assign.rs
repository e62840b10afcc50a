//! `incident.assign/1` — policy procedure 6, Initial Response & Assignment.
//!
//! Policy steps:
//! 1. Validate authorization (service_desk, service_desk_manager, L1, incident_manager).
//! 2. Validate the incident's state (open, escalated or in_progress) and the team
//!    (the CLI parses it) and assignee (a registered person).
//! 3. Assign to the team; the first assignment sets `acknowledged_at`.
//! 4. Send the acknowledgement, recorded as a communication.
//! 5. Set `status=in_progress`. Audit: `update` (assignment) and `notify`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Channel, Recipients, Role, Status, Team};

pub struct Assign;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub team: Team,
    pub assignee: Option<String>,
    pub message: Option<String>,
    pub communication_id: String,
}

pub const ROLES: &[Role] = &[Role::ServiceDesk, Role::ServiceDeskManager, Role::L1, Role::IncidentManager];

impl Procedure for Assign {
    const ID: &'static str = "incident.assign/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(ROLES, "incident assign").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(2))?;
        super::require_status(&inc, "assign", &[Status::Open, Status::Escalated, Status::InProgress])
            .at(Self::step(2))?;
        if let Some(a) = &input.assignee {
            super::registered(ctx, "assignee", a).at(Self::step(2))?;
        }
        let message =
            match hygiene::optional(ctx.rules, "message", input.message.as_deref(), Shape::Text).at(Self::step(4))? {
                Some(m) => m,
                None => format!(
                    "Your incident {} \"{}\" has been acknowledged and assigned to {}.",
                    rid.id, inc.title, input.team
                ),
            };
        inc.set_team(ctx.now, ctx.actor, input.team.as_str());
        let from = inc.assignee.clone();
        inc.assignee = input.assignee.clone();
        inc.track(ctx.now, ctx.actor, "assignee", from, input.assignee.clone());
        if inc.acknowledged_at.is_none() {
            inc.acknowledged_at = Some(ctx.now);
        }
        super::communicate(
            &mut inc,
            &input.communication_id,
            Recipients::EndUsers,
            message,
            ctx.actor,
            Channel::Ims,
            ctx.now,
        )
        .at(Self::step(4))?;
        inc.set_status(ctx.now, ctx.actor, Status::InProgress);
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: assign {} to {}", rid.id, input.team))
            .action(AuditAction::Update, "incident", &rid.id)
            .action(AuditAction::Notify, "incident", &rid.id)
            .fields(&["assigned_team", "assignee", "acknowledged_at", "communications", "status", "timeline"]);
        if let Some(a) = &input.assignee {
            effect = effect.line(format!("Assignee: {a}"));
        }
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input {
            id: ID.into(),
            team: Team::L2,
            assignee: Some("l2@x.test".into()),
            message: None,
            communication_id: "COM-20261126-0000000001".into(),
        }
    }

    #[test]
    fn acknowledges_once_and_communicates() {
        let i = written(&apply::<Assign>(&incident(Status::Open), &as_role(Role::ServiceDesk), &input()).unwrap());
        assert_eq!(i.status, Status::InProgress);
        assert_eq!(i.acknowledged_at, Some(now()));
        assert_eq!(i.communications[0].recipients, Recipients::EndUsers);
        let mut again = i.clone();
        again.acknowledged_at = Some(now() - chrono::Duration::hours(1));
        let j = written(&apply::<Assign>(&again, &as_role(Role::L1), &input()).unwrap());
        assert_eq!(j.acknowledged_at, again.acknowledged_at);
    }

    #[test]
    fn step1_only_the_assigning_roles() {
        halts_at(
            apply::<Assign>(&incident(Status::Open), &as_role(Role::L2), &input()),
            Kind::Forbidden,
            "needs one of",
            Assign::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_state_and_assignee() {
        halts_at(
            apply::<Assign>(&incident(Status::Resolved), &as_role(Role::L1), &input()),
            Kind::Precondition,
            "resolved",
            Assign::step(2),
            Some("status"),
        );
        let mut i = input();
        i.assignee = Some("ghost@x.test".into());
        halts_at(
            apply::<Assign>(&incident(Status::Open), &as_role(Role::L1), &i),
            Kind::Invalid,
            "assignee",
            Assign::step(2),
            Some("assignee"),
        );
    }

    #[test]
    fn step4_communication_id_is_checked() {
        let mut i = input();
        i.communication_id = "X".into();
        halts_at(
            apply::<Assign>(&incident(Status::Open), &as_role(Role::L1), &i),
            Kind::Invalid,
            "COM-",
            Assign::step(4),
            Some("communication_id"),
        );
    }
}
