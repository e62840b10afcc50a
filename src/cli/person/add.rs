//! `ims person add`: register a person.

use std::path::PathBuf;

use clap::Args;

use crate::cli::{proposal_id, Env};
use crate::error::{Error, Result};
use crate::model::{self, enums::parse_list, enums::Role, enums::Team};
use crate::procedures::person::add::{PersonAdd, PersonAddInput, SAME_EMAIL};
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Their email: who they act as (IMS_ACTOR), stored lower-case.
    #[arg(long)]
    pub email: String,
    /// Their full name, as the site and the commits show it.
    #[arg(long)]
    pub name: String,
    /// One or more roles, comma-separated.
    #[arg(long)]
    pub role: String,
    /// Teams, comma-separated.
    #[arg(long)]
    pub team: Option<String>,
    /// Their SSH public key file (end users may have none).
    #[arg(long, value_name = "PUBKEY_FILE")]
    pub key: Option<PathBuf>,
}

pub fn run(env: &Env, repo: &Repo, a: AddArgs) -> Result<()> {
    let snap = repo.snapshot(repo.tip()?)?;
    let registered = model::registered_email(&snap, &a.email)?;
    if registered != a.email.trim() {
        if let Some(existing) = model::person(&snap, &registered)? {
            return Err(Error::conflict(format!(
                "email: {} is already registered as {} ({}); {}",
                a.email.trim(),
                existing.email,
                existing.name,
                SAME_EMAIL
            )));
        }
    }
    let input = PersonAddInput {
        // Stored in its comparison form: one person, however their email is spelled.
        email: model::email_key(&a.email),
        name: a.name,
        roles: parse_list::<Role>(&a.role)?,
        teams: a.team.as_deref().map(parse_list::<Team>).transpose()?.unwrap_or_default(),
        key: super::read_key(a.key)?,
        proposal_id: proposal_id(env, repo)?,
    };
    env.run::<PersonAdd>(repo, &input)
}
