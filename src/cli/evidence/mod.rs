//! `ims evidence …`: what an auditor takes away.

pub mod export;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum EvidenceCommand {
    /// Write a period's evidence into a new folder and a .tar.gz beside it.
    Export(export::ExportArgs),
}

pub fn run(env: &Env, command: EvidenceCommand) -> Result<()> {
    match command {
        EvidenceCommand::Export(a) => export::run(env, a),
    }
}
