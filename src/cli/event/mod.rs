//! `ims event …`, beside `procedures/event/ingest.rs`.

mod ingest;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Record monitoring events (native format or an Alertmanager webhook payload);
    /// qualifying alerts open incidents, repeats attach to them.
    Ingest(ingest::IngestArgs),
}

pub fn run(env: &Env, command: EventCommand) -> Result<()> {
    let EventCommand::Ingest(a) = command;
    ingest::run(env, a)
}
