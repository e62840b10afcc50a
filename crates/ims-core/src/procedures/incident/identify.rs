//! `incident.identify/1` — policy procedure 2, Incident Identification.
//!
//! Policy steps:
//! 1. Validate the reporter (a registered person; staff may report for an end user).
//! 2. Validate the inputs (title, service, source, description).
//! 3. Confirm the event qualifies (the service is one the organisation runs).
//! 4. Create the incident with `status=open`. Audit: `identify`, ref=incident.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::{RecordId, RecordKind};
use crate::model::enums::{AuditAction, Source, Status};
use crate::model::incident::Incident;
use crate::model::{self};

pub struct Identify;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub title: String,
    pub service: String,
    pub source: Source,
    pub reporter: Option<String>,
    pub description: Option<String>,
}

impl Procedure for Identify {
    const ID: &'static str = "incident.identify/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        // 1. The reporter.
        let actor = ctx.person().at(Self::step(1))?;
        let reporter = match &input.reporter {
            Some(r) if r != ctx.actor => {
                if !actor.is_staff() {
                    return Err(Error::forbidden(format!(
                        "incident identify: only staff report on behalf of someone else; {} is not staff",
                        ctx.actor
                    ))
                    .at(Self::step(1))
                    .field("reporter"));
                }
                super::registered(ctx, "reporter", r).at(Self::step(1))?;
                r.clone()
            }
            _ => ctx.actor.to_string(),
        };
        // 2. The inputs.
        let rid = RecordId::parse(&input.id, "id").at(Self::step(2)).field("id")?;
        if rid.kind != RecordKind::Incident {
            return Err(Error::invalid(format!("id: {} is not an incident id", input.id))
                .at(Self::step(2))
                .field("id"));
        }
        let title = hygiene::text(ctx.rules, "title", &input.title, Shape::Line).at(Self::step(2))?;
        let service = hygiene::text(ctx.rules, "service", &input.service, Shape::Line).at(Self::step(2))?;
        let description =
            hygiene::optional(ctx.rules, "description", input.description.as_deref(), Shape::Text).at(Self::step(2))?;
        // 3. The event qualifies.
        let config = model::config(ctx.snap)?;
        if !config.services.is_empty() && !config.services.contains(&service) {
            return Err(Error::invalid(format!(
                "service: `{service}` is not one of the services in ims.yaml ({})",
                config.services.join(", ")
            ))
            .at(Self::step(3))
            .field("service"));
        }
        if ctx.snap.read(&rid.path())?.is_some() {
            return Err(Error::conflict(format!("{}: an incident with this id exists", rid.id))
                .at(Self::step(4))
                .field("id"));
        }
        // 4. Create it, open.
        let mut incident = Incident {
            incident_id: rid.id.clone(),
            title,
            description,
            service,
            source: input.source,
            reporter,
            reported_by: ctx.actor.into(),
            created_at: ctx.now,
            updated_at: ctx.now,
            ..super::blank()
        };
        incident.track(ctx.now, ctx.actor, "status", None, Some(Status::Open.to_string()));
        let mut effect = Effect::new(format!("incident: identify {} ({})", rid.id, incident.title))
            .action(AuditAction::Identify, "incident", &rid.id)
            .fields(&["status", "title", "service", "source", "reporter"]);
        effect.write_main(&rid.path(), &rid.id, &incident)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::procedures::incident::testing::*;

    fn input() -> Input {
        Input {
            id: "INC-20261126-0000000002".into(),
            title: "Checkout fails".into(),
            service: "shop".into(),
            source: Source::UserReport,
            reporter: None,
            description: None,
        }
    }

    fn run(actor: &str, input: &Input) -> Result<Effect> {
        apply::<Identify>(&incident(Status::Open), actor, input)
    }

    #[test]
    fn creates_an_open_incident() {
        let e = run("user@x.test", &input()).unwrap();
        let rec = e.record.unwrap();
        assert_eq!(rec["status"], "open");
        assert_eq!(rec["reporter"], "user@x.test");
    }

    #[test]
    fn step1_reporter_must_be_registered_and_only_staff_report_for_others() {
        halts_at(
            run("nobody@x.test", &input()),
            Kind::Forbidden,
            "not a registered person",
            Identify::step(1),
            Some("actor"),
        );
        let mut i = input();
        i.reporter = Some("l1@x.test".into());
        halts_at(run("user@x.test", &i), Kind::Forbidden, "only staff", Identify::step(1), Some("reporter"));
        i.reporter = Some("ghost@x.test".into());
        halts_at(
            run(&as_role(Role::ServiceDesk), &i),
            Kind::Invalid,
            "not a registered person",
            Identify::step(1),
            Some("reporter"),
        );
    }

    #[test]
    fn step2_inputs_are_validated() {
        let mut i = input();
        i.title = " ".into();
        halts_at(run("user@x.test", &i), Kind::Invalid, "title", Identify::step(2), Some("title"));
        let mut i = input();
        i.description = Some("password: hunter22hunter".into());
        halts(run("user@x.test", &i), Kind::Invalid, "description");
    }

    #[test]
    fn step3_service_must_be_listed_when_services_are() {
        let mut snap = snapshot(None);
        let mut config = crate::model::config::Config::defaults("T", crate::model::config::Clock::Simulated);
        config.services = vec!["payments".into()];
        snap.files.insert("ims.yaml".into(), crate::yaml::to_canonical(&config).unwrap().into_bytes());
        let ctx = Ctx { snap: &snap, actor: "user@x.test", now: now(), rules: Default::default() };
        halts_at(
            Identify::apply(&ctx, &input()),
            Kind::Invalid,
            "not one of the services",
            Identify::step(3),
            Some("service"),
        );
    }

    #[test]
    fn step4_an_existing_id_is_a_conflict() {
        let mut i = input();
        i.id = ID.into();
        halts_at(run("user@x.test", &i), Kind::Conflict, "exists", Identify::step(4), Some("id"));
    }
}
