//! `ims kb submit`: submit a draft for review.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::kb::submit;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct SubmitArgs {
    pub id: String,
}

pub fn run(env: &Env, repo: &Repo, a: SubmitArgs) -> Result<()> {
    env.run::<submit::Submit>(repo, &submit::Input { id: resolve(repo, &a.id)? })
}
