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
use crate::error::Result;
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
        ctx.require(ROLES, "problem workaround")?;
        let (rid, mut p) = super::load(ctx, &input.id)?;
        super::require_status(&p, "workaround", &[ProblemStatus::New, ProblemStatus::UnderInvestigation])?;
        let workaround = hygiene::text("workaround", &input.workaround, Shape::Text)?;
        let kb_rid = crate::procedures::new_id(ctx, &input.kb_id, RecordKind::Kb)?;
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
