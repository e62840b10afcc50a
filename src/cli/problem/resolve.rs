//! `ims problem resolve`: with the evidence that the cause is gone.

use clap::Args;

use crate::cli::resolve as id;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::problem::resolve;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ResolveArgs {
    pub id: String,
    #[arg(long)]
    pub evidence: String,
}

pub fn run(env: &Env, repo: &Repo, a: ResolveArgs) -> Result<()> {
    env.run::<resolve::Resolve>(repo, &resolve::Input { id: id(repo, &a.id)?, evidence: a.evidence })
}
