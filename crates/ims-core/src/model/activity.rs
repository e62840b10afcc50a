//! Tool usage (policy procedure 17) and response simulations (procedure 18).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const TOOL_SCHEMA: &str = "tool/1";
pub const SIMULATION_SCHEMA: &str = "simulation/1";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolUsage {
    pub schema: String,
    pub tool_usage_id: String,
    pub tool_used: Tool,
    pub summary: String,
    pub outcome: String,
    pub executor: String,
    pub incident_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

crate::model::enums::policy_enum!(
    /// The tools the policy allows.
    Tool, "tool" {
        Monitoring => "monitoring",
        RootCauseAnalysis => "root_cause_analysis",
        ItsmServiceDesk => "ITSM_service_desk",
        IncidentResponse => "incident_response",
        AiVirtualAgent => "AI_virtual_agent",
        AiOps => "AIOps",
        AutomationScript => "automation_script",
    }
);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Simulation {
    pub schema: String,
    pub simulation_id: String,
    pub scenario: String,
    pub scope: String,
    pub outcomes: String,
    pub simulated_by: String,
    pub created_at: DateTime<Utc>,
}
