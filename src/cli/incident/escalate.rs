//! `ims incident escalate`: escalate to a team or the incident manager.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::procedures::incident::escalate;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct EscalateArgs {
    /// The incident: its id or any unambiguous prefix.
    pub id: String,
    /// Where to: L1, L2, L3, devops, facilities, change_mgmt or incident_manager.
    #[arg(long)]
    pub to: String,
    /// Why it needs them.
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
