//! `ims incident diagnose`: record diagnostic steps.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::procedures::incident::diagnose;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    pub id: String,
    #[arg(long)]
    pub steps: String,
    #[arg(long)]
    pub workaround: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: DiagnoseArgs) -> Result<()> {
    let input = diagnose::Input { id: resolve(repo, &a.id)?, steps: a.steps, workaround: a.workaround };
    env.run::<diagnose::Diagnose>(repo, &input)
}
