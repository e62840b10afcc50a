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
use crate::error::{Error, Result};
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
        ctx.require(super::GOVERNORS, "change approve")?;
        let (rid, mut c) = super::load(ctx, &input.id)?;
        if c.requester == ctx.actor {
            return Err(Error::forbidden(format!(
                "change approve: {} requested {} and cannot approve it (segregation of duties)",
                ctx.actor, rid.id
            )));
        }
        super::require_status(&c, "approve", &[ChangeStatus::Requested])?;
        if c.approvals.iter().any(|a| a.by == ctx.actor) {
            return Err(Error::precondition(format!("change {}: {} approved it already", rid.id, ctx.actor)));
        }
        let note = hygiene::optional("note", input.note.as_deref(), Shape::Text)?;
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
