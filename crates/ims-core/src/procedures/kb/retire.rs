//! `kb.retire/1` — policy procedure 15: an article that no longer applies.
//!
//! Steps:
//! 1. Validate the actor (incident_manager) and the article (not already retired).
//! 2. Set `retired`. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
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
        ctx.require(&[Role::IncidentManager], "kb retire").at(Self::step(1))?;
        let (rid, mut a) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&a, "retire", &[ArticleStatus::Draft, ArticleStatus::InReview, ArticleStatus::Published])
            .at(Self::step(1))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::kb::Article;
    use crate::procedures::testing::*;

    #[test]
    fn a_draft_is_retired() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        let a: Article = wrote(
            &step::<Retire>(&mut snap, &as_role(Role::IncidentManager), &Input { id: KB.into() }),
            RecordKind::Kb,
            KB,
        );
        assert_eq!((a.status, a.retired_at), (ArticleStatus::Retired, Some(now())));
    }

    #[test]
    fn step1_only_the_incident_manager() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        halts_at(
            try_apply::<Retire>(&snap, &as_role(Role::L2), &Input { id: KB.into() }),
            Kind::Forbidden,
            "kb retire",
            Retire::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_not_twice() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        step::<Retire>(&mut snap, &as_role(Role::IncidentManager), &Input { id: KB.into() });
        halts_at(
            try_apply::<Retire>(&snap, &as_role(Role::IncidentManager), &Input { id: KB.into() }),
            Kind::Precondition,
            "it is retired",
            Retire::step(1),
            Some("status"),
        );
    }
}
