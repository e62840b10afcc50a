//! `ims change review`: the outcome of an implemented change.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse, resolve};
use crate::error::Result;
use crate::procedures::change::review;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ReviewArgs {
    pub id: String,
    #[arg(long)]
    pub outcome: String,
    #[arg(long)]
    pub note: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: ReviewArgs) -> Result<()> {
    let input = review::Input { id: resolve(repo, &a.id)?, outcome: parse(&a.outcome)?, note: a.note };
    env.run::<review::Review>(repo, &input)
}
