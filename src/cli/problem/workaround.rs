//! `ims problem workaround`: a known error, and a workaround KB article in review.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::procedures::problem::workaround;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct WorkaroundArgs {
    pub id: String,
    #[arg(long)]
    pub workaround: String,
}

pub fn run(env: &Env, repo: &Repo, a: WorkaroundArgs) -> Result<()> {
    let input = workaround::Input {
        id: resolve(repo, &a.id)?,
        workaround: a.workaround,
        kb_id: new_id(RecordKind::Kb, env.now(repo)?),
    };
    env.run::<workaround::Workaround>(repo, &input)
}
