//! `ims change reject`: reject, with a reason.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::change::reject;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct RejectArgs {
    pub id: String,
    #[arg(long)]
    pub reason: String,
}

pub fn run(env: &Env, repo: &Repo, a: RejectArgs) -> Result<()> {
    env.run::<reject::Reject>(repo, &reject::Input { id: resolve(repo, &a.id)?, reason: a.reason })
}
