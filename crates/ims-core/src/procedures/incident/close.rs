//! `incident.close/1` — policy procedure 13, Incident Closure.
//!
//! Policy steps:
//! 1. Precondition: `status=resolved`.
//! 2. Authority: staff; for high priority only an incident manager or a service desk
//!    manager, and not the reporter (segregation of duties).
//! 3. Capture the closure notes and set `status=closed`. Audit: `close`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Level, Role, Status};

pub struct Close;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub notes: String,
}

impl Procedure for Close {
    const ID: &'static str = "incident.close/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident close").at(Self::step(2))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        if inc.priority == Some(Level::High) {
            ctx.require(&[Role::IncidentManager, Role::ServiceDeskManager], "incident close (high priority)")
                .at(Self::step(2))?;
            if inc.reporter == ctx.actor {
                return Err(Error::forbidden(format!(
                    "incident close: {} reported high-priority {} and cannot also close it (segregation of duties)",
                    ctx.actor, rid.id
                ))
                .at(Self::step(2))
                .field("reporter"));
            }
        }
        super::require_status(&inc, "close", &[Status::Resolved]).at(Self::step(1))?;
        let notes = hygiene::text(ctx.rules, "notes", &input.notes, Shape::Text).at(Self::step(3))?;
        inc.closure_notes = Some(notes);
        inc.closed_at = Some(ctx.now);
        inc.closed_by = Some(ctx.actor.into());
        inc.set_status(ctx.now, ctx.actor, Status::Closed);
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: close {}", rid.id))
            .action(AuditAction::Close, "incident", &rid.id)
            .fields(&["status", "closed_at", "closed_by", "closure_notes", "timeline"]);
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
        Input { id: ID.into(), notes: "confirmed with the reporter".into() }
    }

    fn high(status: Status) -> crate::model::Incident {
        let mut i = incident(status);
        i.priority = Some(Level::High);
        i
    }

    #[test]
    fn closes_a_resolved_incident() {
        let i = written(&apply::<Close>(&incident(Status::Resolved), &as_role(Role::L1), &input()).unwrap());
        assert_eq!((i.status, i.closed_by.as_deref()), (Status::Closed, Some("l1@x.test")));
    }

    #[test]
    fn step1_must_be_resolved() {
        halts_at(
            apply::<Close>(&incident(Status::InProgress), &as_role(Role::L1), &input()),
            Kind::Precondition,
            "in_progress",
            Close::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_high_priority_needs_a_manager_who_is_not_the_reporter() {
        halts_at(
            apply::<Close>(&high(Status::Resolved), &as_role(Role::L1), &input()),
            Kind::Forbidden,
            "high priority",
            Close::step(2),
            Some("roles"),
        );
        apply::<Close>(&high(Status::Resolved), &as_role(Role::ServiceDeskManager), &input()).unwrap();
        let mut inc = high(Status::Resolved);
        inc.reporter = as_role(Role::IncidentManager);
        halts_at(
            apply::<Close>(&inc, &as_role(Role::IncidentManager), &input()),
            Kind::Forbidden,
            "segregation of duties",
            Close::step(2),
            Some("reporter"),
        );
    }

    #[test]
    fn step3_notes_required() {
        halts_at(
            apply::<Close>(&incident(Status::Resolved), &as_role(Role::L1), &Input { id: ID.into(), notes: "".into() }),
            Kind::Invalid,
            "notes",
            Close::step(3),
            Some("notes"),
        );
    }
}
