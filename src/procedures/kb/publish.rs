//! `kb.publish/1` — policy procedure 15: Review/Approval → Published.
//!
//! Steps:
//! 1. Validate the actor (incident_manager), who is not the author.
//! 2. The article must be in review.
//! 3. Publish: the version goes up by one, so every published content has its own
//!    number and earlier versions stay readable from history. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
use crate::model::enums::{AuditAction, Role};
use crate::model::kb::ArticleStatus;

pub struct Publish;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
}

impl Procedure for Publish {
    const ID: &'static str = "kb.publish/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(&[Role::IncidentManager], "kb publish")?;
        let (rid, mut a) = super::load(ctx, &input.id)?;
        if a.author == ctx.actor {
            return Err(Error::forbidden(format!(
                "kb publish: {} wrote {} and cannot also publish it (segregation of duties)",
                ctx.actor, rid.id
            )));
        }
        super::require_status(&a, "publish", &[ArticleStatus::InReview])?;
        a.status = ArticleStatus::Published;
        a.version += 1;
        a.approver = Some(ctx.actor.into());
        a.published_at = Some(ctx.now);
        a.updated_at = ctx.now;
        let mut effect = Effect::new(format!("kb: publish {} version {}", rid.id, a.version))
            .action(AuditAction::KbUpdate, "kb", &rid.id)
            .fields(&["status", "version", "approver", "published_at"]);
        effect.write_main(&rid.path(), &rid.id, &a)?;
        Ok(effect)
    }
}
