//! `ims template …`: one file per command, beside `procedures/template.rs`.

mod list;
mod remove;
mod set;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Override the built-in site template NAME (e.g. base.html) with FILE.
    Set(set::SetArgs),
    /// Drop the override of NAME: the built-in template is used again.
    Remove(remove::RemoveArgs),
    /// The built-in template names and which are overridden.
    List,
}

pub fn run(env: &Env, command: TemplateCommand) -> Result<()> {
    let repo = &env.repo()?;
    match command {
        TemplateCommand::Set(a) => set::run(env, repo, a),
        TemplateCommand::Remove(a) => remove::run(env, repo, a),
        TemplateCommand::List => list::run(env, repo),
    }
}
