//! `ims change approve`: approve (not your own request).

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::change::approve;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ApproveArgs {
    pub id: String,
    #[arg(long)]
    pub note: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: ApproveArgs) -> Result<()> {
    env.run::<approve::Approve>(repo, &approve::Input { id: resolve(repo, &a.id)?, note: a.note })
}
