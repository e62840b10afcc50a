//! `ims migrate`: brings records to the current schema versions and offers the settings
//! added since. What it checks and who may run it are ims-core's
//! ([`ims_core::migrate`]); this file runs the `config.set`s and prints.

use clap::Args;
use serde_json::json;

use crate::cli::{proposal_id, Env};
use crate::error::{Error, Result};
use crate::procedures::config::set::{ConfigSet, ConfigSetInput};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Add the settings this ims knows that ims.yaml lacks, at their defaults (one signed
    /// `config.set` each; with two incident managers, each waits as a proposal).
    #[arg(long)]
    pub settings: bool,
}

/// `ims migrate`. This version knows one version of each schema, so it checks that
/// every record is at it and that nothing needs a migration procedure; a record at a
/// version it does not know is an error naming it (it was written by a newer ims).
/// Settings added since the repository was made are listed, and added with `--settings`.
pub fn run(env: &Env, args: MigrateArgs) -> Result<()> {
    let repo = env.repo()?;
    let snap = repo.snapshot(repo.tip()?)?;
    let actor = crate::run::actor_from_env(&repo.git)
        .ok_or_else(|| Error::forbidden(format!("no actor: {}", crate::run::CHOOSE_IDENTITY)))?;
    ims_core::migrate::authorize(&snap, &actor)?;
    let checked = ims_core::migrate::check_schemas(&snap)?;
    let missing = ims_core::migrate::missing_settings(&snap)?;
    let mut commits = Vec::new();
    if args.settings {
        let identity = env.identity(&repo)?;
        for (key, value) in &missing {
            let input =
                ConfigSetInput { key: key.to_string(), value: value.clone(), proposal_id: proposal_id(env, &repo)? };
            commits.push(crate::run::run::<ConfigSet>(&repo, &identity, &input)?.commit.to_string());
        }
    }
    let names: Vec<&str> = missing.iter().map(|(k, _)| *k).collect();
    let doc = json!({
        "ok": true, "checked": checked, "migrated": 0,
        "missing_settings": missing.iter().map(|(k, v)| json!({"key": k, "default": v})).collect::<Vec<_>>(),
        "commits": commits,
    });
    env.ui.data(doc, || {
        let mut text = format!("all {checked} records are at the current schema versions; nothing to migrate\n");
        if missing.is_empty() {
        } else if args.settings {
            text.push_str(&format!("added settings: {} ({} commits)\n", names.join(", "), commits.len()));
        } else {
            for (key, value) in &missing {
                text.push_str(&format!("ims.yaml lacks `{key}` (behaves as its default: {value})\n"));
            }
            text.push_str("add them with `ims migrate --settings` (one signed config.set each)\n");
        }
        text
    });
    Ok(())
}
