//! `problem.update/1` — policy procedure 19, Update.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the problem (not resolved or closed).
//! 2. Update the allowed fields (title, description, service; status only to
//!    under_investigation), re-keying the dedupe key if title or service changed.
//! 3. Field-level audit: `Ims-Fields` names each changed field. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::AuditAction;
use crate::model::problem::{self, ProblemStatus};

pub struct Update;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub service: Option<String>,
    pub status: Option<ProblemStatus>,
}

impl Procedure for Update {
    const ID: &'static str = "problem.update/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("problem update").at(Self::step(1))?;
        let (rid, mut p) = super::load(ctx, &input.id).at(Self::step(1))?;
        super::require_status(
            &p,
            "update",
            &[ProblemStatus::New, ProblemStatus::UnderInvestigation, ProblemStatus::KnownError],
        )
        .at(Self::step(1))?;
        let old = p.clone();
        let mut fields = Vec::new();
        if let Some(t) = hygiene::optional(ctx.rules, "title", input.title.as_deref(), Shape::Line).at(Self::step(2))? {
            fields.push("title");
            p.title = t;
        }
        if let Some(d) =
            hygiene::optional(ctx.rules, "description", input.description.as_deref(), Shape::Text).at(Self::step(2))?
        {
            fields.push("description");
            p.description = d;
        }
        if let Some(s) =
            hygiene::optional(ctx.rules, "service", input.service.as_deref(), Shape::Line).at(Self::step(2))?
        {
            fields.push("service");
            p.service = Some(s);
        }
        if let Some(status) = input.status {
            if status != ProblemStatus::UnderInvestigation {
                return Err(Error::invalid(format!(
                    "status: problem update only moves a problem to under_investigation; {status} has its own procedure"
                ))
                .at(Self::step(2))
                .field("status"));
            }
            if p.status != ProblemStatus::New {
                return Err(Error::precondition(format!("problem {}: already {}", p.problem_id, p.status))
                    .at(Self::step(2))
                    .field("status"));
            }
            p.status = status;
            fields.push("status");
        }
        fields.retain(|f| match *f {
            "title" => p.title != old.title,
            "description" => p.description != old.description,
            "service" => p.service != old.service,
            _ => true,
        });
        if fields.is_empty() {
            return Err(Error::invalid(
                "problem update: nothing changes (give --title, --description, --service or --status)",
            )
            .at(Self::step(2)));
        }
        let mut effect = Effect::new(format!("problem: update {} ({})", rid.id, fields.join(", ")))
            .action(AuditAction::Update, "problem", &rid.id)
            .fields(&fields);
        p.dedupe_key = problem::dedupe_key(p.service.as_deref(), &p.title);
        if p.dedupe_key != old.dedupe_key {
            super::check_dedupe(ctx, &p.dedupe_key, Some(&p.problem_id)).at(Self::step(2))?;
            super::release_key(ctx, &mut effect, &old)?;
            super::hold_key(&mut effect, &p)?;
            effect = effect.fields(&["dedupe_key"]);
        }
        p.updated_at = ctx.now;
        effect.write_main(&rid.path(), &rid.id, &p)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::enums::Role;
    use crate::model::problem::Problem;
    use crate::procedures::problem::{create, resolve};
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input { id: PRB.into(), title: None, description: None, service: None, status: None }
    }

    #[test]
    fn updates_fields_and_moves_the_dedupe_key() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        let old: Problem = stored(&snap, RecordKind::Problem, PRB);
        let mut i = input();
        i.title = Some("Connection pool leaks".into());
        i.status = Some(ProblemStatus::UnderInvestigation);
        let e = step::<Update>(&mut snap, &as_role(Role::L3), &i);
        let p: Problem = wrote(&e, RecordKind::Problem, PRB);
        assert_eq!((p.title.as_str(), p.status), ("Connection pool leaks", ProblemStatus::UnderInvestigation));
        assert_ne!(p.dedupe_key, old.dedupe_key);
        assert_eq!(e.writes.get(&crate::model::keys::path(super::super::KEYS, &old.dedupe_key)), Some(&None));
        assert!(e.writes.contains_key(&crate::model::keys::path(super::super::KEYS, &p.dedupe_key)));
    }

    #[test]
    fn step1_only_staff() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        let mut i = input();
        i.title = Some("x".into());
        halts_at(
            try_apply::<Update>(&snap, "user@x.test", &i),
            Kind::Forbidden,
            "problem update",
            Update::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_only_an_active_problem() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        step::<resolve::Resolve>(
            &mut snap,
            &as_role(Role::L2),
            &resolve::Input { id: PRB.into(), evidence: "Stable for a week".into() },
        );
        let mut i = input();
        i.title = Some("x".into());
        halts_at(
            try_apply::<Update>(&snap, &as_role(Role::L2), &i),
            Kind::Precondition,
            "it is resolved",
            Update::step(1),
            Some("status"),
        );
    }

    #[test]
    fn step2_status_moves_only_from_new_to_under_investigation() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        let mut i = input();
        i.status = Some(ProblemStatus::Resolved);
        halts_at(
            try_apply::<Update>(&snap, &as_role(Role::L2), &i),
            Kind::Invalid,
            "status: problem update only moves",
            Update::step(2),
            Some("status"),
        );
        i.status = Some(ProblemStatus::UnderInvestigation);
        step::<Update>(&mut snap, &as_role(Role::L2), &i);
        halts_at(
            try_apply::<Update>(&snap, &as_role(Role::L2), &i),
            Kind::Precondition,
            "already under_investigation",
            Update::step(2),
            Some("status"),
        );
    }

    #[test]
    fn step2_something_changes() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        halts_at(
            try_apply::<Update>(&snap, &as_role(Role::L2), &input()),
            Kind::Invalid,
            "nothing changes",
            Update::step(2),
            None,
        );
        let p: Problem = stored(&snap, RecordKind::Problem, PRB);
        let mut same = input();
        same.title = Some(p.title);
        halts(try_apply::<Update>(&snap, &as_role(Role::L2), &same), Kind::Invalid, "nothing changes");
    }

    #[test]
    fn step4_the_new_title_does_not_duplicate_an_active_problem() {
        let mut snap = snapshot(None);
        create_problem(&mut snap, &[]);
        let other = create::Input {
            id: "PRB-20261126-0000000002".into(),
            title: "Disk fills up".into(),
            description: "logs".into(),
            source: crate::model::problem::ProblemSource::IncidentTrend,
            service: Some("db".into()),
            incidents: vec![],
        };
        step::<create::Create>(&mut snap, &as_role(Role::L2), &other);
        let mut i = input();
        i.id = other.id;
        i.title = Some("Connection pool exhausted".into());
        halts(try_apply::<Update>(&snap, &as_role(Role::L2), &i), Kind::Conflict, PRB);
    }
}
