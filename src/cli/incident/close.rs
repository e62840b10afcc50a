//! `ims incident close`: close a resolved incident.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::incident::close;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct CloseArgs {
    pub id: String,
    #[arg(long)]
    pub notes: String,
}

pub fn run(env: &Env, repo: &Repo, a: CloseArgs) -> Result<()> {
    env.run::<close::Close>(repo, &close::Input { id: resolve(repo, &a.id)?, notes: a.notes })
}
