//! `incident.link-change/1` — policy procedure 10, Change Coordination.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the incident (not closed).
//! 2. Validate the approvals: the change must be approved (or further along).
//! 3. Link the change to the incident, both ways. Audit: `update` field=change_link
//!    on the incident, `link` on the change.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
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
        ctx.require_staff("incident link-change").at(Self::step(1))?;
        let (irid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_open(&inc, "link-change").at(Self::step(1))?;
        let (crid, mut change) =
            crate::procedures::change::load(ctx, &input.change).at(Self::step(2)).field("change")?;
        if !change.is_approved() {
            return Err(Error::precondition(format!(
                "change {}: link-change needs an approved change, it is {} ({})",
                crid.id, change.status, change.approval_status
            ))
            .at(Self::step(2))
            .field("change"));
        }
        let fresh = crate::procedures::link(&mut inc.change_ids, &crid.id);
        crate::procedures::link(&mut change.incident_ids, &irid.id);
        if !fresh {
            return Err(Error::precondition(format!("{} and {} are already linked", irid.id, crid.id))
                .at(Self::step(3))
                .field("change"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::change::Change;
    use crate::model::enums::{Level, Role, Status};
    use crate::model::Incident;
    use crate::procedures::change::approve;
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input { id: ID.into(), change: CHG.into() }
    }

    fn approved_change(status: Status) -> MemSnapshot {
        let mut snap = snapshot(Some(&incident(status)));
        request_change(&mut snap, Level::Low);
        step::<approve::Approve>(&mut snap, &as_role(Role::ChangeMgmt), &approve::Input { id: CHG.into(), note: None });
        snap
    }

    #[test]
    fn links_an_approved_change_both_ways() {
        let e = try_apply::<LinkChange>(&approved_change(Status::InProgress), &as_role(Role::L2), &input()).unwrap();
        assert_eq!(wrote::<Incident>(&e, RecordKind::Incident, ID).change_ids, [CHG]);
        assert_eq!(wrote::<Change>(&e, RecordKind::Change, CHG).incident_ids, [ID]);
        assert_eq!(e.actions[0].action, AuditAction::Update);
    }

    #[test]
    fn step1_only_staff_on_an_open_incident() {
        halts_at(
            try_apply::<LinkChange>(&approved_change(Status::InProgress), "user@x.test", &input()),
            Kind::Forbidden,
            "link-change",
            LinkChange::step(1),
            Some("roles"),
        );
        halts_at(
            try_apply::<LinkChange>(&approved_change(Status::Closed), &as_role(Role::L2), &input()),
            Kind::Precondition,
            "not allowed on a closed incident",
            LinkChange::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_the_change_is_approved() {
        let mut snap = snapshot(Some(&incident(Status::InProgress)));
        request_change(&mut snap, Level::Low);
        halts_at(
            try_apply::<LinkChange>(&snap, &as_role(Role::L2), &input()),
            Kind::Precondition,
            "needs an approved change, it is requested (pending)",
            LinkChange::step(2),
            Some("change"),
        );
    }

    #[test]
    fn step3_not_twice() {
        let mut snap = approved_change(Status::InProgress);
        step::<LinkChange>(&mut snap, &as_role(Role::L2), &input());
        halts_at(
            try_apply::<LinkChange>(&snap, &as_role(Role::L2), &input()),
            Kind::Precondition,
            "already linked",
            LinkChange::step(3),
            Some("change"),
        );
    }
}
