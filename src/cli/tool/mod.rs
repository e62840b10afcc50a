//! `ims tool record`, beside `procedures/activity/tool_record.rs`.

mod record;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Record a tool's use: monitoring, root_cause_analysis, ITSM_service_desk,
    /// incident_response, AI_virtual_agent, AIOps or automation_script.
    Record(record::RecordArgs),
}

pub fn run(env: &Env, command: ToolCommand) -> Result<()> {
    let ToolCommand::Record(a) = command;
    record::run(env, &env.repo()?, a)
}
