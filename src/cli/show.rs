//! `ims show ID`.

use clap::Args;
use serde_json::{json, Value};

use super::Env;
use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::Snapshot;
use crate::query::{self};

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// An id, or any unambiguous prefix of one.
    pub id: String,
    /// An earlier published version (KB articles).
    #[arg(long)]
    pub version: Option<u32>,
}

pub fn run(env: &Env, args: ShowArgs) -> Result<()> {
    let repo = env.repo()?;
    let snap = repo.snapshot(repo.tip()?)?;
    let rid = crate::model::resolve(&snap, &args.id)?;
    let bytes = match args.version {
        None => snap.read(&rid.path())?.ok_or_else(|| Error::invalid(format!("{}: no such record", rid.id)))?,
        Some(_) if rid.kind != RecordKind::Kb => {
            return Err(Error::invalid("--version: only KB articles have versions, and this is not one"))
        }
        Some(n) => query::kb_version(&repo, &rid.path(), n)?
            .ok_or_else(|| Error::invalid(format!("{}: has no published version {n}", rid.id)))?,
    };
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let record = crate::yaml::to_value(&text, &rid.path())?;
    // Showing a security incident is an audited read.
    let identity_needed = record.get("category").and_then(Value::as_str) == Some("security");
    let registered = {
        let actor = crate::run::actor_from_env(&repo.git);
        let actor = actor.ok_or_else(|| Error::forbidden("no actor: set IMS_ACTOR or `git config user.email`"))?;
        crate::model::person(&snap, actor.trim())?
            .ok_or_else(|| Error::forbidden(format!("actor {}: not a registered person", actor.trim())))?
    };
    if registered.revoked {
        return Err(Error::forbidden(format!("actor {}: revoked", registered.email)));
    }
    if identity_needed {
        let identity = env.identity(&repo)?;
        query::audit_read(&repo, &identity, rid.kind.entity(), Some(&rid.id), Value::Null)?;
    }
    let mut doc = json!({ "ok": true, "id": rid.id, "record": record });
    if let (Value::Object(d), Value::Object(r)) = (&mut doc, &record) {
        for (k, v) in r {
            d.entry(k.clone()).or_insert(v.clone());
        }
    }
    env.ui.data(doc, || text);
    Ok(())
}
