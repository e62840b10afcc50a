//! `ims incident escalate`: escalate to a team or the incident manager.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::procedures::incident::escalate;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct EscalateArgs {
    pub id: String,
    #[arg(long)]
    pub to: String,
    #[arg(long)]
    pub reason: String,
}

pub fn run(env: &Env, repo: &Repo, a: EscalateArgs) -> Result<()> {
    let input = escalate::Input {
        id: resolve(repo, &a.id)?,
        to: parse(&a.to)?,
        reason: a.reason,
        communication_id: super::com_id(env.now(repo)?),
    };
    env.run::<escalate::Escalate>(repo, &input)
}
