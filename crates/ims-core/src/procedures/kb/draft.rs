//! `kb.draft/1` — policy procedure 15, Knowledge Base Update: a new article.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and the inputs (title, type, Markdown body, checked for
//!    secrets like all text).
//! 2. Precondition: an article about an incident needs that incident closed.
//! 3. Create the draft, linked both ways to its incident or problem. Audit: `kb_update`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::RecordKind;
use crate::model::enums::{AuditAction, Status};
use crate::model::kb::{self, Article, ArticleStatus, ArticleType};

pub struct Draft;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub title: String,
    #[serde(rename = "type")]
    pub kind: ArticleType,
    pub body: String,
    pub incident: Option<String>,
    pub problem: Option<String>,
}

impl Procedure for Draft {
    const ID: &'static str = "kb.draft/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("kb draft").at(Self::step(1))?;
        let rid = crate::procedures::new_id(ctx, &input.id, RecordKind::Kb).at(Self::step(1))?;
        let mut a = Article {
            schema: kb::SCHEMA.into(),
            kb_id: rid.id.clone(),
            title: hygiene::text(ctx.rules, "title", &input.title, Shape::Line).at(Self::step(1))?,
            kind: input.kind,
            status: ArticleStatus::Draft,
            version: 0,
            body: hygiene::text(ctx.rules, "body", &input.body, Shape::Document).at(Self::step(1))?,
            author: ctx.actor.into(),
            approver: None,
            incident_ids: vec![],
            problem_ids: vec![],
            change_ids: vec![],
            created_at: ctx.now,
            updated_at: ctx.now,
            published_at: None,
            retired_at: None,
        };
        let mut effect = Effect::new(format!("kb: draft {} ({})", rid.id, a.title))
            .action(AuditAction::KbUpdate, "kb", &rid.id)
            .fields(&["status", "title", "type", "body"]);
        if let Some(id) = &input.incident {
            let (irid, mut inc) = crate::procedures::incident::load(ctx, id).at(Self::step(2)).field("incident")?;
            crate::procedures::incident::require_status(&inc, "kb draft about it", &[Status::Closed])
                .at(Self::step(2))?;
            crate::procedures::link(&mut a.incident_ids, &irid.id);
            crate::procedures::link(&mut inc.kb_ids, &rid.id);
            inc.updated_at = ctx.now;
            effect.write(&irid.path(), &inc)?;
            effect = effect.action(AuditAction::Link, "incident", &irid.id).fields(&["kb_ids", "incident_ids"]);
        }
        if let Some(id) = &input.problem {
            let (prid, mut p) = crate::procedures::problem::load(ctx, id).at(Self::step(3)).field("problem")?;
            crate::procedures::link(&mut a.problem_ids, &prid.id);
            crate::procedures::link(&mut p.kb_ids, &rid.id);
            p.updated_at = ctx.now;
            effect.write(&prid.path(), &p)?;
            effect = effect.action(AuditAction::Link, "problem", &prid.id).fields(&["kb_ids", "problem_ids"]);
        }
        effect.write_main(&rid.path(), &rid.id, &a)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::model::problem::Problem;
    use crate::model::Incident;
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input {
            id: KB.into(),
            title: "Raise the pool when checkout stalls".into(),
            kind: ArticleType::Resolution,
            body: "Raise max_connections to 200.".into(),
            incident: Some(ID.into()),
            problem: Some(PRB.into()),
        }
    }

    #[test]
    fn a_draft_is_written_and_linked_to_its_closed_incident_and_problem() {
        let mut snap = snapshot(Some(&incident(Status::Closed)));
        create_problem(&mut snap, &[]);
        let e = try_apply::<Draft>(&snap, &as_role(Role::L3), &input()).unwrap();
        let a: Article = wrote(&e, RecordKind::Kb, KB);
        assert_eq!((a.status, a.version, a.author.as_str()), (ArticleStatus::Draft, 0, "l3@x.test"));
        assert_eq!((a.incident_ids, a.problem_ids), (vec![ID.to_string()], vec![PRB.to_string()]));
        assert_eq!(wrote::<Incident>(&e, RecordKind::Incident, ID).kb_ids, [KB]);
        assert_eq!(wrote::<Problem>(&e, RecordKind::Problem, PRB).kb_ids, [KB]);
    }

    #[test]
    fn step1_only_staff() {
        halts_at(
            try_apply::<Draft>(&snapshot(None), "user@x.test", &input()),
            Kind::Forbidden,
            "kb draft",
            Draft::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_a_new_id_a_title_and_a_body() {
        let mut snap = snapshot(None);
        draft_article(&mut snap);
        let mut i = input();
        (i.incident, i.problem) = (None, None);
        halts_at(
            try_apply::<Draft>(&snap, &as_role(Role::L2), &i),
            Kind::Conflict,
            "exists",
            Draft::step(1),
            Some("id"),
        );
        let mut i = input();
        i.title = "two\nlines".into();
        halts_at(
            try_apply::<Draft>(&snapshot(None), &as_role(Role::L2), &i),
            Kind::Invalid,
            "title",
            Draft::step(1),
            Some("title"),
        );
        let mut i = input();
        i.body = "".into();
        halts_at(
            try_apply::<Draft>(&snapshot(None), &as_role(Role::L2), &i),
            Kind::Invalid,
            "body",
            Draft::step(1),
            Some("body"),
        );
    }

    #[test]
    fn step2_the_incident_is_closed_policy_15() {
        let mut i = input();
        i.problem = None;
        halts_at(
            try_apply::<Draft>(&snapshot(Some(&incident(Status::Resolved))), &as_role(Role::L2), &i),
            Kind::Precondition,
            "needs status closed, it is resolved",
            Draft::step(2),
            Some("status"),
        );
    }

    #[test]
    fn step3_the_problem_exists() {
        let mut i = input();
        i.incident = None;
        halts_at(
            try_apply::<Draft>(&snapshot(None), &as_role(Role::L2), &i),
            Kind::Invalid,
            "no such problem",
            Draft::step(3),
            Some("problem"),
        );
    }
}
