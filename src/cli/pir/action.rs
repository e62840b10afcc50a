//! `ims pir action`: update an action item of a review.

use clap::Args;

use crate::cli::Env;
use crate::cli::{parse_opt, resolve};
use crate::error::Result;
use crate::procedures::pir::action;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ActionArgs {
    pub id: String,
    /// The item's number, from 1.
    pub item: usize,
    /// open or done.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub owner: Option<String>,
    #[arg(long)]
    pub due: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: ActionArgs) -> Result<()> {
    let input = action::Input {
        id: resolve(repo, &a.id)?,
        item: a.item,
        status: parse_opt(a.status.as_deref())?,
        owner: a.owner,
        due: a.due,
    };
    env.run::<action::UpdateAction>(repo, &input)
}
