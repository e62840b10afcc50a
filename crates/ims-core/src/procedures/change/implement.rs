//! `change.implement/1` — change coordination: Implementation.
//!
//! Steps:
//! 1. Validate the actor (staff).
//! 2. The change must be approved.
//! 3. Set `implemented` with time and implementer. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::model::change::ChangeStatus;
use crate::model::enums::AuditAction;

pub struct Implement;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
}

impl Procedure for Implement {
    const ID: &'static str = "change.implement/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("change implement").at(Self::step(1))?;
        let (rid, mut c) = super::load(ctx, &input.id).at(Self::step(2))?;
        super::require_status(&c, "implement", &[ChangeStatus::Approved]).at(Self::step(2))?;
        c.status = ChangeStatus::Implemented;
        c.implemented_at = Some(ctx.now);
        c.implemented_by = Some(ctx.actor.into());
        c.updated_at = ctx.now;
        let mut effect = Effect::new(format!("change: implement {}", rid.id))
            .action(AuditAction::Update, "change", &rid.id)
            .fields(&["status", "implemented_at", "implemented_by"]);
        effect.write_main(&rid.path(), &rid.id, &c)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::change::Change;
    use crate::model::enums::{Level, Role};
    use crate::procedures::change::approve::{self, Approve};
    use crate::procedures::testing::*;

    #[test]
    fn an_approved_change_is_implemented_by_whoever_ran_it() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        step::<Approve>(&mut snap, &as_role(Role::ChangeMgmt), &approve::Input { id: CHG.into(), note: None });
        let c: Change = wrote(
            &step::<Implement>(&mut snap, &as_role(Role::Devops), &Input { id: CHG.into() }),
            RecordKind::Change,
            CHG,
        );
        assert_eq!(c.status, ChangeStatus::Implemented);
        assert_eq!((c.implemented_at, c.implemented_by.as_deref()), (Some(now()), Some("devops@x.test")));
    }

    #[test]
    fn step1_only_staff() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        step::<Approve>(&mut snap, &as_role(Role::ChangeMgmt), &approve::Input { id: CHG.into(), note: None });
        halts_at(
            try_apply::<Implement>(&snap, "user@x.test", &Input { id: CHG.into() }),
            Kind::Forbidden,
            "change implement",
            Implement::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_only_an_approved_change() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        halts_at(
            try_apply::<Implement>(&snap, &as_role(Role::Devops), &Input { id: CHG.into() }),
            Kind::Precondition,
            "needs status approved, it is requested",
            Implement::step(2),
            Some("status"),
        );
    }
}
