//! `ims person revoke`: their keys sign nothing from now on.

use clap::Args;

use crate::cli::{proposal_id, Env};
use crate::error::{Error, Result};
use crate::model;
use crate::procedures::person::revoke::{PersonRevoke, PersonRevokeInput};
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The person to revoke: their registered email.
    pub email: String,
    /// Why, kept in the record.
    #[arg(long)]
    pub reason: Option<String>,
    /// The key was compromised: their commits after COMMIT are void too.
    #[arg(long, value_name = "COMMIT")]
    pub compromised_since: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: RevokeArgs) -> Result<()> {
    let email = model::registered_email(&repo.snapshot(repo.tip()?)?, &a.email)?;
    let compromised_since = match a.compromised_since {
        Some(c) => {
            let oid = repo
                .git
                .revparse_single(&c)
                .and_then(|o| o.peel_to_commit())
                .map_err(|_| Error::invalid(format!("--compromised-since: `{c}` is not a commit here")))?
                .id();
            Some(oid.to_string())
        }
        None => None,
    };
    let input = PersonRevokeInput { email, reason: a.reason, compromised_since, proposal_id: proposal_id(env, repo)? };
    env.run::<PersonRevoke>(repo, &input)
}
