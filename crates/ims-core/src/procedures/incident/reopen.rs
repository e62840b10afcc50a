//! `incident.reopen/1` — the fix did not hold (DESIGN.md state table).
//!
//! Steps:
//! 1. Validate the actor: staff, or the incident's reporter.
//! 2. Validate the incident (resolved) and the reason.
//! 3. Set `status=in_progress` and clear the resolution, so MTTR runs to the final
//!    resolution. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Status};

pub struct Reopen;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub reason: String,
}

impl Procedure for Reopen {
    const ID: &'static str = "incident.reopen/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        let person = ctx.person().at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(2))?;
        if !person.is_staff() && inc.reporter != ctx.actor {
            return Err(Error::forbidden(format!(
                "incident reopen: only staff or the reporter ({}) may reopen {}",
                inc.reporter, rid.id
            ))
            .at(Self::step(1))
            .field("actor"));
        }
        super::require_status(&inc, "reopen", &[Status::Resolved]).at(Self::step(2))?;
        let reason = hygiene::text(ctx.rules, "reason", &input.reason, Shape::Text).at(Self::step(2))?;
        inc.resolved_at = None;
        inc.resolved_by = None;
        inc.set_status(ctx.now, ctx.actor, Status::InProgress);
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: reopen {}", rid.id))
            .line(format!("Reason: {reason}"))
            .action(AuditAction::Update, "incident", &rid.id)
            .fields(&["status", "resolved_at", "resolved_by", "timeline"]);
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

    fn input() -> Input {
        Input { id: ID.into(), reason: "still failing".into() }
    }

    #[test]
    fn the_reporter_may_reopen() {
        let mut inc = incident(Status::Resolved);
        inc.resolved_at = Some(now());
        let i = written(&apply::<Reopen>(&inc, "user@x.test", &input()).unwrap());
        assert_eq!((i.status, i.resolved_at), (Status::InProgress, None));
    }

    #[test]
    fn step1_staff_or_reporter() {
        halts_at(
            apply::<Reopen>(&incident(Status::Resolved), &as_role(Role::Auditor), &input()),
            Kind::Forbidden,
            "reporter",
            Reopen::step(1),
            Some("actor"),
        );
    }

    #[test]
    fn step2_state_and_reason() {
        halts_at(
            apply::<Reopen>(&incident(Status::Closed), &as_role(Role::L1), &input()),
            Kind::Precondition,
            "closed",
            Reopen::step(2),
            Some("status"),
        );
        halts(
            apply::<Reopen>(
                &incident(Status::Resolved),
                &as_role(Role::L1),
                &Input { id: ID.into(), reason: "".into() },
            ),
            Kind::Invalid,
            "reason",
        );
    }
}
