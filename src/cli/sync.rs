//! `ims sync`: replay unpushed procedures onto the remote tip.

use serde_json::json;

use super::{Env, SyncArgs};
use crate::error::Result;

pub fn run(env: &Env, args: SyncArgs) -> Result<()> {
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let outcome = crate::sync::sync(&repo, &identity, &args.remote, args.push)?;
    let doc = json!({ "ok": true, "sync": outcome, "commit": outcome.tip });
    env.ui.data(doc, || {
        let mut text = format!("{}/{}: {}", outcome.remote, outcome.branch, outcome.action);
        for r in &outcome.replayed {
            text.push_str(&format!("\n  replayed: {r}"));
        }
        if outcome.pushed {
            text.push_str(&format!("\n  pushed {}", outcome.tip));
        }
        text
    });
    Ok(())
}
