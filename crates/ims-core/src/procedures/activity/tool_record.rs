//! `tool.record/1` — policy procedure 17, Tool & Automation Usage.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and that the tool is an allowed one.
//! 2. Validate the action summary and outcome, and the incident it served, if any.
//! 3. Record them (ims executes nothing). Audit: `tool_use`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::RecordKind;
use crate::model::activity::{self, Tool, ToolUsage};
use crate::model::enums::AuditAction;

pub struct Record;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub id: String,
    pub tool: Tool,
    pub summary: String,
    pub outcome: String,
    pub incident: Option<String>,
}

impl Procedure for Record {
    const ID: &'static str = "tool.record/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        ctx.require_staff("tool record").at(Self::step(1))?;
        let rid = crate::procedures::new_id(ctx, &input.id, RecordKind::Tool).at(Self::step(1))?;
        let incident_id = match &input.incident {
            Some(id) => Some(crate::procedures::incident::load(ctx, id).at(Self::step(2)).field("incident")?.0.id),
            None => None,
        };
        let usage = ToolUsage {
            schema: activity::TOOL_SCHEMA.into(),
            tool_usage_id: rid.id.clone(),
            tool_used: input.tool,
            summary: hygiene::text(ctx.rules, "summary", &input.summary, Shape::Text).at(Self::step(2))?,
            outcome: hygiene::text(ctx.rules, "outcome", &input.outcome, Shape::Text).at(Self::step(2))?,
            executor: ctx.actor.into(),
            incident_id,
            created_at: ctx.now,
        };
        let mut effect = Effect::new(format!("tool: record {} use of {}", rid.id, input.tool))
            .action(AuditAction::ToolUse, "tool", &rid.id)
            .fields(&["tool_used", "summary", "outcome"]);
        effect.write_main(&rid.path(), &rid.id, &usage)?;
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::{Role, Status};
    use crate::procedures::testing::*;

    const TOOL: &str = "TOOL-20261126-0000000001";

    fn input() -> Input {
        Input {
            id: TOOL.into(),
            tool: Tool::AiOps,
            summary: "Correlated the pool alerts".into(),
            outcome: "Root cause narrowed to db".into(),
            incident: Some(ID.into()),
        }
    }

    #[test]
    fn records_the_use_and_its_incident() {
        let snap = snapshot(Some(&incident(Status::InProgress)));
        let u: ToolUsage =
            wrote(&try_apply::<Record>(&snap, &as_role(Role::Devops), &input()).unwrap(), RecordKind::Tool, TOOL);
        assert_eq!(
            (u.tool_used, u.executor.as_str(), u.incident_id.as_deref()),
            (Tool::AiOps, "devops@x.test", Some(ID))
        );
        assert_eq!(u.outcome, "Root cause narrowed to db");
    }

    #[test]
    fn step1_only_staff() {
        halts_at(
            try_apply::<Record>(&snapshot(Some(&incident(Status::Open))), "user@x.test", &input()),
            Kind::Forbidden,
            "tool record",
            Record::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_a_new_tool_id() {
        let mut snap = snapshot(Some(&incident(Status::Open)));
        halts(
            try_apply::<Record>(&snap, &as_role(Role::L1), &Input { id: CHG.into(), ..input() }),
            Kind::Invalid,
            "is not a tool id",
        );
        step::<Record>(&mut snap, &as_role(Role::L1), &input());
        halts_at(
            try_apply::<Record>(&snap, &as_role(Role::L1), &input()),
            Kind::Conflict,
            "exists",
            Record::step(1),
            Some("id"),
        );
    }

    #[test]
    fn step2_the_incident_exists_and_summary_and_outcome_are_given() {
        halts_at(
            try_apply::<Record>(&snapshot(None), &as_role(Role::L1), &input()),
            Kind::Invalid,
            "no such incident",
            Record::step(2),
            Some("incident"),
        );
        let snap = snapshot(Some(&incident(Status::Open)));
        halts(
            try_apply::<Record>(&snap, &as_role(Role::L1), &Input { summary: "".into(), ..input() }),
            Kind::Invalid,
            "summary",
        );
        halts(
            try_apply::<Record>(&snap, &as_role(Role::L1), &Input { outcome: "".into(), ..input() }),
            Kind::Invalid,
            "outcome",
        );
    }
}
