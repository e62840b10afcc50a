//! `kb.update/1` — policy procedure 15: Maintenance.
//!
//! Steps:
//! 1. Validate the actor (staff) and the article (not retired).
//! 2. Validate the new body (and title).
//! 3. A published article with new content goes back to review: its next publish is a
//!    new version. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::AuditAction;
use crate::model::kb::ArticleStatus;

pub struct Update;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub body: String,
    pub title: Option<String>,
}

impl Procedure for Update {
    const ID: &'static str = "kb.update/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("kb update")?;
        let (rid, mut a) = super::load(ctx, &input.id)?;
        super::require_status(
            &a,
            "update",
            &[ArticleStatus::Draft, ArticleStatus::InReview, ArticleStatus::Published],
        )?;
        let body = hygiene::text("body", &input.body, Shape::Document)?;
        let title = hygiene::optional("title", input.title.as_deref(), Shape::Line)?;
        if body == a.body && title.as_ref().is_none_or(|t| *t == a.title) {
            return Err(Error::invalid(format!("kb update: {} already has this content", rid.id)));
        }
        a.body = body;
        if let Some(t) = title {
            a.title = t;
        }
        let mut fields = vec!["body", "title"];
        if a.status == ArticleStatus::Published {
            a.status = ArticleStatus::InReview;
            fields.push("status");
        }
        a.updated_at = ctx.now;
        let mut effect =
            Effect::new(format!("kb: update {}", rid.id)).action(AuditAction::KbUpdate, "kb", &rid.id).fields(&fields);
        effect.write_main(&rid.path(), &rid.id, &a)?;
        Ok(effect)
    }
}
