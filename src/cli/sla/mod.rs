//! `ims sla …`.

mod check;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum SlaCommand {
    /// Incidents at risk of, or in, breach of their SLA targets, with time left or over.
    Check(check::CheckArgs),
}

pub fn run(env: &Env, command: SlaCommand) -> Result<()> {
    let SlaCommand::Check(a) = command;
    check::run(env, a)
}
