//! `pir.action/1` — an action item of a post-incident review moves on.
//!
//! Steps:
//! 1. Validate the actor: an incident manager, or the item's owner.
//! 2. Validate the item number, its new status, owner and due date.
//! 3. Record the change. Audit: `update`, field=action_items.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
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
        let person = ctx.person()?;
        let (rid, mut review) = crate::procedures::load::<Review>(ctx, &input.id, RecordKind::Pir)?;
        let count = review.action_items.len();
        let item = input.item.checked_sub(1).and_then(|i| review.action_items.get_mut(i)).ok_or_else(|| {
            Error::invalid(format!("item: {} has action items 1 to {count}, not {}", rid.id, input.item))
        })?;
        if !person.has_role(Role::IncidentManager) && item.owner.as_deref() != Some(ctx.actor) {
            return Err(Error::forbidden(format!(
                "pir action: only an incident manager or the item's owner may update it; {} is neither",
                ctx.actor
            )));
        }
        let checked = crate::procedures::incident::review::check_action(
            ctx,
            &crate::procedures::incident::review::ActionInput {
                action: item.action.clone(),
                owner: input.owner.clone().or(item.owner.clone()),
                due: input.due.clone().or(item.due.clone()),
            },
        )?;
        let before = item.clone();
        item.owner = checked.owner;
        item.due = checked.due;
        if let Some(s) = input.status {
            item.status = s;
        }
        if *item == before {
            return Err(Error::invalid("pir action: nothing changes (give --status, --owner or --due)"));
        }
        let summary = format!("pir: action {} of {} is {}", input.item, rid.id, item.status);
        review.updated_at = ctx.now;
        let mut effect = Effect::new(summary).action(AuditAction::Update, "pir", &rid.id).fields(&["action_items"]);
        effect.write_main(&rid.path(), &rid.id, &review)?;
        Ok(effect)
    }
}
