//! `ims problem link`: link an incident, both records in one commit.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::problem::link;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct LinkArgs {
    pub problem: String,
    pub incident: String,
}

pub fn run(env: &Env, repo: &Repo, a: LinkArgs) -> Result<()> {
    let input = link::Input { problem: resolve(repo, &a.problem)?, incident: resolve(repo, &a.incident)? };
    env.run::<link::Link>(repo, &input)
}
