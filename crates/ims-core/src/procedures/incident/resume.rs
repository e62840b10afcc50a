//! `incident.resume/1` — the vendor answered: back to work (DESIGN.md state table).
//!
//! Steps:
//! 1. Validate the actor (the vendor roles) and the incident (pending_vendor).
//! 2. Validate the summary of the vendor's answer.
//! 3. Close the open engagement and set `status=in_progress` (the SLA clock runs again).
//!    Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Status};

pub struct Resume;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub summary: String,
}

impl Procedure for Resume {
    const ID: &'static str = "incident.resume/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(super::vendor::ROLES, "incident resume").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&inc, "resume", &[Status::PendingVendor]).at(Self::step(1))?;
        let summary = hygiene::text(ctx.rules, "summary", &input.summary, Shape::Text).at(Self::step(2))?;
        if let Some(v) = inc.vendor_engagements.iter_mut().rev().find(|v| v.resumed_at.is_none()) {
            v.resumed_at = Some(ctx.now);
            v.summary = Some(summary.clone());
        }
        inc.set_status(ctx.now, ctx.actor, Status::InProgress);
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: resume {} (vendor answered)", rid.id))
            .line(format!("Summary: {summary}"))
            .action(AuditAction::Update, "incident", &rid.id)
            .fields(&["vendor_engagements", "status", "timeline"]);
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input { id: ID.into(), summary: "patch shipped".into() }
    }

    #[test]
    fn back_to_in_progress() {
        let i = written(&apply::<Resume>(&incident(Status::PendingVendor), &as_role(Role::L3), &input()).unwrap());
        assert_eq!(i.status, Status::InProgress);
    }

    #[test]
    fn step1_roles_and_state() {
        halts_at(
            apply::<Resume>(&incident(Status::PendingVendor), &as_role(Role::ServiceDesk), &input()),
            Kind::Forbidden,
            "needs one of",
            Resume::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Resume>(&incident(Status::InProgress), &as_role(Role::L3), &input()),
            Kind::Precondition,
            "pending_vendor",
            Resume::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_summary_required() {
        halts_at(
            apply::<Resume>(
                &incident(Status::PendingVendor),
                &as_role(Role::L3),
                &Input { id: ID.into(), summary: "".into() },
            ),
            Kind::Invalid,
            "summary",
            Resume::step(2),
            Some("summary"),
        );
    }
}
