//! `kb.publish/1` — policy procedure 15: Review/Approval → Published.
//!
//! Steps:
//! 1. Validate the actor (incident_manager), who is not the author.
//! 2. The article must be in review.
//! 3. Publish: the version goes up by one, so every published content has its own
//!    number and earlier versions stay readable from history. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
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
        ctx.require(&[Role::IncidentManager], "kb publish").at(Self::step(1))?;
        let (rid, mut a) = super::load(ctx, &input.id).at(Self::step(2))?;
        if a.author == ctx.actor {
            return Err(Error::forbidden(format!(
                "kb publish: {} wrote {} and cannot also publish it (segregation of duties)",
                ctx.actor, rid.id
            ))
            .at(Self::step(1))
            .field("author"));
        }
        super::require_status(&a, "publish", &[ArticleStatus::InReview]).at(Self::step(2))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::kb::Article;
    use crate::procedures::kb::submit::{self, Submit};
    use crate::procedures::testing::*;

    fn in_review() -> MemSnapshot {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        step::<Submit>(&mut snap, &as_role(Role::L2), &submit::Input { id: KB.into() });
        snap
    }

    #[test]
    fn an_article_in_review_is_published_as_version_1() {
        let mut snap = in_review();
        let a: Article = wrote(
            &step::<Publish>(&mut snap, &as_role(Role::IncidentManager), &Input { id: KB.into() }),
            RecordKind::Kb,
            KB,
        );
        assert_eq!((a.status, a.version, a.published_at), (ArticleStatus::Published, 1, Some(now())));
        assert_eq!(a.approver.as_deref(), Some("incident_manager@x.test"));
    }

    #[test]
    fn step1_only_the_incident_manager() {
        halts_at(
            try_apply::<Publish>(&in_review(), &as_role(Role::ServiceDeskManager), &Input { id: KB.into() }),
            Kind::Forbidden,
            "kb publish",
            Publish::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_the_author_cannot_publish_segregation_of_duties() {
        let mut snap = in_review();
        let mut a: Article = stored(&snap, RecordKind::Kb, KB);
        a.author = as_role(Role::IncidentManager);
        put(&mut snap, RecordKind::Kb, KB, &a);
        halts_at(
            try_apply::<Publish>(&snap, &as_role(Role::IncidentManager), &Input { id: KB.into() }),
            Kind::Forbidden,
            "segregation of duties",
            Publish::step(1),
            Some("author"),
        );
    }

    #[test]
    fn step2_only_an_article_in_review() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        halts_at(
            try_apply::<Publish>(&snap, &as_role(Role::IncidentManager), &Input { id: KB.into() }),
            Kind::Precondition,
            "needs status in_review, it is draft",
            Publish::step(2),
            Some("status"),
        );
    }
}
