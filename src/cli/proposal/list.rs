//! `ims proposal list`: proposals waiting for a decision.

use clap::Args;
use serde_json::{json, Value};

use crate::cli::Env;
use crate::error::Result;
use crate::ids::RecordKind;
use crate::repo::Repo;

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Show decided ones too.
    #[arg(long)]
    pub all: bool,
}

pub fn run(env: &Env, repo: &Repo, a: ListArgs) -> Result<()> {
    let snap = repo.snapshot(repo.tip()?)?;
    let mut filters = crate::query::Filters::default();
    if !a.all {
        filters.equals.insert("status".into(), "pending".into());
    }
    let found = crate::query::find(&snap, RecordKind::Proposal, &filters)?;
    let text = found
        .iter()
        .map(|p| {
            let s = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            format!("{}  {:<8}  {}  (by {})\n", s("proposal_id"), s("status"), s("summary"), s("proposed_by"))
        })
        .collect::<String>();
    env.ui.data(json!({ "ok": true, "proposals": found }), || text);
    Ok(())
}
