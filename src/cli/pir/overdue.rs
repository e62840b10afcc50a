//! `ims pir overdue`: high-priority incidents closed without a review in time.

use clap::Args;

use crate::cli::Env;
use crate::error::Result;
use crate::repo::Repo;
use serde_json::json;

#[derive(Debug, Args)]
pub struct OverdueArgs {
    /// As of this time (default: now).
    #[arg(long)]
    pub at: Option<String>,
}

pub fn run(env: &Env, repo: &Repo, a: OverdueArgs) -> Result<()> {
    let at = match a.at {
        Some(t) => crate::cli::parse_time("--at", &t)?,
        None => env.now(repo)?,
    };
    let tip = repo.tip()?;
    let facts = crate::query::incident_facts(repo, tip)?;
    let overdue = crate::query::overdue_reviews(&repo.snapshot(tip)?, &facts, at)?;
    let text: String = overdue
        .iter()
        .map(|o| format!("{}  closed {}  due {}  {}\n", o.incident_id, o.closed_at, o.due, o.title))
        .collect();
    let empty = overdue.is_empty();
    env.ui.data(
        json!({ "ok": true, "overdue": overdue }),
        || {
            if empty {
                "no overdue reviews".to_string()
            } else {
                text
            }
        },
    );
    Ok(())
}
