//! `kb.retire/1` — policy procedure 15: an article that no longer applies.
//!
//! Steps:
//! 1. Validate the actor (incident_manager) and the article (not already retired).
//! 2. Set `retired`. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
use crate::model::enums::{AuditAction, Role};
use crate::model::kb::ArticleStatus;

pub struct Retire;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
}

impl Procedure for Retire {
    const ID: &'static str = "kb.retire/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(&[Role::IncidentManager], "kb retire")?;
        let (rid, mut a) = super::load(ctx, &input.id)?;
        super::require_status(
            &a,
            "retire",
            &[ArticleStatus::Draft, ArticleStatus::InReview, ArticleStatus::Published],
        )?;
        a.status = ArticleStatus::Retired;
        a.retired_at = Some(ctx.now);
        a.updated_at = ctx.now;
        let mut effect = Effect::new(format!("kb: retire {}", rid.id))
            .action(AuditAction::KbUpdate, "kb", &rid.id)
            .fields(&["status", "retired_at"]);
        effect.write_main(&rid.path(), &rid.id, &a)?;
        Ok(effect)
    }
}
