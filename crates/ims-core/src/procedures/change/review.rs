//! `change.review/1` — change coordination: Review.
//!
//! Steps:
//! 1. Validate the actor (change_mgmt, incident_manager).
//! 2. The change must be implemented; the outcome is successful, failed or rolled_back.
//! 3. Set `reviewed` with the outcome (it feeds the change success rate). Audit: `review`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::change::{ChangeStatus, Outcome};
use crate::model::enums::AuditAction;

pub struct Review;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub outcome: Outcome,
    pub note: Option<String>,
}

impl Procedure for Review {
    const ID: &'static str = "change.review/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(super::GOVERNORS, "change review").at(Self::step(1))?;
        let (rid, mut c) = super::load(ctx, &input.id).at(Self::step(2))?;
        super::require_status(&c, "review", &[ChangeStatus::Implemented]).at(Self::step(2))?;
        c.review_note = hygiene::optional(ctx.rules, "note", input.note.as_deref(), Shape::Text).at(Self::step(2))?;
        c.outcome = Some(input.outcome);
        c.status = ChangeStatus::Reviewed;
        c.reviewed_at = Some(ctx.now);
        c.updated_at = ctx.now;
        let mut effect = Effect::new(format!("change: review {} ({})", rid.id, input.outcome))
            .action(AuditAction::Review, "change", &rid.id)
            .fields(&["status", "outcome", "review_note", "reviewed_at"]);
        effect.write_main(&rid.path(), &rid.id, &c)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::change::Change;
    use crate::model::enums::{Level, Role};
    use crate::procedures::change::{approve, implement};
    use crate::procedures::testing::*;

    fn implemented() -> MemSnapshot {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        step::<approve::Approve>(&mut snap, &as_role(Role::ChangeMgmt), &approve::Input { id: CHG.into(), note: None });
        step::<implement::Implement>(&mut snap, &as_role(Role::Devops), &implement::Input { id: CHG.into() });
        snap
    }

    fn input() -> Input {
        Input { id: CHG.into(), outcome: Outcome::RolledBack, note: Some("Latency rose; rolled back".into()) }
    }

    #[test]
    fn an_implemented_change_is_reviewed_with_its_outcome() {
        let mut snap = implemented();
        let c: Change =
            wrote(&step::<Review>(&mut snap, &as_role(Role::IncidentManager), &input()), RecordKind::Change, CHG);
        assert_eq!(
            (c.status, c.outcome, c.reviewed_at),
            (ChangeStatus::Reviewed, Some(Outcome::RolledBack), Some(now()))
        );
        assert_eq!(c.review_note.as_deref(), Some("Latency rose; rolled back"));
    }

    #[test]
    fn step1_only_governors() {
        halts_at(
            try_apply::<Review>(&implemented(), &as_role(Role::Devops), &input()),
            Kind::Forbidden,
            "change review",
            Review::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_only_an_implemented_change_and_a_clean_note() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        halts_at(
            try_apply::<Review>(&snap, &as_role(Role::ChangeMgmt), &input()),
            Kind::Precondition,
            "needs status implemented",
            Review::step(2),
            Some("status"),
        );
        let mut i = input();
        i.note = Some("AKIAIOSFODNN7EXAMPLE".into());
        halts_at(
            try_apply::<Review>(&implemented(), &as_role(Role::ChangeMgmt), &i),
            Kind::Invalid,
            "note",
            Review::step(2),
            Some("note"),
        );
    }
}
