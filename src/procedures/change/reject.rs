//! `change.reject/1` — change coordination: Reject.
//!
//! Steps:
//! 1. Validate the actor (change_mgmt, incident_manager), not the requester.
//! 2. The change must be requested; a reason is required.
//! 3. Set `rejected`. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
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
        ctx.require(super::GOVERNORS, "change reject")?;
        let (rid, mut c) = super::load(ctx, &input.id)?;
        if c.requester == ctx.actor {
            return Err(Error::forbidden(format!(
                "change reject: {} requested {} and cannot decide on it (segregation of duties)",
                ctx.actor, rid.id
            )));
        }
        super::require_status(&c, "reject", &[ChangeStatus::Requested])?;
        let reason = hygiene::text("reason", &input.reason, Shape::Text)?;
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
