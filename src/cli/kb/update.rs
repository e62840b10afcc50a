//! `ims kb update`: new content; a published article goes back to review.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::kb::update;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub id: String,
    #[arg(long, value_name = "FILE")]
    pub body_file: std::path::PathBuf,
    #[arg(long)]
    pub title: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: UpdateArgs) -> Result<()> {
    let input = update::Input { id: resolve(repo, &a.id)?, body: super::read_body(&a.body_file)?, title: a.title };
    env.run::<update::Update>(repo, &input)
}
