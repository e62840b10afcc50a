//! `ims tool record`: record a tool's use.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::procedures::activity::tool_record;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[arg(long)]
    pub tool: String,
    #[arg(long)]
    pub summary: String,
    #[arg(long)]
    pub outcome: String,
    #[arg(long)]
    pub incident: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: RecordArgs) -> Result<()> {
    let input = tool_record::Input {
        id: new_id(RecordKind::Tool, env.now(repo)?),
        tool: parse(&a.tool)?,
        summary: a.summary,
        outcome: a.outcome,
        incident: a.incident.as_deref().map(|i| resolve(repo, i)).transpose()?,
    };
    env.run::<tool_record::Record>(repo, &input)
}
