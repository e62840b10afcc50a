//! `tool.record/1` — policy procedure 17, Tool & Automation Usage.
//!
//! Policy steps:
//! 1. Validate the actor (staff) and that the tool is an allowed one.
//! 2. Validate the action summary and outcome, and the incident it served, if any.
//! 3. Record them (ims executes nothing). Audit: `tool_use`.

use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
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
        ctx.require_staff("tool record")?;
        let rid = crate::procedures::new_id(ctx, &input.id, RecordKind::Tool)?;
        let incident_id = match &input.incident {
            Some(id) => Some(crate::procedures::incident::load(ctx, id)?.0.id),
            None => None,
        };
        let usage = ToolUsage {
            schema: activity::TOOL_SCHEMA.into(),
            tool_usage_id: rid.id.clone(),
            tool_used: input.tool,
            summary: hygiene::text("summary", &input.summary, Shape::Text)?,
            outcome: hygiene::text("outcome", &input.outcome, Shape::Text)?,
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
