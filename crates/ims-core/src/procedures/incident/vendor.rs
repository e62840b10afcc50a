//! `incident.vendor/1` — policy procedure 9, Vendor Engagement.
//!
//! Policy steps:
//! 1. Validate the actor (L2, L3, devops, facilities, service_desk_manager,
//!    incident_manager) and the incident (in_progress or escalated).
//! 2. Validate the vendor context and contact method (`phone`, `email`,
//!    `vendor_portal`, `API`; the CLI parses it).
//! 3. Create the vendor engagement and set `status=pending_vendor` (the SLA clock
//!    pauses). Audit: `vendor_engagement`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, ContactMethod, Role, Status};
use crate::model::incident::VendorEngagement;

pub struct Vendor;

/// Who may engage a vendor and record its answer.
pub const ROLES: &[Role] =
    &[Role::L2, Role::L3, Role::Devops, Role::Facilities, Role::ServiceDeskManager, Role::IncidentManager];

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub vendor: String,
    pub contact_method: ContactMethod,
    pub vendor_ref: Option<String>,
    pub vendor_engagement_id: String,
}

impl Procedure for Vendor {
    const ID: &'static str = "incident.vendor/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require(ROLES, "incident vendor").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(&inc, "vendor", &[Status::InProgress, Status::Escalated]).at(Self::step(1))?;
        let vendor = hygiene::text(ctx.rules, "vendor", &input.vendor, Shape::Line).at(Self::step(2))?;
        let vendor_ref =
            hygiene::optional(ctx.rules, "vendor-ref", input.vendor_ref.as_deref(), Shape::Line).at(Self::step(2))?;
        inc.vendor_engagements.push(VendorEngagement {
            vendor_engagement_id: super::sub_id(&input.vendor_engagement_id, "VEN").at(Self::step(3))?,
            vendor: vendor.clone(),
            contact_method: input.contact_method,
            vendor_ref,
            engaged_by: ctx.actor.into(),
            engaged_at: ctx.now,
            resumed_at: None,
            summary: None,
        });
        inc.set_status(ctx.now, ctx.actor, Status::PendingVendor);
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: engage vendor {vendor} on {}", rid.id))
            .line(format!("Contact: {}", input.contact_method))
            .action(AuditAction::VendorEngagement, "incident", &rid.id)
            .fields(&["vendor_engagements", "status", "timeline"]);
        effect.write_main(&rid.path(), &rid.id, &inc)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input {
            id: ID.into(),
            vendor: "Acme DB".into(),
            contact_method: ContactMethod::Api,
            vendor_ref: Some("T-1".into()),
            vendor_engagement_id: "VEN-20261126-0000000001".into(),
        }
    }

    #[test]
    fn pauses_in_pending_vendor() {
        let i = written(&apply::<Vendor>(&incident(Status::InProgress), &as_role(Role::L2), &input()).unwrap());
        assert_eq!(i.status, Status::PendingVendor);
        assert_eq!(i.vendor_engagements[0].vendor, "Acme DB");
    }

    #[test]
    fn step1_roles_and_state() {
        halts_at(
            apply::<Vendor>(&incident(Status::InProgress), &as_role(Role::L1), &input()),
            Kind::Forbidden,
            "needs one of",
            Vendor::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Vendor>(&incident(Status::Open), &as_role(Role::L2), &input()),
            Kind::Precondition,
            "open",
            Vendor::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_vendor_context() {
        let mut i = input();
        i.vendor = "".into();
        halts_at(
            apply::<Vendor>(&incident(Status::InProgress), &as_role(Role::L2), &i),
            Kind::Invalid,
            "vendor",
            Vendor::step(2),
            Some("vendor"),
        );
        halts("fax".parse::<ContactMethod>(), Kind::Invalid, "contact method");
    }
}
