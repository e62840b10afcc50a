//! `change.implement/1` — change coordination: Implementation.
//!
//! Steps:
//! 1. Validate the actor (staff).
//! 2. The change must be approved.
//! 3. Set `implemented` with time and implementer. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
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
        ctx.require_staff("change implement")?;
        let (rid, mut c) = super::load(ctx, &input.id)?;
        super::require_status(&c, "implement", &[ChangeStatus::Approved])?;
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
