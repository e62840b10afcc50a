//! `ims proposal …`: one file per command, beside `procedures/proposal/decide.rs`.

mod decide;
mod list;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ProposalCommand {
    /// Proposals waiting for a decision.
    List(list::ListArgs),
    /// Approve: the change takes effect in this commit.
    Approve(decide::ApproveArgs),
    /// Reject it.
    Reject(decide::RejectArgs),
}

pub fn run(env: &Env, command: ProposalCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        ProposalCommand::List(a) => list::run(env, repo, a),
        ProposalCommand::Approve(a) => decide::approve(env, repo, a),
        ProposalCommand::Reject(a) => decide::reject(env, repo, a),
    }
}
