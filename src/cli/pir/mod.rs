//! `ims pir …`: one file per command (`action` beside `procedures/pir/action.rs`;
//! `overdue` is a query).

mod action;
mod overdue;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum PirCommand {
    /// Update an action item of a review: status, owner, due date.
    Action(action::ActionArgs),
    /// High-priority incidents closed longer ago than ims.yaml's pir.due_after_close without a review.
    Overdue(overdue::OverdueArgs),
}

pub fn run(env: &Env, command: PirCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        PirCommand::Action(a) => action::run(env, repo, a),
        PirCommand::Overdue(a) => overdue::run(env, repo, a),
    }
}
