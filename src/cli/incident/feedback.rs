//! `ims incident feedback`: the reporter's satisfaction.

use clap::Args;

use crate::cli::resolve;
use crate::cli::Env;
use crate::error::Error;
use crate::error::Result;
use crate::procedures::incident::feedback;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct FeedbackArgs {
    pub id: String,
    #[arg(long)]
    pub score: String,
    #[arg(long)]
    pub comment: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: FeedbackArgs) -> Result<()> {
    let score: u8 = a
        .score
        .trim()
        .parse()
        .map_err(|_| Error::invalid(format!("score: `{}` is not a whole number from 1 to 5", a.score)))?;
    let input = feedback::Input { id: resolve(repo, &a.id)?, score, comment: a.comment };
    env.run::<feedback::GiveFeedback>(repo, &input)
}
