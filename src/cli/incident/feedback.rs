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
    /// The incident: its id or any unambiguous prefix.
    pub id: String,
    /// The reporter's satisfaction, 1 (poor) to 5 (excellent).
    #[arg(long)]
    pub score: String,
    /// The reporter's words.
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
