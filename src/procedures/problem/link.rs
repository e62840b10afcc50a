//! `problem.link/1` — policy procedure 19, Link incident ↔ problem.
//!
//! Policy steps:
//! 1. Validate the actor (staff), the problem (not closed) and the incident.
//! 2. Link both ways in one commit (bidirectional traceability). Audit: `link` on each.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
use crate::model::enums::AuditAction;
use crate::model::problem::ProblemStatus;

pub struct Link;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub problem: String,
    pub incident: String,
}

impl Procedure for Link {
    const ID: &'static str = "problem.link/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("problem link")?;
        let (prid, mut p) = super::load(ctx, &input.problem)?;
        super::require_status(
            &p,
            "link",
            &[
                ProblemStatus::New,
                ProblemStatus::UnderInvestigation,
                ProblemStatus::KnownError,
                ProblemStatus::Resolved,
            ],
        )?;
        let (irid, mut inc) = crate::procedures::incident::load(ctx, &input.incident)?;
        let fresh = crate::procedures::link(&mut p.incident_ids, &irid.id);
        crate::procedures::link(&mut inc.problem_ids, &prid.id);
        if !fresh {
            return Err(Error::precondition(format!("{} and {} are already linked", prid.id, irid.id)));
        }
        p.updated_at = ctx.now;
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("problem: link {} to {}", prid.id, irid.id))
            .action(AuditAction::Link, "problem", &prid.id)
            .action(AuditAction::Link, "incident", &irid.id)
            .fields(&["incident_ids", "problem_ids"]);
        effect.write(&irid.path(), &inc)?;
        effect.write_main(&prid.path(), &prid.id, &p)?;
        Ok(effect)
    }
}
