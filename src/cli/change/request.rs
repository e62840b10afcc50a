//! `ims change request`: request a change.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse_opt, resolve};
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::model::change::ChangeType;
use crate::model::enums::Level;
use crate::procedures::change::request;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct RequestArgs {
    #[arg(long)]
    pub summary: String,
    /// standard, normal (default) or emergency.
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// low, medium (default) or high: sets how many approvals it needs.
    #[arg(long)]
    pub risk: Option<String>,
    #[arg(long = "incident")]
    pub incidents: Vec<String>,
    #[arg(long = "problem")]
    pub problems: Vec<String>,
}

pub fn run(env: &Env, repo: &Repo, a: RequestArgs) -> Result<()> {
    let input = request::Input {
        id: new_id(RecordKind::Change, env.now(repo)?),
        summary: a.summary,
        kind: parse_opt(a.kind.as_deref())?.unwrap_or(ChangeType::Normal),
        risk: parse_opt(a.risk.as_deref())?.unwrap_or(Level::Medium),
        incidents: a.incidents.iter().map(|i| resolve(repo, i)).collect::<Result<_>>()?,
        problems: a.problems.iter().map(|i| resolve(repo, i)).collect::<Result<_>>()?,
    };
    env.run::<request::Request>(repo, &input)
}
