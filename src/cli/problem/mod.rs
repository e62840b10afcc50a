//! `ims problem …`: one file per command, beside `procedures/problem/<procedure>.rs`.

mod close;
mod create;
mod link;
mod resolve;
mod update;
mod workaround;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ProblemCommand {
    /// Open a problem; a similar active one on the same service is a conflict (exit 6).
    Create(create::CreateArgs),
    /// Change title, description, service, or move it under investigation.
    Update(update::UpdateArgs),
    /// Link an incident to the problem, both records in one commit.
    Link(link::LinkArgs),
    /// Record the workaround: a known error at once, and a workaround KB article in review.
    Workaround(workaround::WorkaroundArgs),
    /// Resolve, with the evidence that the cause is gone.
    Resolve(resolve::ResolveArgs),
    /// Close once the stability window has passed since resolution.
    Close(close::CloseArgs),
}

pub fn run(env: &Env, command: ProblemCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        ProblemCommand::Create(a) => create::run(env, repo, a),
        ProblemCommand::Update(a) => update::run(env, repo, a),
        ProblemCommand::Link(a) => link::run(env, repo, a),
        ProblemCommand::Workaround(a) => workaround::run(env, repo, a),
        ProblemCommand::Resolve(a) => resolve::run(env, repo, a),
        ProblemCommand::Close(a) => close::run(env, repo, a),
    }
}
