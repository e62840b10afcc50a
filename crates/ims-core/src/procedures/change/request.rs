//! `change.request/1` — change coordination: Request.
//!
//! Steps:
//! 1. Validate the actor (staff) and the inputs (summary, type, risk).
//! 2. A standard change must be in the catalogue of `ims.yaml`, and is pre-approved.
//! 3. Create the change; incidents and problems it is for are linked both ways.
//!    Audit: `create`, `link`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::RecordKind;
use crate::model::change::{self, ApprovalStatus, Change, ChangeStatus, ChangeType};
use crate::model::enums::{AuditAction, Level};

pub struct Request;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub summary: String,
    #[serde(rename = "type")]
    pub kind: ChangeType,
    pub risk: Level,
    pub incidents: Vec<String>,
    pub problems: Vec<String>,
}

impl Procedure for Request {
    const ID: &'static str = "change.request/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("change request").at(Self::step(1))?;
        let rid = crate::procedures::new_id(ctx, &input.id, RecordKind::Change).at(Self::step(1))?;
        let summary = hygiene::text(ctx.rules, "summary", &input.summary, Shape::Line).at(Self::step(1))?;
        let config = crate::model::config(ctx.snap)?;
        let standard = input.kind == ChangeType::Standard;
        if standard && !config.changes.standard_catalogue.iter().any(|s| s == &summary) {
            return Err(Error::precondition(format!(
                "change request: `{summary}` is not in the standard-change catalogue (ims.yaml changes.standard_catalogue); \
                 request it as a normal change"
            )).at(Self::step(2)).field("kind"));
        }
        let mut c = Change {
            schema: change::SCHEMA.into(),
            change_id: rid.id.clone(),
            summary,
            kind: input.kind,
            risk: input.risk,
            requester: ctx.actor.into(),
            approval_status: if standard { ApprovalStatus::Approved } else { ApprovalStatus::Pending },
            approvals: vec![],
            approver: None,
            rejection_reason: None,
            status: if standard { ChangeStatus::Approved } else { ChangeStatus::Requested },
            outcome: None,
            review_note: None,
            incident_ids: vec![],
            problem_ids: vec![],
            created_at: ctx.now,
            approved_at: standard.then_some(ctx.now),
            implemented_at: None,
            implemented_by: None,
            reviewed_at: None,
            closed_at: None,
            updated_at: ctx.now,
        };
        let mut effect = Effect::new(format!("change: request {} ({}, {} risk)", rid.id, c.kind, c.risk))
            .line(format!("Summary: {}", c.summary))
            .action(AuditAction::Create, "change", &rid.id)
            .fields(&["status", "approval_status", "summary", "type", "risk"]);
        if standard {
            effect = effect.line("Standard change from the catalogue: pre-approved".to_string());
        }
        for id in &input.incidents {
            let (irid, mut inc) = crate::procedures::incident::load(ctx, id).at(Self::step(3)).field("incidents")?;
            crate::procedures::link(&mut c.incident_ids, &irid.id);
            crate::procedures::link(&mut inc.change_ids, &rid.id);
            inc.updated_at = ctx.now;
            effect.write(&irid.path(), &inc)?;
            effect = effect.action(AuditAction::Link, "incident", &irid.id).fields(&["incident_ids", "change_ids"]);
        }
        for id in &input.problems {
            let (prid, mut p) = crate::procedures::problem::load(ctx, id).at(Self::step(3)).field("problems")?;
            crate::procedures::link(&mut c.problem_ids, &prid.id);
            crate::procedures::link(&mut p.change_ids, &rid.id);
            p.updated_at = ctx.now;
            effect.write(&prid.path(), &p)?;
            effect = effect.action(AuditAction::Link, "problem", &prid.id).fields(&["problem_ids", "change_ids"]);
        }
        effect.write_main(&rid.path(), &rid.id, &c)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::{Role, Status};
    use crate::model::problem::Problem;
    use crate::model::{Config, Incident};
    use crate::procedures::testing::*;

    fn input() -> Input {
        Input {
            id: CHG.into(),
            summary: "Raise the connection pool limit".into(),
            kind: ChangeType::Normal,
            risk: Level::Medium,
            incidents: vec![],
            problems: vec![],
        }
    }

    #[test]
    fn a_normal_change_is_requested_and_linked_both_ways() {
        let mut snap = snapshot(Some(&incident(Status::InProgress)));
        create_problem(&mut snap, &[]);
        let mut i = input();
        i.incidents = vec![ID.into()];
        i.problems = vec![PRB.into()];
        let e = try_apply::<Request>(&snap, &as_role(Role::L2), &i).unwrap();
        let c: Change = wrote(&e, RecordKind::Change, CHG);
        assert_eq!(
            (c.status, c.approval_status, c.approved_at),
            (ChangeStatus::Requested, ApprovalStatus::Pending, None)
        );
        assert_eq!((c.requester.as_str(), c.risk), ("l2@x.test", Level::Medium));
        assert_eq!((c.incident_ids, c.problem_ids), (vec![ID.to_string()], vec![PRB.to_string()]));
        assert_eq!(wrote::<Incident>(&e, RecordKind::Incident, ID).change_ids, [CHG]);
        assert_eq!(wrote::<Problem>(&e, RecordKind::Problem, PRB).change_ids, [CHG]);
    }

    #[test]
    fn step1_only_staff() {
        halts_at(
            try_apply::<Request>(&snapshot(None), "user@x.test", &input()),
            Kind::Forbidden,
            "change request",
            Request::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_the_id_is_new_and_the_summary_given() {
        let mut snap = snapshot(None);
        step::<Request>(&mut snap, &as_role(Role::L2), &input());
        halts_at(
            try_apply::<Request>(&snap, &as_role(Role::L3), &input()),
            Kind::Conflict,
            "exists",
            Request::step(1),
            Some("id"),
        );
        let mut i = input();
        i.summary = "  ".into();
        halts_at(
            try_apply::<Request>(&snapshot(None), &as_role(Role::L2), &i),
            Kind::Invalid,
            "summary",
            Request::step(1),
            Some("summary"),
        );
    }

    #[test]
    fn step2_a_standard_change_comes_from_the_catalogue_and_is_pre_approved() {
        let mut i = input();
        i.kind = ChangeType::Standard;
        let mut snap = snapshot(None);
        halts_at(
            try_apply::<Request>(&snap, &as_role(Role::L2), &i),
            Kind::Precondition,
            "standard_catalogue",
            Request::step(2),
            Some("kind"),
        );
        let mut config = crate::model::config(&snap).unwrap();
        config.changes.standard_catalogue = vec![i.summary.clone()];
        snap.files
            .insert(crate::model::config::PATH.into(), crate::yaml::to_canonical::<Config>(&config).unwrap().into());
        let c: Change = wrote(&try_apply::<Request>(&snap, &as_role(Role::L2), &i).unwrap(), RecordKind::Change, CHG);
        assert_eq!(
            (c.status, c.approval_status, c.approved_at),
            (ChangeStatus::Approved, ApprovalStatus::Approved, Some(now()))
        );
    }

    #[test]
    fn step3_linked_records_must_exist() {
        let mut i = input();
        i.incidents = vec![ID.into()];
        halts_at(
            try_apply::<Request>(&snapshot(None), &as_role(Role::L2), &i),
            Kind::Invalid,
            "no such incident",
            Request::step(3),
            Some("incidents"),
        );
        let mut i = input();
        i.problems = vec![PRB.into()];
        halts_at(
            try_apply::<Request>(&snapshot(None), &as_role(Role::L2), &i),
            Kind::Invalid,
            "no such problem",
            Request::step(3),
            Some("problems"),
        );
    }
}
