//! `ims incident prioritize`: priority and severity, or impact and urgency.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse_opt, resolve};
use crate::error::Result;
use crate::procedures::incident::prioritize;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct PrioritizeArgs {
    pub id: String,
    #[arg(long)]
    pub priority: Option<String>,
    #[arg(long)]
    pub severity: Option<String>,
    #[arg(long)]
    pub impact: Option<String>,
    #[arg(long)]
    pub urgency: Option<String>,
    #[arg(long)]
    pub justification: String,
}

pub fn run(env: &Env, repo: &Repo, a: PrioritizeArgs) -> Result<()> {
    let input = prioritize::Input {
        id: resolve(repo, &a.id)?,
        priority: parse_opt(a.priority.as_deref())?,
        severity: parse_opt(a.severity.as_deref())?,
        impact: parse_opt(a.impact.as_deref())?,
        urgency: parse_opt(a.urgency.as_deref())?,
        justification: a.justification,
        communication_id: super::com_id(env.now(repo)?),
    };
    env.run::<prioritize::Prioritize>(repo, &input)
}
