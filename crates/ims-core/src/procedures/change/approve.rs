//! `change.approve/1` — change coordination: Approve.
//!
//! Steps:
//! 1. Validate the actor (change_mgmt, incident_manager), who is not the requester
//!    (segregation of duties) and has not approved it already.
//! 2. The change must be requested (pending).
//! 3. Record the approval; the change is `approved` once the distinct approvals reach
//!    the quorum `ims.yaml` sets for its risk. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::change::{Approval, ApprovalStatus, ChangeStatus};
use crate::model::enums::AuditAction;

pub struct Approve;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub note: Option<String>,
}

impl Procedure for Approve {
    const ID: &'static str = "change.approve/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(super::GOVERNORS, "change approve").at(Self::step(1))?;
        let (rid, mut c) = super::load(ctx, &input.id).at(Self::step(2))?;
        if c.requester == ctx.actor {
            return Err(Error::forbidden(format!(
                "change approve: {} requested {} and cannot approve it (segregation of duties)",
                ctx.actor, rid.id
            ))
            .at(Self::step(1))
            .field("requester"));
        }
        super::require_status(&c, "approve", &[ChangeStatus::Requested]).at(Self::step(2))?;
        if c.approvals.iter().any(|a| a.by == ctx.actor) {
            return Err(Error::precondition(format!("change {}: {} approved it already", rid.id, ctx.actor))
                .at(Self::step(1))
                .field("approvals"));
        }
        let note = hygiene::optional(ctx.rules, "note", input.note.as_deref(), Shape::Text).at(Self::step(3))?;
        c.approvals.push(Approval { by: ctx.actor.into(), at: ctx.now, note });
        c.approver = Some(ctx.actor.into());
        let config = crate::model::config(ctx.snap)?;
        let quorum = config.changes.approvals.get(&c.risk).copied().unwrap_or(1) as usize;
        let mut effect = Effect::new(format!("change: approve {} ({} of {quorum})", rid.id, c.approvals.len()))
            .action(AuditAction::Update, "change", &rid.id)
            .fields(&["approvals", "approver"]);
        if c.approvals.len() >= quorum {
            c.approval_status = ApprovalStatus::Approved;
            c.status = ChangeStatus::Approved;
            c.approved_at = Some(ctx.now);
            effect = effect.line(format!("Quorum of {quorum} met: approved")).fields(&[
                "approval_status",
                "status",
                "approved_at",
            ]);
        }
        c.updated_at = ctx.now;
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
        Input { id: CHG.into(), note: Some("Looks safe".into()) }
    }

    #[test]
    fn a_high_risk_change_is_approved_at_the_second_distinct_approval() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::High);
        let first: Change =
            wrote(&step::<Approve>(&mut snap, &as_role(Role::ChangeMgmt), &input()), RecordKind::Change, CHG);
        assert_eq!(
            (first.status, first.approval_status, first.approved_at),
            (ChangeStatus::Requested, ApprovalStatus::Pending, None)
        );
        assert_eq!(first.approvals[0].note.as_deref(), Some("Looks safe"));
        let e = step::<Approve>(&mut snap, &as_role(Role::IncidentManager), &Input { id: CHG.into(), note: None });
        assert_eq!(e.subject, format!("change: approve {CHG} (2 of 2)"));
        let c: Change = wrote(&e, RecordKind::Change, CHG);
        assert_eq!(
            (c.status, c.approval_status, c.approved_at),
            (ChangeStatus::Approved, ApprovalStatus::Approved, Some(now()))
        );
        assert_eq!(
            c.approvals.iter().map(|a| a.by.as_str()).collect::<Vec<_>>(),
            ["change_mgmt@x.test", "incident_manager@x.test"]
        );
        assert_eq!(c.approver.as_deref(), Some("incident_manager@x.test"));
    }

    #[test]
    fn step1_only_governors() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        halts_at(
            try_apply::<Approve>(&snap, &as_role(Role::L3), &input()),
            Kind::Forbidden,
            "change approve",
            Approve::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_the_requester_cannot_approve_segregation_of_duties() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        let mut c: Change = stored(&snap, RecordKind::Change, CHG);
        c.requester = as_role(Role::ChangeMgmt);
        put(&mut snap, RecordKind::Change, CHG, &c);
        halts_at(
            try_apply::<Approve>(&snap, &as_role(Role::ChangeMgmt), &input()),
            Kind::Forbidden,
            "segregation of duties",
            Approve::step(1),
            Some("requester"),
        );
    }

    #[test]
    fn step1_one_approval_per_person() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::High);
        step::<Approve>(&mut snap, &as_role(Role::ChangeMgmt), &input());
        halts_at(
            try_apply::<Approve>(&snap, &as_role(Role::ChangeMgmt), &input()),
            Kind::Precondition,
            "approved it already",
            Approve::step(1),
            Some("approvals"),
        );
    }

    #[test]
    fn step2_only_a_requested_change() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        step::<Approve>(&mut snap, &as_role(Role::ChangeMgmt), &input());
        halts_at(
            try_apply::<Approve>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Precondition,
            "needs status requested",
            Approve::step(2),
            Some("status"),
        );
    }

    #[test]
    fn step3_the_note_is_checked() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        let i = Input { id: CHG.into(), note: Some("bell\u{7}".into()) };
        halts(try_apply::<Approve>(&snap, &as_role(Role::ChangeMgmt), &i), Kind::Invalid, "note");
    }
}
