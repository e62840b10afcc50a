//! `kb.update/1` — policy procedure 15: Maintenance.
//!
//! Steps:
//! 1. Validate the actor (staff) and the article (not retired).
//! 2. Validate the new body (and title).
//! 3. A published article with new content goes back to review: its next publish is a
//!    new version. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
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
        ctx.require_staff("kb update").at(Self::step(1))?;
        let (rid, mut a) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&a, "update", &[ArticleStatus::Draft, ArticleStatus::InReview, ArticleStatus::Published])
            .at(Self::step(1))?;
        let body = hygiene::text(ctx.rules, "body", &input.body, Shape::Document).at(Self::step(2))?;
        let title = hygiene::optional(ctx.rules, "title", input.title.as_deref(), Shape::Line).at(Self::step(2))?;
        if body == a.body && title.as_ref().is_none_or(|t| *t == a.title) {
            return Err(Error::invalid(format!("kb update: {} already has this content", rid.id))
                .at(Self::step(2))
                .field("body"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::enums::Role;
    use crate::model::kb::Article;
    use crate::procedures::kb::{publish, retire, submit};
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input { id: KB.into(), body: "Raise max_connections to 300.".into(), title: None }
    }

    fn published() -> MemSnapshot {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        step::<submit::Submit>(&mut snap, &as_role(Role::L2), &submit::Input { id: KB.into() });
        step::<publish::Publish>(&mut snap, &as_role(Role::IncidentManager), &publish::Input { id: KB.into() });
        snap
    }

    #[test]
    fn editing_a_published_article_sends_it_back_to_review() {
        let mut snap = published();
        let mut i = input();
        i.title = Some("Raise the pool to 300".into());
        let a: Article = wrote(&step::<Update>(&mut snap, &as_role(Role::L3), &i), RecordKind::Kb, KB);
        assert_eq!((a.status, a.version), (ArticleStatus::InReview, 1));
        assert_eq!((a.body.as_str(), a.title.as_str()), ("Raise max_connections to 300.", "Raise the pool to 300"));
    }

    #[test]
    fn step1_only_staff() {
        halts_at(
            try_apply::<Update>(&published(), "user@x.test", &input()),
            Kind::Forbidden,
            "kb update",
            Update::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_not_a_retired_article() {
        let mut snap = published();
        step::<retire::Retire>(&mut snap, &as_role(Role::IncidentManager), &retire::Input { id: KB.into() });
        halts_at(
            try_apply::<Update>(&snap, &as_role(Role::L2), &input()),
            Kind::Precondition,
            "it is retired",
            Update::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_a_body_and_a_change() {
        let snap = published();
        let mut i = input();
        i.body = " ".into();
        halts_at(
            try_apply::<Update>(&snap, &as_role(Role::L2), &i),
            Kind::Invalid,
            "body",
            Update::step(2),
            Some("body"),
        );
        let a: Article = stored(&snap, RecordKind::Kb, KB);
        let same = Input { id: KB.into(), body: a.body.clone(), title: Some(a.title.clone()) };
        halts_at(
            try_apply::<Update>(&snap, &as_role(Role::L2), &same),
            Kind::Invalid,
            "already has this content",
            Update::step(2),
            Some("body"),
        );
    }
}
