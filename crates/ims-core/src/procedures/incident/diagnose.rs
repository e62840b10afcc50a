//! `incident.diagnose/1` — policy procedure 7, Diagnosis & Temporary Workaround.
//!
//! Policy steps:
//! 1. Validate the role (staff) and the incident (exists, not closed).
//! 2. Validate the inputs: diagnostic steps required, workaround optional.
//! 3. Record the steps and any workaround; mark workaround presence.
//!    Audit: `update`, field=diagnosis/workaround.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::AuditAction;

pub struct Diagnose;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub steps: String,
    pub workaround: Option<String>,
}

impl Procedure for Diagnose {
    const ID: &'static str = "incident.diagnose/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident diagnose").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_open(&inc, "diagnose").at(Self::step(1))?;
        let steps = hygiene::text(ctx.rules, "steps", &input.steps, Shape::Text).at(Self::step(2))?;
        let workaround =
            hygiene::optional(ctx.rules, "workaround", input.workaround.as_deref(), Shape::Text).at(Self::step(2))?;
        let mut fields = vec![];
        super::record_diagnosis(&mut inc, ctx.now, ctx.actor, Some(steps), workaround, &mut fields);
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: diagnose {}", rid.id))
            .action(AuditAction::Update, "incident", &rid.id)
            .fields(&fields);
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::{Role, Status};
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input { id: ID.into(), steps: "checked the pool".into(), workaround: Some("restart".into()) }
    }

    #[test]
    fn records_steps_and_workaround() {
        let i = written(&apply::<Diagnose>(&incident(Status::InProgress), &as_role(Role::L2), &input()).unwrap());
        assert!(i.workaround_available);
        assert_eq!(i.diagnosis.len(), 1);
    }

    #[test]
    fn step1_role_and_state() {
        halts_at(
            apply::<Diagnose>(&incident(Status::Open), &as_role(Role::EndUser), &input()),
            Kind::Forbidden,
            "needs one of",
            Diagnose::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Diagnose>(&incident(Status::Closed), &as_role(Role::L2), &input()),
            Kind::Precondition,
            "closed",
            Diagnose::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_steps_required() {
        let mut i = input();
        i.steps = "".into();
        halts_at(
            apply::<Diagnose>(&incident(Status::Open), &as_role(Role::L2), &i),
            Kind::Invalid,
            "steps",
            Diagnose::step(2),
            Some("steps"),
        );
    }
}
