//! `ims config set KEY VALUE`: one setting, by its dotted path.

use clap::Args;
use serde_json::Value;

use crate::cli::{proposal_id, Env};
use crate::error::Result;
use crate::procedures::config::set::{ConfigSet, ConfigSetInput};
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The setting, a dotted path into ims.yaml (sla.targets.high.acknowledge, services, …).
    pub key: String,
    /// A YAML value: `30m`, `[web, db]`, `null`, `{high: 2}`.
    pub value: String,
}

pub fn run(env: &Env, repo: &Repo, a: SetArgs) -> Result<()> {
    let value: Value = crate::yaml::to_value(&a.value, "value")?;
    let input = ConfigSetInput { key: a.key, value, proposal_id: proposal_id(env, repo)? };
    env.run::<ConfigSet>(repo, &input)
}
