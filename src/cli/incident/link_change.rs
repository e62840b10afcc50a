//! `ims incident link-change`: link an approved change, both ways.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::incident::link_change;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct LinkChangeArgs {
    pub id: String,
    pub change: String,
}

pub fn run(env: &Env, repo: &Repo, a: LinkChangeArgs) -> Result<()> {
    let input = link_change::Input { id: resolve(repo, &a.id)?, change: resolve(repo, &a.change)? };
    env.run::<link_change::LinkChange>(repo, &input)
}
