//! `change.close/1` — change coordination: Close.
//!
//! Steps:
//! 1. Validate the actor (change_mgmt, incident_manager).
//! 2. The change must be reviewed or rejected.
//! 3. Set `closed`. Audit: `close`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::model::change::ChangeStatus;
use crate::model::enums::AuditAction;

pub struct Close;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
}

impl Procedure for Close {
    const ID: &'static str = "change.close/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(super::GOVERNORS, "change close").at(Self::step(1))?;
        let (rid, mut c) = super::load(ctx, &input.id).at(Self::step(2))?;
        super::require_status(&c, "close", &[ChangeStatus::Reviewed, ChangeStatus::Rejected]).at(Self::step(2))?;
        c.status = ChangeStatus::Closed;
        c.closed_at = Some(ctx.now);
        c.updated_at = ctx.now;
        let mut effect = Effect::new(format!("change: close {}", rid.id))
            .action(AuditAction::Close, "change", &rid.id)
            .fields(&["status", "closed_at"]);
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
    use crate::procedures::change::reject;
    use crate::procedures::testing::*;

    fn rejected() -> MemSnapshot {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        step::<reject::Reject>(
            &mut snap,
            &as_role(Role::ChangeMgmt),
            &reject::Input { id: CHG.into(), reason: "Not needed".into() },
        );
        snap
    }

    #[test]
    fn a_rejected_change_is_closed() {
        let mut snap = rejected();
        let e = step::<Close>(&mut snap, &as_role(Role::ChangeMgmt), &Input { id: CHG.into() });
        let c: Change = wrote(&e, RecordKind::Change, CHG);
        assert_eq!((c.status, c.closed_at), (ChangeStatus::Closed, Some(now())));
        assert_eq!(e.actions[0].action, AuditAction::Close);
    }

    #[test]
    fn step1_only_governors() {
        halts_at(
            try_apply::<Close>(&rejected(), &as_role(Role::L2), &Input { id: CHG.into() }),
            Kind::Forbidden,
            "change close",
            Close::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_only_a_reviewed_or_rejected_change() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        halts_at(
            try_apply::<Close>(&snap, &as_role(Role::ChangeMgmt), &Input { id: CHG.into() }),
            Kind::Precondition,
            "needs status reviewed or rejected, it is requested",
            Close::step(2),
            Some("status"),
        );
    }
}
