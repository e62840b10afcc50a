//! `incident.notify/1` — policy procedure 12, Communication Updates.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the incident (exists, not closed).
//! 2. Validate the recipients group (the CLI parses it) and the message.
//! 3. Record the message (status/ETA/resolution) as a communication. Audit: `notify`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Channel, Recipients};

pub struct Notify;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub to: Recipients,
    pub message: String,
    pub channel: Channel,
    pub communication_id: String,
}

impl Procedure for Notify {
    const ID: &'static str = "incident.notify/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident notify").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_open(&inc, "notify").at(Self::step(1))?;
        let message = hygiene::text(ctx.rules, "message", &input.message, Shape::Text).at(Self::step(2))?;
        super::communicate(&mut inc, &input.communication_id, input.to, message, ctx.actor, input.channel, ctx.now)
            .at(Self::step(3))?;
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: notify {} on {}", input.to, rid.id))
            .line(format!("Channel: {}", input.channel))
            .action(AuditAction::Notify, "incident", &rid.id)
            .fields(&["communications"]);
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
        Input {
            id: ID.into(),
            to: Recipients::Stakeholders,
            message: "ETA 30 minutes".into(),
            channel: Channel::Email,
            communication_id: "COM-20261126-0000000009".into(),
        }
    }

    #[test]
    fn records_the_message() {
        let i =
            written(&apply::<Notify>(&incident(Status::InProgress), &as_role(Role::ServiceDesk), &input()).unwrap());
        assert_eq!(i.communications[0].message, "ETA 30 minutes");
        assert_eq!(i.communications[0].channel, Channel::Email);
    }

    #[test]
    fn step1_staff_and_not_closed() {
        halts_at(
            apply::<Notify>(&incident(Status::InProgress), "user@x.test", &input()),
            Kind::Forbidden,
            "needs one of",
            Notify::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Notify>(&incident(Status::Closed), &as_role(Role::L1), &input()),
            Kind::Precondition,
            "closed",
            Notify::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_message_required_and_clean() {
        let mut i = input();
        i.message = "login with https://root:toor1234@db.internal/".into();
        halts_at(
            apply::<Notify>(&incident(Status::InProgress), &as_role(Role::L1), &i),
            Kind::Invalid,
            "password in a URL",
            Notify::step(2),
            Some("message"),
        );
        halts("everyone".parse::<Recipients>(), Kind::Invalid, "recipients");
    }
}
