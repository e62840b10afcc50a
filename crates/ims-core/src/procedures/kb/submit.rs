//! `kb.submit/1` — policy procedure 15: Draft → Review.
//!
//! Steps:
//! 1. Validate the actor (staff) and the article (draft).
//! 2. Set `in_review`. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::model::enums::AuditAction;
use crate::model::kb::ArticleStatus;

pub struct Submit;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
}

impl Procedure for Submit {
    const ID: &'static str = "kb.submit/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("kb submit").at(Self::step(1))?;
        let (rid, mut a) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&a, "submit", &[ArticleStatus::Draft]).at(Self::step(1))?;
        a.status = ArticleStatus::InReview;
        a.updated_at = ctx.now;
        let mut effect = Effect::new(format!("kb: submit {} for review", rid.id))
            .action(AuditAction::KbUpdate, "kb", &rid.id)
            .fields(&["status"]);
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
    use crate::procedures::testing::*;

    #[test]
    fn a_draft_goes_to_review() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        let a: Article =
            wrote(&step::<Submit>(&mut snap, &as_role(Role::L2), &Input { id: KB.into() }), RecordKind::Kb, KB);
        assert_eq!((a.status, a.version), (ArticleStatus::InReview, 0));
    }

    #[test]
    fn step1_only_staff() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        halts_at(
            try_apply::<Submit>(&snap, "user@x.test", &Input { id: KB.into() }),
            Kind::Forbidden,
            "kb submit",
            Submit::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_only_a_draft() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        step::<Submit>(&mut snap, &as_role(Role::L2), &Input { id: KB.into() });
        halts_at(
            try_apply::<Submit>(&snap, &as_role(Role::L2), &Input { id: KB.into() }),
            Kind::Precondition,
            "needs status draft, it is in_review",
            Submit::step(1),
            Some("status"),
        );
    }
}
