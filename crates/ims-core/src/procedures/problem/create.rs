//! `problem.create/1` — policy procedure 19, Create.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the inputs (title, description, source, service).
//! 2. Dedupe: an active problem with the same normalized title on the same service
//!    halts with `conflict`, naming it.
//! 3. Create the problem (`new`), holding its dedupe key under `records/keys/`.
//! 4. Optionally link incidents, both records updated. Audit: `create`, `link`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::RecordKind;
use crate::model::enums::AuditAction;
use crate::model::problem::{self, Problem, ProblemSource, ProblemStatus};

pub struct Create;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub title: String,
    pub description: String,
    pub source: ProblemSource,
    pub service: Option<String>,
    pub incidents: Vec<String>,
}

impl Procedure for Create {
    const ID: &'static str = "problem.create/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("problem create").at(Self::step(1))?;
        let rid = crate::procedures::new_id(ctx, &input.id, RecordKind::Problem).at(Self::step(1))?;
        let title = hygiene::text(ctx.rules, "title", &input.title, Shape::Line).at(Self::step(1))?;
        let description = hygiene::text(ctx.rules, "description", &input.description, Shape::Text).at(Self::step(1))?;
        let service =
            hygiene::optional(ctx.rules, "service", input.service.as_deref(), Shape::Line).at(Self::step(1))?;
        if let Some(s) = &service {
            let config = crate::model::config(ctx.snap)?;
            if !config.services.is_empty() && !config.services.contains(s) {
                return Err(Error::invalid(format!("service: `{s}` is not one of the services in ims.yaml"))
                    .at(Self::step(1))
                    .field("service"));
            }
        }
        let dedupe_key = problem::dedupe_key(service.as_deref(), &title);
        super::check_dedupe(ctx, &dedupe_key, None).at(Self::step(2))?;
        let mut p = Problem {
            schema: problem::SCHEMA.into(),
            problem_id: rid.id.clone(),
            title,
            description,
            source: input.source,
            service,
            status: ProblemStatus::New,
            known_error: false,
            workaround: None,
            evidence: None,
            dedupe_key,
            incident_ids: vec![],
            change_ids: vec![],
            kb_ids: vec![],
            created_by: ctx.actor.into(),
            created_at: ctx.now,
            updated_at: ctx.now,
            known_error_at: None,
            resolved_at: None,
            resolved_by: None,
            closed_at: None,
            closed_by: None,
        };
        let mut effect = Effect::new(format!("problem: create {} ({})", rid.id, p.title))
            .action(AuditAction::Create, "problem", &rid.id)
            .fields(&["status", "title", "description", "source", "service"]);
        for inc_id in &input.incidents {
            let (irid, mut inc) =
                crate::procedures::incident::load(ctx, inc_id).at(Self::step(4)).field("incidents")?;
            crate::procedures::link(&mut p.incident_ids, &irid.id);
            crate::procedures::link(&mut inc.problem_ids, &rid.id);
            inc.updated_at = ctx.now;
            effect.write(&irid.path(), &inc)?;
            effect = effect.action(AuditAction::Link, "incident", &irid.id).fields(&["incident_ids", "problem_ids"]);
        }
        super::hold_key(&mut effect, &p)?;
        effect.write_main(&rid.path(), &rid.id, &p)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::{Role, Status};
    use crate::procedures::incident::testing::*;

    pub fn input() -> Input {
        Input {
            id: "PRB-20261126-0000000001".into(),
            title: "Connection pool exhausted".into(),
            description: "db pool runs dry at peak".into(),
            source: ProblemSource::IncidentTrend,
            service: Some("db".into()),
            incidents: vec![ID.into()],
        }
    }

    #[test]
    fn creates_and_links_both_ways() {
        let e = apply::<Create>(&incident(Status::Closed), &as_role(Role::L2), &input()).unwrap();
        assert_eq!(written(&e).problem_ids, ["PRB-20261126-0000000001"]);
        assert_eq!(e.record.unwrap()["incident_ids"][0], ID);
        assert!(e.writes.keys().any(|k| k.starts_with("records/keys/problems/")));
    }

    #[test]
    fn step1_staff_and_inputs() {
        halts_at(
            apply::<Create>(&incident(Status::Open), "user@x.test", &input()),
            Kind::Forbidden,
            "needs one of",
            Create::step(1),
            Some("roles"),
        );
        let mut i = input();
        i.description = "".into();
        halts_at(
            apply::<Create>(&incident(Status::Open), &as_role(Role::L2), &i),
            Kind::Invalid,
            "description",
            Create::step(1),
            Some("description"),
        );
    }

    #[test]
    fn step2_a_similar_active_problem_is_a_conflict() {
        let mut snap = snapshot(Some(&incident(Status::Open)));
        let ctx = Ctx { snap: &snap, actor: "l2@x.test", now: now(), rules: Default::default() };
        let first = Create::apply(&ctx, &input()).unwrap();
        for (path, bytes) in first.writes {
            snap.files.insert(path, bytes.unwrap());
        }
        let ctx = Ctx { snap: &snap, actor: "l2@x.test", now: now(), rules: Default::default() };
        let mut again = input();
        again.id = "PRB-20261126-0000000002".into();
        again.title = "exhausted: the connection-pool!".into();
        halts_at(
            Create::apply(&ctx, &again),
            Kind::Conflict,
            "PRB-20261126-0000000001",
            Create::step(2),
            Some("title"),
        );
    }

    #[test]
    fn step4_linked_incidents_must_exist() {
        let mut i = input();
        i.incidents = vec!["INC-20261126-0000000009".into()];
        halts_at(
            apply::<Create>(&incident(Status::Open), &as_role(Role::L2), &i),
            Kind::Invalid,
            "no such incident",
            Create::step(4),
            Some("incidents"),
        );
    }
}
