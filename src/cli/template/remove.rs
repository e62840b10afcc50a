//! `ims template remove NAME`: the built-in template is used again.

use clap::Args;

use crate::cli::{proposal_id, Env};
use crate::error::Result;
use crate::procedures::template::remove::{TemplateRemove, TemplateRemoveInput};
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The overridden template to remove (the built-in one applies again).
    pub name: String,
}

pub fn run(env: &Env, repo: &Repo, a: RemoveArgs) -> Result<()> {
    env.run::<TemplateRemove>(repo, &TemplateRemoveInput { name: a.name, proposal_id: proposal_id(env, repo)? })
}
