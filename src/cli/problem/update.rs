//! `ims problem update`: title, description, service, or under investigation.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse_opt, resolve};
use crate::error::Result;
use crate::procedures::problem::update;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    pub id: String,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    /// under_investigation.
    #[arg(long)]
    pub status: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: UpdateArgs) -> Result<()> {
    let input = update::Input {
        id: resolve(repo, &a.id)?,
        title: a.title,
        description: a.description,
        service: a.service,
        status: parse_opt(a.status.as_deref())?,
    };
    env.run::<update::Update>(repo, &input)
}
