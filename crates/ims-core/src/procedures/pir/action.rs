//! `pir.action/1` — an action item of a post-incident review moves on.
//!
//! Steps:
//! 1. Validate the actor: an incident manager, or the item's owner.
//! 2. Validate the item number, its new status, owner and due date.
//! 3. Record the change. Audit: `update`, field=action_items.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::ids::RecordKind;
use crate::model::enums::{AuditAction, Role};
use crate::model::pir::{ActionStatus, Review};

pub struct UpdateAction;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    /// 1-based.
    pub item: usize,
    pub status: Option<ActionStatus>,
    pub owner: Option<String>,
    pub due: Option<String>,
}

impl Procedure for UpdateAction {
    const ID: &'static str = "pir.action/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        let person = ctx.person().at(Self::step(1))?;
        let (rid, mut review) = crate::procedures::load::<Review>(ctx, &input.id, RecordKind::Pir).at(Self::step(2))?;
        let count = review.action_items.len();
        let item = input
            .item
            .checked_sub(1)
            .and_then(|i| review.action_items.get_mut(i))
            .ok_or_else(|| {
                Error::invalid(format!("item: {} has action items 1 to {count}, not {}", rid.id, input.item))
            })
            .at(Self::step(2))
            .field("item")?;
        if !person.has_role(Role::IncidentManager) && item.owner.as_deref() != Some(ctx.actor) {
            return Err(Error::forbidden(format!(
                "pir action: only an incident manager or the item's owner may update it; {} is neither",
                ctx.actor
            ))
            .at(Self::step(1))
            .field("owner"));
        }
        let checked = crate::procedures::incident::review::check_action(
            ctx,
            &crate::procedures::incident::review::ActionInput {
                action: item.action.clone(),
                owner: input.owner.clone().or(item.owner.clone()),
                due: input.due.clone().or(item.due.clone()),
            },
        )
        .at(Self::step(2))?;
        let before = item.clone();
        item.owner = checked.owner;
        item.due = checked.due;
        if let Some(s) = input.status {
            item.status = s;
        }
        if *item == before {
            return Err(
                Error::invalid("pir action: nothing changes (give --status, --owner or --due)").at(Self::step(2))
            );
        }
        let summary = format!("pir: action {} of {} is {}", input.item, rid.id, item.status);
        review.updated_at = ctx.now;
        let mut effect = Effect::new(summary).action(AuditAction::Update, "pir", &rid.id).fields(&["action_items"]);
        effect.write_main(&rid.path(), &rid.id, &review)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Status;
    use crate::procedures::incident::review::{self, ActionInput};
    use crate::procedures::testing::*;

    fn pir_id() -> String {
        crate::model::pir::id_for(ID)
    }

    fn reviewed() -> MemSnapshot {
        let mut snap = snapshot(Some(&incident(Status::Resolved)));
        let input = review::Input {
            id: ID.into(),
            timeline: "Pool exhausted".into(),
            factors: "No alert".into(),
            residual_risk: None,
            actions: vec![ActionInput {
                action: "Alert on pool saturation".into(),
                owner: Some("l2@x.test".into()),
                due: Some("2026-12-10".into()),
            }],
            kb: vec![],
        };
        step::<review::Review>(&mut snap, &as_role(Role::IncidentManager), &input);
        snap
    }

    fn input() -> Input {
        Input { id: pir_id(), item: 1, status: Some(ActionStatus::Done), owner: None, due: None }
    }

    #[test]
    fn the_owner_marks_the_item_done() {
        let e = try_apply::<UpdateAction>(&reviewed(), &as_role(Role::L2), &input()).unwrap();
        let r: Review = wrote(&e, RecordKind::Pir, &pir_id());
        assert_eq!(r.action_items[0].status, ActionStatus::Done);
        assert_eq!(
            (r.action_items[0].owner.as_deref(), r.action_items[0].due.as_deref()),
            (Some("l2@x.test"), Some("2026-12-10"))
        );
    }

    #[test]
    fn step1_only_the_incident_manager_or_the_owner() {
        halts_at(
            try_apply::<UpdateAction>(&reviewed(), &as_role(Role::L3), &input()),
            Kind::Forbidden,
            "is neither",
            UpdateAction::step(1),
            Some("owner"),
        );
        halts(
            try_apply::<UpdateAction>(&reviewed(), "ghost@x.test", &input()),
            Kind::Forbidden,
            "not a registered person",
        );
    }

    #[test]
    fn step2_the_review_and_the_item_exist() {
        let snap = snapshot(Some(&incident(Status::Resolved)));
        halts_at(
            try_apply::<UpdateAction>(&snap, &as_role(Role::IncidentManager), &input()),
            Kind::Invalid,
            "no such pir",
            UpdateAction::step(2),
            Some("id"),
        );
        for item in [0, 2] {
            let i = Input { item, ..input() };
            halts_at(
                try_apply::<UpdateAction>(&reviewed(), &as_role(Role::IncidentManager), &i),
                Kind::Invalid,
                &format!("action items 1 to 1, not {item}"),
                UpdateAction::step(2),
                Some("item"),
            );
        }
    }

    #[test]
    fn step2_owner_and_due_are_checked() {
        let i = Input { owner: Some("ghost@x.test".into()), ..input() };
        halts_at(
            try_apply::<UpdateAction>(&reviewed(), &as_role(Role::IncidentManager), &i),
            Kind::Invalid,
            "action owner",
            UpdateAction::step(2),
            Some("action owner"),
        );
        let i = Input { due: Some("next week".into()), ..input() };
        halts_at(
            try_apply::<UpdateAction>(&reviewed(), &as_role(Role::IncidentManager), &i),
            Kind::Invalid,
            "action due",
            UpdateAction::step(2),
            Some("action due"),
        );
    }

    #[test]
    fn step3_something_changes() {
        let i = Input { status: Some(ActionStatus::Open), ..input() };
        halts_at(
            try_apply::<UpdateAction>(&reviewed(), &as_role(Role::IncidentManager), &i),
            Kind::Invalid,
            "nothing changes",
            UpdateAction::step(2),
            None,
        );
    }
}
