//! `ims incident assign`: assign to a team and acknowledge.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::procedures::incident::assign;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct AssignArgs {
    pub id: String,
    #[arg(long)]
    pub team: String,
    #[arg(long)]
    pub assignee: Option<String>,
    /// The acknowledgement sent to the reporter (default: a standard text).
    #[arg(long)]
    pub message: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: AssignArgs) -> Result<()> {
    let input = assign::Input {
        id: resolve(repo, &a.id)?,
        team: parse(&a.team)?,
        assignee: super::email(repo, a.assignee)?,
        message: a.message,
        communication_id: super::com_id(env.now(repo)?),
    };
    env.run::<assign::Assign>(repo, &input)
}
