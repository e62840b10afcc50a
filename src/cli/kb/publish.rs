//! `ims kb publish`: publish; the version goes up.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::kb::publish;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct PublishArgs {
    pub id: String,
}

pub fn run(env: &Env, repo: &Repo, a: PublishArgs) -> Result<()> {
    env.run::<publish::Publish>(repo, &publish::Input { id: resolve(repo, &a.id)? })
}
