//! `ims change close`: close a reviewed or rejected change.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::change::close;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct CloseArgs {
    pub id: String,
}

pub fn run(env: &Env, repo: &Repo, a: CloseArgs) -> Result<()> {
    env.run::<close::Close>(repo, &close::Input { id: resolve(repo, &a.id)? })
}
