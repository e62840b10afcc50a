//! `ims person update`: roles, teams, name or key.

use std::path::PathBuf;

use clap::Args;

use crate::cli::{proposal_id, Env};
use crate::error::Result;
use crate::model::{self, enums::parse_list, enums::Role, enums::Team};
use crate::procedures::person::update::{PersonUpdate, PersonUpdateInput};
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The person to change: their registered email.
    pub email: String,
    /// Their roles from now on, comma-separated (incident_manager, service_desk, L1, L2, L3, …).
    #[arg(long)]
    pub role: Option<String>,
    /// Their teams from now on, comma-separated.
    #[arg(long)]
    pub team: Option<String>,
    /// Their new name.
    #[arg(long)]
    pub name: Option<String>,
    /// Add this public key (a .pub file) to their signing keys.
    #[arg(long, value_name = "PUBKEY_FILE")]
    pub key: Option<PathBuf>,
}

pub fn run(env: &Env, repo: &Repo, a: UpdateArgs) -> Result<()> {
    let email = model::registered_email(&repo.snapshot(repo.tip()?)?, &a.email)?;
    let input = PersonUpdateInput {
        email,
        roles: a.role.as_deref().map(parse_list::<Role>).transpose()?,
        teams: a.team.as_deref().map(parse_list::<Team>).transpose()?,
        key: super::read_key(a.key)?,
        name: a.name,
        proposal_id: proposal_id(env, repo)?,
    };
    env.run::<PersonUpdate>(repo, &input)
}
