//! `ims person list`: the registered people.

use serde_json::json;

use crate::cli::Env;
use crate::error::Result;
use crate::model;
use crate::repo::Repo;

pub fn run(env: &Env, repo: &Repo) -> Result<()> {
    let snap = repo.snapshot(repo.tip()?)?;
    let people = model::people(&snap)?;
    let doc = json!({ "ok": true, "people": people });
    env.ui.data(doc, || {
        people
            .iter()
            .map(|p| {
                let roles: Vec<&str> = p.roles.iter().map(|r| r.as_str()).collect();
                let state = if p.revoked { " (revoked)" } else { "" };
                format!("{:<32} {:<24} {}{state}\n", p.email, p.name, roles.join(","))
            })
            .collect()
    });
    Ok(())
}
