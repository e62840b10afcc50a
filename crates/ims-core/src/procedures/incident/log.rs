//! `incident.log/1` — policy procedure 3, Incident Logging.
//!
//! Policy steps:
//! 1. Validate the incident (exists, not closed) and the actor (staff).
//! 2. Append the description, affected service, timestamp and an initial
//!    diagnosis/workaround note. Audit: `create`, ref=incident.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::AuditAction;

pub struct Log;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub description: Option<String>,
    pub service: Option<String>,
    pub diagnosis: Option<String>,
    pub workaround: Option<String>,
}

impl Procedure for Log {
    const ID: &'static str = "incident.log/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("incident log").at(Self::step(1))?;
        let (rid, mut inc) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_open(&inc, "log").at(Self::step(1))?;
        let mut fields = Vec::new();
        if let Some(d) =
            hygiene::optional(ctx.rules, "description", input.description.as_deref(), Shape::Text).at(Self::step(2))?
        {
            inc.description = Some(match inc.description.take() {
                Some(old) => format!("{old}\n\n{d}"),
                None => d,
            });
            fields.push("description");
        }
        if let Some(s) =
            hygiene::optional(ctx.rules, "service", input.service.as_deref(), Shape::Line).at(Self::step(2))?
        {
            let config = crate::model::config(ctx.snap)?;
            if !config.services.is_empty() && !config.services.contains(&s) {
                return Err(Error::invalid(format!("service: `{s}` is not one of the services in ims.yaml"))
                    .at(Self::step(2))
                    .field("service"));
            }
            let from = Some(inc.service.clone());
            inc.service = s.clone();
            inc.track(ctx.now, ctx.actor, "service", from, Some(s));
            fields.push("service");
        }
        let workaround =
            hygiene::optional(ctx.rules, "workaround", input.workaround.as_deref(), Shape::Text).at(Self::step(2))?;
        let steps =
            hygiene::optional(ctx.rules, "diagnosis", input.diagnosis.as_deref(), Shape::Text).at(Self::step(2))?;
        super::record_diagnosis(&mut inc, ctx.now, ctx.actor, steps, workaround, &mut fields);
        if fields.is_empty() {
            return Err(Error::invalid(
                "incident log: nothing to log (give --description, --service, --diagnosis or --workaround)",
            )
            .at(Self::step(2)));
        }
        inc.updated_at = ctx.now;
        let mut effect = Effect::new(format!("incident: log {}", rid.id))
            .action(AuditAction::Create, "incident", &rid.id)
            .fields(&fields);
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
            description: Some("500s on /pay".into()),
            service: None,
            diagnosis: None,
            workaround: Some("retry".into()),
        }
    }

    #[test]
    fn appends_and_marks_workaround() {
        let e = apply::<Log>(&incident(Status::Open), &as_role(Role::L1), &input()).unwrap();
        let i = written(&e);
        assert_eq!(i.description.as_deref(), Some("500s on /pay"));
        assert!(i.workaround_available);
        assert_eq!(e.actions[0].action, AuditAction::Create);
    }

    #[test]
    fn step1_staff_only_and_not_closed() {
        halts_at(
            apply::<Log>(&incident(Status::Open), "user@x.test", &input()),
            Kind::Forbidden,
            "needs one of",
            Log::step(1),
            Some("roles"),
        );
        halts_at(
            apply::<Log>(&incident(Status::Closed), &as_role(Role::L1), &input()),
            Kind::Precondition,
            "closed",
            Log::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_something_must_be_logged() {
        let empty = Input { id: ID.into(), description: None, service: None, diagnosis: None, workaround: None };
        halts_at(
            apply::<Log>(&incident(Status::Open), &as_role(Role::L1), &empty),
            Kind::Invalid,
            "nothing to log",
            Log::step(2),
            None,
        );
    }
}
