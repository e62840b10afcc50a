//! `problem.resolve/1` — policy procedure 19, Resolve.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the problem (new, under investigation, known error).
//! 2. Validate the evidence that the cause is removed (required).
//! 3. Set `resolved` with time and resolver; the problem stops holding its dedupe key,
//!    so a recurrence can be raised as a new problem. Audit: `resolve`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
use crate::hygiene::{self, Shape};
use crate::model::enums::AuditAction;
use crate::model::problem::ProblemStatus;

pub struct Resolve;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub evidence: String,
}

impl Procedure for Resolve {
    const ID: &'static str = "problem.resolve/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("problem resolve")?;
        let (rid, mut p) = super::load(ctx, &input.id)?;
        super::require_status(
            &p,
            "resolve",
            &[ProblemStatus::New, ProblemStatus::UnderInvestigation, ProblemStatus::KnownError],
        )?;
        let evidence = hygiene::text("evidence", &input.evidence, Shape::Text)?;
        p.evidence = Some(evidence.clone());
        p.status = ProblemStatus::Resolved;
        p.resolved_at = Some(ctx.now);
        p.resolved_by = Some(ctx.actor.into());
        p.updated_at = ctx.now;
        let mut effect = Effect::new(format!("problem: resolve {}", rid.id))
            .line(format!("Evidence: {evidence}"))
            .action(AuditAction::Resolve, "problem", &rid.id)
            .fields(&["status", "evidence", "resolved_at", "resolved_by"]);
        super::release_key(ctx, &mut effect, &p)?;
        effect.write_main(&rid.path(), &rid.id, &p)?;
        Ok(effect)
    }
}
