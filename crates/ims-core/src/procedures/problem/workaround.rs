//! `problem.workaround/1` — policy procedure 19, Workaround.
//!
//! Policy steps:
//! 1. Validate the actor (L2, L3, devops, incident_manager) and the problem (new or
//!    under investigation).
//! 2. Validate the workaround text.
//! 3. Set the known error at once (`known_error`, status `known_error`).
//! 4. Put a workaround KB article, linked both ways, in review for an incident manager
//!    other than the author to publish. Audit: `kb_update` on both.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::RecordKind;
use crate::model::enums::{AuditAction, Role};
use crate::model::kb::{self, Article, ArticleStatus, ArticleType};
use crate::model::problem::ProblemStatus;

pub struct Workaround;

pub const ROLES: &[Role] = &[Role::L2, Role::L3, Role::Devops, Role::IncidentManager];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub workaround: String,
    pub kb_id: String,
}

impl Procedure for Workaround {
    const ID: &'static str = "problem.workaround/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(ROLES, "problem workaround").at(Self::step(1))?;
        let (rid, mut p) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&p, "workaround", &[ProblemStatus::New, ProblemStatus::UnderInvestigation])
            .at(Self::step(1))?;
        let workaround = hygiene::text(ctx.rules, "workaround", &input.workaround, Shape::Text).at(Self::step(2))?;
        let kb_rid = crate::procedures::new_id(ctx, &input.kb_id, RecordKind::Kb).at(Self::step(4)).field("kb_id")?;
        p.workaround = Some(workaround.clone());
        p.known_error = true;
        p.known_error_at = Some(ctx.now);
        p.status = ProblemStatus::KnownError;
        crate::procedures::link(&mut p.kb_ids, &kb_rid.id);
        p.updated_at = ctx.now;
        let article = Article {
            schema: kb::SCHEMA.into(),
            kb_id: kb_rid.id.clone(),
            title: format!("Workaround: {}", p.title),
            kind: ArticleType::Workaround,
            status: ArticleStatus::InReview,
            version: 0,
            body: format!("# Workaround: {}\n\n{}\n\nKnown error {}.\n", p.title, workaround, p.problem_id),
            author: ctx.actor.into(),
            approver: None,
            incident_ids: vec![],
            problem_ids: vec![p.problem_id.clone()],
            change_ids: vec![],
            created_at: ctx.now,
            updated_at: ctx.now,
            published_at: None,
            retired_at: None,
        };
        let mut effect = Effect::new(format!("problem: known error {} with workaround {}", rid.id, kb_rid.id))
            .action(AuditAction::KbUpdate, "problem", &rid.id)
            .action(AuditAction::KbUpdate, "kb", &kb_rid.id)
            .fields(&["status", "known_error", "known_error_at", "workaround", "kb_ids"]);
        effect.write(&kb_rid.path(), &article)?;
        effect.write_main(&rid.path(), &rid.id, &p)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::problem::Problem;
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input { id: PRB.into(), workaround: "Restart the pool every hour".into(), kb_id: KB.into() }
    }

    fn with_problem() -> MemSnapshot {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        snap
    }

    #[test]
    fn a_known_error_with_its_workaround_article_in_review() {
        let e = try_apply::<Workaround>(&with_problem(), &as_role(Role::Devops), &input()).unwrap();
        let p: Problem = wrote(&e, RecordKind::Problem, PRB);
        assert_eq!((p.status, p.known_error, p.known_error_at), (ProblemStatus::KnownError, true, Some(now())));
        assert_eq!((p.workaround.as_deref(), p.kb_ids), (Some("Restart the pool every hour"), vec![KB.to_string()]));
        let a: Article = wrote(&e, RecordKind::Kb, KB);
        assert_eq!(
            (a.status, a.kind, a.problem_ids),
            (ArticleStatus::InReview, ArticleType::Workaround, vec![PRB.to_string()])
        );
        assert!(a.body.contains("Restart the pool every hour"), "{}", a.body);
    }

    #[test]
    fn step1_only_resolver_groups_and_the_incident_manager() {
        halts_at(
            try_apply::<Workaround>(&with_problem(), &as_role(Role::L1), &input()),
            Kind::Forbidden,
            "problem workaround",
            Workaround::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_only_a_new_or_investigated_problem() {
        let mut snap = with_problem();
        step::<Workaround>(&mut snap, &as_role(Role::L2), &input());
        let mut i = input();
        i.kb_id = "KB-20261126-0000000002".into();
        halts_at(
            try_apply::<Workaround>(&snap, &as_role(Role::L2), &i),
            Kind::Precondition,
            "it is known_error",
            Workaround::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step3_a_workaround_and_a_free_kb_id() {
        let mut i = input();
        i.workaround = "".into();
        halts_at(
            try_apply::<Workaround>(&with_problem(), &as_role(Role::L2), &i),
            Kind::Invalid,
            "workaround",
            Workaround::step(2),
            Some("workaround"),
        );
        let mut snap = with_problem();
        draft_article(&mut snap);
        halts_at(
            try_apply::<Workaround>(&snap, &as_role(Role::L2), &input()),
            Kind::Conflict,
            "exists",
            Workaround::step(4),
            Some("kb_id"),
        );
    }
}
