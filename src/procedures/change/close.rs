//! `change.close/1` — change coordination: Close.
//!
//! Steps:
//! 1. Validate the actor (change_mgmt, incident_manager).
//! 2. The change must be reviewed or rejected.
//! 3. Set `closed`. Audit: `close`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
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
        ctx.require(super::GOVERNORS, "change close")?;
        let (rid, mut c) = super::load(ctx, &input.id)?;
        super::require_status(&c, "close", &[ChangeStatus::Reviewed, ChangeStatus::Rejected])?;
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
