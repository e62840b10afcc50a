//! `ims incident log`: append notes.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::incident::log;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct LogArgs {
    pub id: String,
    #[arg(long)]
    pub description: Option<String>,
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long)]
    pub diagnosis: Option<String>,
    #[arg(long)]
    pub workaround: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: LogArgs) -> Result<()> {
    let input = log::Input {
        id: resolve(repo, &a.id)?,
        description: a.description,
        service: a.service,
        diagnosis: a.diagnosis,
        workaround: a.workaround,
    };
    env.run::<log::Log>(repo, &input)
}
