//! `change.reject/1` — change coordination: Reject.
//!
//! Steps:
//! 1. Validate the actor (change_mgmt, incident_manager), not the requester.
//! 2. The change must be requested; a reason is required.
//! 3. Set `rejected`. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::change::{ApprovalStatus, ChangeStatus};
use crate::model::enums::AuditAction;

pub struct Reject;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub reason: String,
}

impl Procedure for Reject {
    const ID: &'static str = "change.reject/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(super::GOVERNORS, "change reject").at(Self::step(1))?;
        let (rid, mut c) = super::load(ctx, &input.id).at(Self::step(2))?;
        if c.requester == ctx.actor {
            return Err(Error::forbidden(format!(
                "change reject: {} requested {} and cannot decide on it (segregation of duties)",
                ctx.actor, rid.id
            ))
            .at(Self::step(1))
            .field("requester"));
        }
        super::require_status(&c, "reject", &[ChangeStatus::Requested]).at(Self::step(2))?;
        let reason = hygiene::text(ctx.rules, "reason", &input.reason, Shape::Text).at(Self::step(2))?;
        c.rejection_reason = Some(reason.clone());
        c.approval_status = ApprovalStatus::Rejected;
        c.status = ChangeStatus::Rejected;
        c.approver = Some(ctx.actor.into());
        c.updated_at = ctx.now;
        let mut effect = Effect::new(format!("change: reject {}", rid.id))
            .line(format!("Reason: {reason}"))
            .action(AuditAction::Update, "change", &rid.id)
            .fields(&["approval_status", "status", "rejection_reason", "approver"]);
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
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input { id: CHG.into(), reason: "No rollback plan".into() }
    }

    #[test]
    fn a_requested_change_is_rejected_with_its_reason() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Medium);
        let c: Change =
            wrote(&step::<Reject>(&mut snap, &as_role(Role::ChangeMgmt), &input()), RecordKind::Change, CHG);
        assert_eq!((c.status, c.approval_status), (ChangeStatus::Rejected, ApprovalStatus::Rejected));
        assert_eq!(
            (c.rejection_reason.as_deref(), c.approver.as_deref()),
            (Some("No rollback plan"), Some("change_mgmt@x.test"))
        );
    }

    #[test]
    fn step1_only_governors() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        halts_at(
            try_apply::<Reject>(&snap, &as_role(Role::Devops), &input()),
            Kind::Forbidden,
            "change reject",
            Reject::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_the_requester_cannot_reject_segregation_of_duties() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        let mut c: Change = stored(&snap, RecordKind::Change, CHG);
        c.requester = as_role(Role::IncidentManager);
        put(&mut snap, RecordKind::Change, CHG, &c);
        halts_at(
            try_apply::<Reject>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Forbidden,
            "segregation of duties",
            Reject::step(1),
            Some("requester"),
        );
    }

    #[test]
    fn step2_only_a_requested_change_and_a_reason() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        halts_at(
            try_apply::<Reject>(&snap, &as_role(Role::ChangeMgmt), &Input { id: CHG.into(), reason: "".into() }),
            Kind::Invalid,
            "reason",
            Reject::step(2),
            Some("reason"),
        );
        step::<Reject>(&mut snap, &as_role(Role::ChangeMgmt), &input());
        halts_at(
            try_apply::<Reject>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Precondition,
            "needs status requested",
            Reject::step(2),
            Some("status"),
        );
    }
}
