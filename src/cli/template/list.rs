//! `ims template list`: the built-in names and which are overridden.

use serde_json::json;

use crate::cli::Env;
use crate::error::Result;
use crate::procedures::template as tp;
use crate::repo::Repo;

pub fn run(env: &Env, repo: &Repo) -> Result<()> {
    let snap = repo.snapshot(repo.tip()?)?;
    let mut rows = Vec::new();
    for name in crate::site::template_names() {
        let own = snap.blob_id(&tp::path(name))?;
        rows.push(json!({ "name": name, "overridden": own.is_some(), "blob": own.map(|o| o.to_string()) }));
    }
    env.ui.data(json!({ "ok": true, "templates": rows }), || {
        rows.iter()
            .map(|r| {
                let state = if r["overridden"] == true { "overridden" } else { "built-in" };
                format!("{:<16} {state}\n", r["name"].as_str().unwrap_or(""))
            })
            .collect()
    });
    Ok(())
}
