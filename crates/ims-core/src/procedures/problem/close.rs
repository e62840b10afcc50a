//! `problem.close/1` — policy procedure 19, Close after the stability window.
//!
//! Policy steps:
//! 1. Validate the actor (incident_manager) and the problem (resolved).
//! 2. The stability window of `ims.yaml` (`problems.stability_window`, default 7 days)
//!    must have passed since the resolution.
//! 3. Set `closed`. Audit: `close`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::model::config::parse_duration;
use crate::model::enums::{AuditAction, Role};
use crate::model::problem::ProblemStatus;

pub struct Close;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
}

impl Procedure for Close {
    const ID: &'static str = "problem.close/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(&[Role::IncidentManager], "problem close").at(Self::step(1))?;
        let (rid, mut p) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&p, "close", &[ProblemStatus::Resolved]).at(Self::step(1))?;
        let config = crate::model::config(ctx.snap)?;
        let window = parse_duration(&config.problems.stability_window)?;
        let resolved = p.resolved_at.ok_or_else(|| Error::internal(format!("{}: resolved without a time", rid.id)))?;
        let stable_from = resolved + chrono::Duration::seconds(window);
        if ctx.now < stable_from {
            return Err(Error::precondition(format!(
                "problem {}: the stability window ({}) is not over; it can close from {}",
                rid.id,
                config.problems.stability_window,
                stable_from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ))
            .at(Self::step(2))
            .field("resolved_at"));
        }
        p.status = ProblemStatus::Closed;
        p.closed_at = Some(ctx.now);
        p.closed_by = Some(ctx.actor.into());
        p.updated_at = ctx.now;
        let mut effect = Effect::new(format!("problem: close {}", rid.id))
            .action(AuditAction::Close, "problem", &rid.id)
            .fields(&["status", "closed_at", "closed_by"]);
        effect.write_main(&rid.path(), &rid.id, &p)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::problem::Problem;
    use crate::procedures::problem::resolve;
    use crate::procedures::testing::*;

    fn resolved() -> MemSnapshot {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        step::<resolve::Resolve>(
            &mut snap,
            &as_role(Role::L2),
            &resolve::Input { id: PRB.into(), evidence: "Stable".into() },
        );
        snap
    }

    #[test]
    fn closes_once_the_stability_window_is_over() {
        let at = now() + chrono::Duration::days(7);
        let e =
            try_apply_at::<Close>(&resolved(), &as_role(Role::IncidentManager), at, &Input { id: PRB.into() }).unwrap();
        let p: Problem = wrote(&e, RecordKind::Problem, PRB);
        assert_eq!(
            (p.status, p.closed_at, p.closed_by.as_deref()),
            (ProblemStatus::Closed, Some(at), Some("incident_manager@x.test"))
        );
    }

    #[test]
    fn step1_only_the_incident_manager() {
        let at = now() + chrono::Duration::days(8);
        halts_at(
            try_apply_at::<Close>(&resolved(), &as_role(Role::L2), at, &Input { id: PRB.into() }),
            Kind::Forbidden,
            "problem close",
            Close::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_only_a_resolved_problem() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        halts_at(
            try_apply::<Close>(&snap, &as_role(Role::IncidentManager), &Input { id: PRB.into() }),
            Kind::Precondition,
            "needs status resolved, it is new",
            Close::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_not_before_the_stability_window_is_over() {
        let at = now() + chrono::Duration::days(7) - chrono::Duration::seconds(1);
        halts_at(
            try_apply_at::<Close>(&resolved(), &as_role(Role::IncidentManager), at, &Input { id: PRB.into() }),
            Kind::Precondition,
            "stability window (7d) is not over; it can close from 2026-12-03T12:00:00Z",
            Close::step(2),
            Some("resolved_at"),
        );
    }
}
