//! `ims config show`: print ims.yaml.

use serde_json::json;

use crate::cli::Env;
use crate::error::Result;
use crate::model::{self, Snapshot};
use crate::repo::Repo;

pub fn run(env: &Env, repo: &Repo) -> Result<()> {
    let snap = repo.snapshot(repo.tip()?)?;
    let text = String::from_utf8_lossy(&snap.read_required(model::config::PATH)?).into_owned();
    let value = crate::yaml::to_value(&text, "ims.yaml")?;
    env.ui.data(json!({ "ok": true, "config": value }), || text);
    Ok(())
}
