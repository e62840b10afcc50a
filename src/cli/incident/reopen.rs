//! `ims incident reopen`: reopen a resolved incident.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::incident::reopen;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ReopenArgs {
    pub id: String,
    #[arg(long)]
    pub reason: String,
}

pub fn run(env: &Env, repo: &Repo, a: ReopenArgs) -> Result<()> {
    env.run::<reopen::Reopen>(repo, &reopen::Input { id: resolve(repo, &a.id)?, reason: a.reason })
}
