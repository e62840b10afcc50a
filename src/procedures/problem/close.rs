//! `problem.close/1` — policy procedure 19, Close after the stability window.
//!
//! Policy steps:
//! 1. Validate the actor (incident_manager) and the problem (resolved).
//! 2. The stability window of `ims.yaml` (`problems.stability_window`, default 7 days)
//!    must have passed since the resolution.
//! 3. Set `closed`. Audit: `close`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
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
        ctx.require(&[Role::IncidentManager], "problem close")?;
        let (rid, mut p) = super::load(ctx, &input.id)?;
        super::require_status(&p, "close", &[ProblemStatus::Resolved])?;
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
            )));
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
