//! `problem.resolve/1` — policy procedure 19, Resolve.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the problem (new, under investigation, known error).
//! 2. Validate the evidence that the cause is removed (required).
//! 3. Set `resolved` with time and resolver; the problem stops holding its dedupe key,
//!    so a recurrence can be raised as a new problem. Audit: `resolve`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
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
        ctx.require_staff("problem resolve").at(Self::step(1))?;
        let (rid, mut p) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(
            &p,
            "resolve",
            &[ProblemStatus::New, ProblemStatus::UnderInvestigation, ProblemStatus::KnownError],
        )
        .at(Self::step(1))?;
        let evidence = hygiene::text(ctx.rules, "evidence", &input.evidence, Shape::Text).at(Self::step(2))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::enums::Role;
    use crate::model::problem::Problem;
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input { id: PRB.into(), evidence: "Pool stable for a week after CHG".into() }
    }

    fn with_problem() -> MemSnapshot {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        snap
    }

    #[test]
    fn resolves_with_evidence_and_frees_the_dedupe_key() {
        let snap = with_problem();
        let e = try_apply::<Resolve>(&snap, &as_role(Role::L3), &input()).unwrap();
        let p: Problem = wrote(&e, RecordKind::Problem, PRB);
        assert_eq!(
            (p.status, p.resolved_at, p.resolved_by.as_deref()),
            (ProblemStatus::Resolved, Some(now()), Some("l3@x.test"))
        );
        assert_eq!(p.evidence.as_deref(), Some("Pool stable for a week after CHG"));
        assert_eq!(e.writes.get(&crate::model::keys::path(super::super::KEYS, &p.dedupe_key)), Some(&None));
    }

    #[test]
    fn step1_only_staff() {
        halts_at(
            try_apply::<Resolve>(&with_problem(), "user@x.test", &input()),
            Kind::Forbidden,
            "problem resolve",
            Resolve::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_only_an_active_problem() {
        let mut snap = with_problem();
        step::<Resolve>(&mut snap, &as_role(Role::L2), &input());
        halts_at(
            try_apply::<Resolve>(&snap, &as_role(Role::L2), &input()),
            Kind::Precondition,
            "it is resolved",
            Resolve::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_validation_evidence_is_required() {
        let i = Input { id: PRB.into(), evidence: " ".into() };
        halts_at(
            try_apply::<Resolve>(&with_problem(), &as_role(Role::L2), &i),
            Kind::Invalid,
            "evidence",
            Resolve::step(2),
            Some("evidence"),
        );
    }
}
