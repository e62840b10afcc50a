//! `ims change …`: one file per command, beside `procedures/change/<procedure>.rs`.

mod approve;
mod close;
mod implement;
mod reject;
mod request;
mod review;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ChangeCommand {
    /// Request a change (standard changes from the catalogue are pre-approved).
    Request(request::RequestArgs),
    /// Approve (not your own request); approved once the quorum for its risk is met.
    Approve(approve::ApproveArgs),
    /// Reject, with a reason.
    Reject(reject::RejectArgs),
    /// Record that an approved change was implemented.
    Implement(implement::ImplementArgs),
    /// Review the outcome: successful, failed or rolled_back.
    Review(review::ReviewArgs),
    /// Close a reviewed or rejected change.
    Close(close::CloseArgs),
}

pub fn run(env: &Env, command: ChangeCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        ChangeCommand::Request(a) => request::run(env, repo, a),
        ChangeCommand::Approve(a) => approve::run(env, repo, a),
        ChangeCommand::Reject(a) => reject::run(env, repo, a),
        ChangeCommand::Implement(a) => implement::run(env, repo, a),
        ChangeCommand::Review(a) => review::run(env, repo, a),
        ChangeCommand::Close(a) => close::run(env, repo, a),
    }
}
