//! `ims simulation record`, beside `procedures/activity/simulation_record.rs`.

mod record;

use clap::Subcommand;

use super::Env;
use crate::error::Result;

#[derive(Debug, Subcommand)]
pub enum SimulationCommand {
    /// Record a tabletop or drill and its outcomes.
    Record(record::RecordArgs),
}

pub fn run(env: &Env, command: SimulationCommand) -> Result<()> {
    let SimulationCommand::Record(a) = command;
    record::run(env, &env.repo()?, a)
}
