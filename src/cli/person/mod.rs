//! `ims person …`: one file per command, beside `procedures/person/<procedure>.rs`.

mod add;
mod list;
mod revoke;
mod update;

use std::path::PathBuf;

use clap::Subcommand;

use super::Env;
use crate::error::{Error, Result};
use crate::signing;

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Register a person.
    Add(add::AddArgs),
    /// Change a person's roles, teams, name or key (the old key stops signing).
    Update(update::UpdateArgs),
    /// Revoke a person: their keys sign nothing from now on.
    Revoke(revoke::RevokeArgs),
    /// List registered people.
    List,
}

pub fn run(env: &Env, command: PersonCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        PersonCommand::Add(a) => add::run(env, repo, a),
        PersonCommand::Update(a) => update::run(env, repo, a),
        PersonCommand::Revoke(a) => revoke::run(env, repo, a),
        PersonCommand::List => list::run(env, repo),
    }
}

/// A public key file given as `--key`: its one key line.
fn read_key(path: Option<PathBuf>) -> Result<Option<String>> {
    path.map(|p| {
        let text = String::from_utf8(crate::repo::read_capped(&p, crate::repo::caps::KEY, "--key")?)
            .map_err(|_| Error::invalid(format!("--key {}: not UTF-8 text", p.display())))?;
        Ok(signing::key_line(&signing::parse_public(&text, "--key")?)?)
    })
    .transpose()
}
