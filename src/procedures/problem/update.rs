//! `problem.update/1` — policy procedure 19, Update.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the problem (not resolved or closed).
//! 2. Update the allowed fields (title, description, service; status only to
//!    under_investigation), re-keying the dedupe key if title or service changed.
//! 3. Field-level audit: `Ims-Fields` names each changed field. Audit: `update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
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
        ctx.require_staff("problem update")?;
        let (rid, mut p) = super::load(ctx, &input.id)?;
        super::require_status(
            &p,
            "update",
            &[ProblemStatus::New, ProblemStatus::UnderInvestigation, ProblemStatus::KnownError],
        )?;
        let old = p.clone();
        let mut fields = Vec::new();
        if let Some(t) = hygiene::optional("title", input.title.as_deref(), Shape::Line)? {
            fields.push("title");
            p.title = t;
        }
        if let Some(d) = hygiene::optional("description", input.description.as_deref(), Shape::Text)? {
            fields.push("description");
            p.description = d;
        }
        if let Some(s) = hygiene::optional("service", input.service.as_deref(), Shape::Line)? {
            fields.push("service");
            p.service = Some(s);
        }
        if let Some(status) = input.status {
            if status != ProblemStatus::UnderInvestigation {
                return Err(Error::invalid(format!(
                    "status: problem update only moves a problem to under_investigation; {status} has its own procedure"
                )));
            }
            if p.status != ProblemStatus::New {
                return Err(Error::precondition(format!("problem {}: already {}", p.problem_id, p.status)));
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
            ));
        }
        let mut effect = Effect::new(format!("problem: update {} ({})", rid.id, fields.join(", ")))
            .action(AuditAction::Update, "problem", &rid.id)
            .fields(&fields);
        p.dedupe_key = problem::dedupe_key(p.service.as_deref(), &p.title);
        if p.dedupe_key != old.dedupe_key {
            super::check_dedupe(ctx, &p.dedupe_key, Some(&p.problem_id))?;
            super::release_key(ctx, &mut effect, &old)?;
            super::hold_key(&mut effect, &p)?;
            effect = effect.fields(&["dedupe_key"]);
        }
        p.updated_at = ctx.now;
        effect.write_main(&rid.path(), &rid.id, &p)?;
        Ok(effect)
    }
}
