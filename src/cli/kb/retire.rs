//! `ims kb retire`: retire an article that no longer applies.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::kb::retire;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct RetireArgs {
    pub id: String,
}

pub fn run(env: &Env, repo: &Repo, a: RetireArgs) -> Result<()> {
    env.run::<retire::Retire>(repo, &retire::Input { id: resolve(repo, &a.id)? })
}
