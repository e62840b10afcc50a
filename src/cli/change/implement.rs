//! `ims change implement`: an approved change was implemented.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::change::implement;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ImplementArgs {
    pub id: String,
}

pub fn run(env: &Env, repo: &Repo, a: ImplementArgs) -> Result<()> {
    env.run::<implement::Implement>(repo, &implement::Input { id: resolve(repo, &a.id)? })
}
