//! `incident.link-change/1` — policy procedure 10, Change Coordination.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the incident (not closed).
//! 2. Validate the approvals: the change must be approved (or further along).
//! 3. Link the change to the incident, both ways. Audit: `update` field=change_link
//!    on the incident, `link` on the change.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
use crate::model::enums::AuditAction;

pub struct LinkChange;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub change: String,
}

impl Procedure for LinkChange {
    const ID: &'static str = "incident.link-change/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident link-change")?;
        let (irid, mut inc) = super::load(ctx, &input.id)?;
        super::require_open(&inc, "link-change")?;
        let (crid, mut change) = crate::procedures::change::load(ctx, &input.change)?;
        if !change.is_approved() {
            return Err(Error::precondition(format!(
                "change {}: link-change needs an approved change, it is {} ({})",
                crid.id, change.status, change.approval_status
            )));
        }
        let fresh = crate::procedures::link(&mut inc.change_ids, &crid.id);
        crate::procedures::link(&mut change.incident_ids, &irid.id);
        if !fresh {
            return Err(Error::precondition(format!("{} and {} are already linked", irid.id, crid.id)));
        }
        inc.updated_at = ctx.now;
        change.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: link {} to change {}", irid.id, crid.id))
            .action(AuditAction::Update, "incident", &irid.id)
            .action(AuditAction::Link, "change", &crid.id)
            .fields(&["change_ids", "incident_ids"]);
        effect.write(&crid.path(), &change)?;
        effect.write_main(&irid.path(), &irid.id, &inc)?;
        Ok(effect)
    }
}
