//! `incident.review/1` — policy procedure 14, Post-Incident Review (PIR).
//!
//! Policy steps:
//! 1. Validate the actor (incident_manager) and the incident (resolved or closed; one
//!    review per incident). Required for high priority, allowed for any.
//! 2. Validate the manager's timeline notes, contributing factors, residual risk, the
//!    action items (owners registered, due dates real dates) and the KB link.
//! 3. Record the PIR with the incident's own timeline assembled into it, and link the
//!    KB articles. Audit: `review`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::RecordKind;
use crate::model::enums::{AuditAction, Role, Status};
use crate::model::pir::{self, ActionItem, ActionStatus, Review as Pir, TimelineLine};

pub struct Review;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub timeline: String,
    pub factors: String,
    pub residual_risk: Option<String>,
    pub actions: Vec<ActionInput>,
    pub kb: Vec<String>,
}

/// One action item as given on the command line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActionInput {
    pub action: String,
    pub owner: Option<String>,
    pub due: Option<String>,
}

/// Checks an action item's fields.
pub fn check_action(ctx: &Ctx, a: &ActionInput) -> Result<ActionItem> {
    let action = hygiene::text(ctx.rules, "action", &a.action, Shape::Line)?;
    if let Some(owner) = &a.owner {
        super::registered(ctx, "action owner", owner)?;
    }
    if let Some(due) = &a.due {
        chrono::NaiveDate::parse_from_str(due, "%Y-%m-%d").map_err(|_| {
            Error::invalid(format!("action due: `{due}` is not a date like 2026-12-03")).field("action due")
        })?;
    }
    Ok(ActionItem { action, owner: a.owner.clone(), due: a.due.clone(), status: ActionStatus::Open })
}

impl Procedure for Review {
    const ID: &'static str = "incident.review/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(&[Role::IncidentManager], "incident review").at(Self::step(1))?;
        let (irid, inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&inc, "review", &[Status::Resolved, Status::Closed]).at(Self::step(1))?;
        let pir_id = pir::id_for(&irid.id);
        let prid = crate::ids::RecordId::parse(&pir_id, "pir").at(Self::step(1))?;
        if ctx.snap.read(&prid.path())?.is_some() {
            return Err(Error::precondition(format!(
                "incident {}: already reviewed in {pir_id}; update its action items with `ims pir action`",
                irid.id
            ))
            .at(Self::step(1))
            .field("id"));
        }
        let notes = hygiene::text(ctx.rules, "timeline", &input.timeline, Shape::Text).at(Self::step(2))?;
        let factors = hygiene::text(ctx.rules, "factors", &input.factors, Shape::Text).at(Self::step(2))?;
        let residual_risk = hygiene::optional(ctx.rules, "residual-risk", input.residual_risk.as_deref(), Shape::Text)
            .at(Self::step(2))?;
        let action_items =
            input.actions.iter().map(|a| check_action(ctx, a)).collect::<Result<Vec<_>>>().at(Self::step(2))?;
        let mut kb_ids = Vec::new();
        for kb in &input.kb {
            let (krid, _) = crate::procedures::load::<crate::model::kb::Article>(ctx, kb, RecordKind::Kb)
                .at(Self::step(2))
                .field("kb")?;
            crate::procedures::link(&mut kb_ids, &krid.id);
        }
        let timeline = inc
            .timeline
            .iter()
            .map(|t| TimelineLine {
                at: t.at,
                by: t.by.clone(),
                what: format!(
                    "{} {} -> {}",
                    t.field,
                    t.from.as_deref().unwrap_or("none"),
                    t.to.as_deref().unwrap_or("none")
                ),
            })
            .collect();
        let review = Pir {
            schema: pir::SCHEMA.into(),
            pir_id: pir_id.clone(),
            incident_id: irid.id.clone(),
            timeline,
            notes,
            contributing_factors: factors,
            residual_risk,
            action_items,
            kb_ids,
            reviewed_by: ctx.actor.into(),
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        let mut effect = Effect::new(format!("incident: review {} in {pir_id}", irid.id))
            .line(format!("Action items: {}", review.action_items.len()))
            .action(AuditAction::Review, "incident", &irid.id)
            .action(AuditAction::Review, "pir", &pir_id)
            .fields(&["timeline", "notes", "contributing_factors", "residual_risk", "action_items", "kb_ids"]);
        effect.write_main(&prid.path(), &pir_id, &review)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input {
            id: ID.into(),
            timeline: "Pool exhausted at 09:00; raised at 10:30".into(),
            factors: "No alert on pool saturation".into(),
            residual_risk: Some("Peak season traffic".into()),
            actions: vec![ActionInput {
                action: "Alert on pool saturation".into(),
                owner: Some("l2@x.test".into()),
                due: Some("2026-12-10".into()),
            }],
            kb: vec![KB.into()],
        }
    }

    fn resolved() -> MemSnapshot {
        let mut snap = snapshot(Some(&incident(Status::Resolved)));
        draft_article(&mut snap);
        snap
    }

    #[test]
    fn the_review_is_recorded_with_its_actions_and_kb_links() {
        let e = try_apply::<Review>(&resolved(), &as_role(Role::IncidentManager), &input()).unwrap();
        let pir_id = pir::id_for(ID);
        let r: Pir = wrote(&e, RecordKind::Pir, &pir_id);
        assert_eq!((r.incident_id.as_str(), r.reviewed_by.as_str()), (ID, "incident_manager@x.test"));
        assert_eq!(r.contributing_factors, "No alert on pool saturation");
        assert_eq!(r.action_items[0].owner.as_deref(), Some("l2@x.test"));
        assert_eq!((r.action_items[0].status, r.kb_ids), (ActionStatus::Open, vec![KB.to_string()]));
    }

    #[test]
    fn step1_only_the_incident_manager() {
        halts_at(
            try_apply::<Review>(&resolved(), &as_role(Role::ServiceDeskManager), &input()),
            Kind::Forbidden,
            "incident review",
            Review::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_only_a_resolved_or_closed_incident_reviewed_once() {
        let mut snap = snapshot(Some(&incident(Status::InProgress)));
        draft_article(&mut snap);
        halts_at(
            try_apply::<Review>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Precondition,
            "needs status resolved or closed",
            Review::step(1),
            Some("status"),
        );
        let mut snap = resolved();
        step::<Review>(&mut snap, &as_role(Role::IncidentManager), &input());
        halts_at(
            try_apply::<Review>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Precondition,
            "already reviewed",
            Review::step(1),
            Some("id"),
        );
    }

    #[test]
    fn step2_timeline_and_factors_are_required() {
        let mut i = input();
        i.timeline = "".into();
        halts_at(
            try_apply::<Review>(&resolved(), &as_role(Role::IncidentManager), &i),
            Kind::Invalid,
            "timeline",
            Review::step(2),
            Some("timeline"),
        );
        let mut i = input();
        i.factors = " ".into();
        halts(try_apply::<Review>(&resolved(), &as_role(Role::IncidentManager), &i), Kind::Invalid, "factors");
    }

    #[test]
    fn step2_action_owners_are_registered_and_due_dates_real() {
        let mut i = input();
        i.actions[0].owner = Some("ghost@x.test".into());
        halts_at(
            try_apply::<Review>(&resolved(), &as_role(Role::IncidentManager), &i),
            Kind::Invalid,
            "action owner",
            Review::step(2),
            Some("action owner"),
        );
        let mut i = input();
        i.actions[0].due = Some("2026-02-30".into());
        halts_at(
            try_apply::<Review>(&resolved(), &as_role(Role::IncidentManager), &i),
            Kind::Invalid,
            "action due",
            Review::step(2),
            Some("action due"),
        );
    }

    #[test]
    fn step2_the_kb_articles_exist() {
        let snap = snapshot(Some(&incident(Status::Resolved)));
        halts_at(
            try_apply::<Review>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Invalid,
            "no such kb",
            Review::step(2),
            Some("kb"),
        );
    }
}
