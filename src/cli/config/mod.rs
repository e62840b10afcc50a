//! `ims config …`: `show` reads ims.yaml, `set` runs `procedures/config/set.rs`.

mod set;
mod show;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print ims.yaml.
    Show,
    /// Set one setting (a dotted path into ims.yaml) to a YAML value.
    Set(set::SetArgs),
}

pub fn run(env: &Env, command: ConfigCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        ConfigCommand::Show => show::run(env, repo),
        ConfigCommand::Set(a) => set::run(env, repo, a),
    }
}
