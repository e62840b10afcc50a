//! `ims proposal approve` and `ims proposal reject`: the two faces of one procedure
//! (`procedures/proposal/decide.rs`).

use clap::Args;

use crate::cli::{resolve, Env};
use crate::error::Result;
use crate::procedures::proposal::decide::{ProposalApprove, ProposalDecideInput, ProposalReject};
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The proposal: its id or any unambiguous prefix.
    pub id: String,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The proposal: its id or any unambiguous prefix.
    pub id: String,
    /// Why it is rejected, kept in the record.
    #[arg(long)]
    pub reason: Option<String>,
}

pub fn approve(env: &Env, repo: &Repo, a: ApproveArgs) -> Result<()> {
    let id = resolve(repo, &a.id)?;
    env.run::<ProposalApprove>(repo, &ProposalDecideInput { id, reason: None })
}

pub fn reject(env: &Env, repo: &Repo, a: RejectArgs) -> Result<()> {
    let id = resolve(repo, &a.id)?;
    env.run::<ProposalReject>(repo, &ProposalDecideInput { id, reason: a.reason })
}
