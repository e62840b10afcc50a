//! `problem.link/1` — policy procedure 19, Link incident ↔ problem.
//!
//! Policy steps:
//! 1. Validate the actor (staff), the problem (not closed) and the incident.
//! 2. Link both ways in one commit (bidirectional traceability). Audit: `link` on each.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
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
        ctx.require_staff("problem link").at(Self::step(1))?;
        let (prid, mut p) = super::load(ctx, &input.problem).at(Self::step(1)).field("problem")?;
        super::require_status(
            &p,
            "link",
            &[
                ProblemStatus::New,
                ProblemStatus::UnderInvestigation,
                ProblemStatus::KnownError,
                ProblemStatus::Resolved,
            ],
        )
        .at(Self::step(1))?;
        let (irid, mut inc) =
            crate::procedures::incident::load(ctx, &input.incident).at(Self::step(1)).field("incident")?;
        let fresh = crate::procedures::link(&mut p.incident_ids, &irid.id);
        crate::procedures::link(&mut inc.problem_ids, &prid.id);
        if !fresh {
            return Err(Error::precondition(format!("{} and {} are already linked", prid.id, irid.id))
                .at(Self::step(2))
                .field("incident"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::enums::{Role, Status};
    use crate::model::problem::Problem;
    use crate::model::Incident;
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input { problem: PRB.into(), incident: ID.into() }
    }

    fn with_problem() -> MemSnapshot {
        let mut snap = snapshot(Some(&incident(Status::InProgress)));
        create_problem(&mut snap, &[]);
        snap
    }

    #[test]
    fn links_both_ways() {
        let e = try_apply::<Link>(&with_problem(), &as_role(Role::L1), &input()).unwrap();
        assert_eq!(wrote::<Problem>(&e, RecordKind::Problem, PRB).incident_ids, [ID]);
        assert_eq!(wrote::<Incident>(&e, RecordKind::Incident, ID).problem_ids, [PRB]);
    }

    #[test]
    fn step1_only_staff() {
        halts_at(
            try_apply::<Link>(&with_problem(), "user@x.test", &input()),
            Kind::Forbidden,
            "problem link",
            Link::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_not_a_closed_problem() {
        let mut snap = with_problem();
        let mut p: Problem = stored(&snap, RecordKind::Problem, PRB);
        p.status = ProblemStatus::Closed;
        put(&mut snap, RecordKind::Problem, PRB, &p);
        halts_at(
            try_apply::<Link>(&snap, &as_role(Role::L1), &input()),
            Kind::Precondition,
            "it is closed",
            Link::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step3_an_existing_incident_not_linked_yet() {
        let mut i = input();
        i.incident = "INC-20261126-0000000009".into();
        halts_at(
            try_apply::<Link>(&with_problem(), &as_role(Role::L1), &i),
            Kind::Invalid,
            "no such incident",
            Link::step(1),
            Some("incident"),
        );
        let mut snap = with_problem();
        step::<Link>(&mut snap, &as_role(Role::L1), &input());
        halts_at(
            try_apply::<Link>(&snap, &as_role(Role::L1), &input()),
            Kind::Precondition,
            "already linked",
            Link::step(2),
            Some("incident"),
        );
    }
}
