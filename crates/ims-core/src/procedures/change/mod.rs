//! Change coordination: request, approve, reject, implement, review, close, one file
//! each; linking an approved change to an incident is `incident.link-change`.

pub mod approve;
pub mod close;
pub mod implement;
pub mod reject;
pub mod request;
pub mod review;

use crate::engine::Ctx;
use crate::error::Result;
use crate::ids::RecordId;
use crate::model::change::{Change, ChangeStatus};
use crate::model::enums::Role;

/// Who approves, rejects, reviews and closes changes.
pub const GOVERNORS: &[Role] = &[Role::ChangeMgmt, Role::IncidentManager];

pub fn load(ctx: &Ctx, id: &str) -> Result<(RecordId, Change)> {
    super::load_record(ctx, id)
}

/// Halts unless the change is in one of `allowed` statuses.
pub fn require_status(c: &Change, what: &str, allowed: &[ChangeStatus]) -> Result<()> {
    super::require_status(c, what, allowed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::enums::Level;
    use crate::procedures::testing::*;

    #[test]
    fn require_status_names_the_change_the_step_and_both_statuses() {
        let mut snap = snapshot(None);
        request_change(&mut snap, Level::Low);
        let c: Change = stored(&snap, RecordKind::Change, CHG);
        assert!(require_status(&c, "approve", &[ChangeStatus::Requested]).is_ok());
        halts(
            require_status(&c, "close", &[ChangeStatus::Reviewed, ChangeStatus::Rejected]),
            Kind::Precondition,
            &format!("change {CHG}: close needs status reviewed or rejected, it is requested"),
        );
    }
}
