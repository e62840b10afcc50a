//! `incident.feedback/1` — stakeholder satisfaction (policy: Quality Assurance).
//!
//! Steps:
//! 1. Validate the actor: the reporter, or staff recording it for them.
//! 2. Validate the incident (resolved or closed, no feedback yet) and the score (1–5).
//! 3. Record it. Audit: `update`, field=feedback.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Status};
use crate::model::incident::Feedback;

pub struct GiveFeedback;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub score: u8,
    pub comment: Option<String>,
}

impl Procedure for GiveFeedback {
    const ID: &'static str = "incident.feedback/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        let person = ctx.person().at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(2))?;
        if !person.is_staff() && inc.reporter != ctx.actor {
            return Err(Error::forbidden(format!(
                "incident feedback: only the reporter ({}) or staff for them may give feedback on {}",
                inc.reporter, rid.id
            ))
            .at(Self::step(1))
            .field("actor"));
        }
        super::require_status(&inc, "feedback", &[Status::Resolved, Status::Closed]).at(Self::step(2))?;
        if inc.feedback.is_some() {
            return Err(Error::precondition(format!("incident {}: feedback was already given", rid.id))
                .at(Self::step(2))
                .field("feedback"));
        }
        if !(1..=5).contains(&input.score) {
            return Err(Error::invalid(format!("score: {} is not between 1 and 5", input.score))
                .at(Self::step(2))
                .field("score"));
        }
        let comment =
            hygiene::optional(ctx.rules, "comment", input.comment.as_deref(), Shape::Text).at(Self::step(2))?;
        inc.feedback = Some(Feedback { score: input.score, comment, by: ctx.actor.into(), at: ctx.now });
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: feedback {} on {}", input.score, rid.id))
            .action(AuditAction::Update, "incident", &rid.id)
            .fields(&["feedback"]);
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

    fn input(score: u8) -> Input {
        Input { id: ID.into(), score, comment: Some("quick".into()) }
    }

    #[test]
    fn the_reporter_scores() {
        let i = written(&apply::<GiveFeedback>(&incident(Status::Closed), "user@x.test", &input(5)).unwrap());
        assert_eq!(i.feedback.unwrap().score, 5);
    }

    #[test]
    fn step1_reporter_or_staff() {
        halts_at(
            apply::<GiveFeedback>(&incident(Status::Closed), &as_role(Role::Auditor), &input(4)),
            Kind::Forbidden,
            "reporter",
            GiveFeedback::step(1),
            Some("actor"),
        );
    }

    #[test]
    fn step2_state_once_and_range() {
        halts_at(
            apply::<GiveFeedback>(&incident(Status::Open), "user@x.test", &input(4)),
            Kind::Precondition,
            "open",
            GiveFeedback::step(2),
            Some("status"),
        );
        halts_at(
            apply::<GiveFeedback>(&incident(Status::Closed), "user@x.test", &input(6)),
            Kind::Invalid,
            "between 1 and 5",
            GiveFeedback::step(2),
            Some("score"),
        );
        let mut inc = incident(Status::Closed);
        inc.feedback = Some(Feedback { score: 1, comment: None, by: "user@x.test".into(), at: now() });
        halts_at(
            apply::<GiveFeedback>(&inc, "user@x.test", &input(4)),
            Kind::Precondition,
            "already",
            GiveFeedback::step(2),
            Some("feedback"),
        );
    }
}
