//! `ims incident resume`: the vendor answered.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::incident::resume;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ResumeArgs {
    pub id: String,
    #[arg(long)]
    pub summary: String,
}

pub fn run(env: &Env, repo: &Repo, a: ResumeArgs) -> Result<()> {
    env.run::<resume::Resume>(repo, &resume::Input { id: resolve(repo, &a.id)?, summary: a.summary })
}
