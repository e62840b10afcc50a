//! `ims simulation record`: record a tabletop or drill.

use clap::Args;

use crate::cli::Env;
use crate::error::Result;
use crate::ids::{new_id, RecordKind};
use crate::procedures::activity::simulation_record;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct RecordArgs {
    #[arg(long)]
    pub scenario: String,
    #[arg(long)]
    pub scope: String,
    #[arg(long)]
    pub outcome: String,
}

pub fn run(env: &Env, repo: &Repo, a: RecordArgs) -> Result<()> {
    let input = simulation_record::Input {
        id: new_id(RecordKind::Simulation, env.now(repo)?),
        scenario: a.scenario,
        scope: a.scope,
        outcome: a.outcome,
    };
    env.run::<simulation_record::Record>(repo, &input)
}
