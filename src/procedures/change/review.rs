//! `change.review/1` — change coordination: Review.
//!
//! Steps:
//! 1. Validate the actor (change_mgmt, incident_manager).
//! 2. The change must be implemented; the outcome is successful, failed or rolled_back.
//! 3. Set `reviewed` with the outcome (it feeds the change success rate). Audit: `review`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
use crate::hygiene::{self, Shape};
use crate::model::change::{ChangeStatus, Outcome};
use crate::model::enums::AuditAction;

pub struct Review;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub outcome: Outcome,
    pub note: Option<String>,
}

impl Procedure for Review {
    const ID: &'static str = "change.review/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(super::GOVERNORS, "change review")?;
        let (rid, mut c) = super::load(ctx, &input.id)?;
        super::require_status(&c, "review", &[ChangeStatus::Implemented])?;
        c.review_note = hygiene::optional("note", input.note.as_deref(), Shape::Text)?;
        c.outcome = Some(input.outcome);
        c.status = ChangeStatus::Reviewed;
        c.reviewed_at = Some(ctx.now);
        c.updated_at = ctx.now;
        let mut effect = Effect::new(format!("change: review {} ({})", rid.id, input.outcome))
            .action(AuditAction::Review, "change", &rid.id)
            .fields(&["status", "outcome", "review_note", "reviewed_at"]);
        effect.write_main(&rid.path(), &rid.id, &c)?;
        Ok(effect)
    }
}
