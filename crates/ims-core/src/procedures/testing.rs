//! Shared by the procedures' unit tests: a procedure runs for real against an
//! in-memory state and its writes are laid over it, so a test reaches any record
//! state through the procedures that make it rather than through literals. The
//! incident fixtures (`snapshot`, `as_role`, `halts`, …) come from
//! `incident::testing`; the governed procedures' (two incident managers, keys, the
//! inputs of person, config and proposal procedures) and the overlay runner of
//! imports and templates are here.
#![cfg(test)]

use serde::de::DeserializeOwned;

pub use super::incident::testing::*;
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::Result;
use crate::ids::{record_path, RecordKind};
pub use crate::model::testing::MemSnapshot;

pub const CHG: &str = "CHG-20261126-0000000001";
pub const PRB: &str = "PRB-20261126-0000000001";
pub const KB: &str = "KB-20261126-0000000001";

/// Applies `P` as `actor` at `at` to `snap`, checking the writes against the schemas.
pub fn try_apply_at<P: Procedure>(
    snap: &MemSnapshot,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
    input: &P::Input,
) -> Result<Effect> {
    let ctx = Ctx { snap, actor, now: at, rules: Default::default() };
    let effect = P::apply(&ctx, input)?;
    crate::engine::validate_writes(&effect)?;
    Ok(effect)
}

/// Applies `P` as `actor` at [`now`] to `snap`.
pub fn try_apply<P: Procedure>(snap: &MemSnapshot, actor: &str, input: &P::Input) -> Result<Effect> {
    try_apply_at::<P>(snap, actor, now(), input)
}

/// Lays an effect's writes and deletions over `snap`, as a commit would.
pub fn lay(snap: &mut MemSnapshot, effect: &Effect) {
    for (path, bytes) in &effect.writes {
        match bytes {
            Some(b) => snap.files.insert(path.clone(), b.clone()),
            None => snap.files.remove(path),
        };
    }
}

/// Runs `P`, which must succeed, and lays its writes over `snap`.
pub fn step<P: Procedure>(snap: &mut MemSnapshot, actor: &str, input: &P::Input) -> Effect {
    step_at::<P>(snap, actor, now(), input)
}

/// [`step`] at a given time.
pub fn step_at<P: Procedure>(
    snap: &mut MemSnapshot,
    actor: &str,
    at: chrono::DateTime<chrono::Utc>,
    input: &P::Input,
) -> Effect {
    let effect =
        try_apply_at::<P>(snap, actor, at, input).unwrap_or_else(|e| panic!("{} should succeed: {}", P::ID, e.message));
    lay(snap, &effect);
    effect
}

/// The record of `kind` and `id` as an effect wrote it.
pub fn wrote<T: DeserializeOwned>(effect: &Effect, kind: RecordKind, id: &str) -> T {
    let path = record_path(kind, id);
    let bytes = effect.writes.get(&path).and_then(|b| b.clone()).unwrap_or_else(|| panic!("{path} was written"));
    crate::yaml::from_str(std::str::from_utf8(&bytes).unwrap(), &path).unwrap()
}

/// The record of `kind` and `id` as `snap` holds it.
pub fn stored<T: DeserializeOwned>(snap: &MemSnapshot, kind: RecordKind, id: &str) -> T {
    let path = record_path(kind, id);
    let bytes = snap.files.get(&path).unwrap_or_else(|| panic!("{path} is stored"));
    crate::yaml::from_str(std::str::from_utf8(bytes).unwrap(), &path).unwrap()
}

/// Checks that the registry routes each of `ids` (a group's procedures): an input
/// that does not fit is refused by the procedure, not as an unknown id.
pub fn routed(ids: &[&str]) {
    let snap = snapshot(None);
    let ctx = Ctx { snap: &snap, actor: "incident_manager@x.test", now: now(), rules: Default::default() };
    for id in ids {
        assert!(super::IDS.contains(id), "{id} is in the registry");
        halts(super::apply_by_id(id, &ctx, &serde_json::json!(7)), crate::error::Kind::Invalid, "input does not fit");
    }
}

/// Change `CHG` of `risk`, requested by L2 through `change.request`.
pub fn request_change(snap: &mut MemSnapshot, risk: crate::model::enums::Level) -> Effect {
    use super::change::request::{Input, Request};
    let input = Input {
        id: CHG.into(),
        summary: "Raise the connection pool limit".into(),
        kind: crate::model::change::ChangeType::Normal,
        risk,
        incidents: vec![],
        problems: vec![],
    };
    step::<Request>(snap, &as_role(crate::model::enums::Role::L2), &input)
}

/// Problem `PRB`, created by L2 through `problem.create` and linked to `incidents`.
pub fn create_problem(snap: &mut MemSnapshot, incidents: &[&str]) -> Effect {
    use super::problem::create::{Create, Input};
    let input = Input {
        id: PRB.into(),
        title: "Connection pool exhausted".into(),
        description: "db pool runs dry at peak".into(),
        source: crate::model::problem::ProblemSource::IncidentTrend,
        service: Some("db".into()),
        incidents: incidents.iter().map(|s| s.to_string()).collect(),
    };
    step::<Create>(snap, &as_role(crate::model::enums::Role::L2), &input)
}

/// Article `KB`, drafted by L2 through `kb.draft` and linked to nothing.
pub fn draft_article(snap: &mut MemSnapshot) -> Effect {
    use super::kb::draft::{Draft, Input};
    let input = Input {
        id: KB.into(),
        title: "Raise the pool when checkout stalls".into(),
        kind: crate::model::kb::ArticleType::Workaround,
        body: "1. Open the db console.\n2. Raise max_connections.".into(),
        incident: None,
        problem: None,
    };
    step::<Draft>(snap, &as_role(crate::model::enums::Role::L2), &input)
}

/// Stores a record (for states no procedure reaches at [`now`]).
pub fn put<T: serde::Serialize>(snap: &mut MemSnapshot, kind: RecordKind, id: &str, record: &T) {
    snap.files.insert(record_path(kind, id), crate::yaml::to_canonical(record).unwrap().into_bytes());
}

/// The test registry's incident manager, and a second one for [`two_managers`].
pub const IM: &str = "incident_manager@x.test";
pub const IM2: &str = "im2@x.test";
/// The proposal id the governed procedures' inputs carry.
pub const PRP: &str = "PRP-20261126-0000000001";

/// Applies `P` to `snap` with `blobs` laid over it, as the shell stages an import's
/// archive or a template's bytes (`model::Overlay`), checking the writes.
pub fn apply_over<P: Procedure>(
    snap: &MemSnapshot,
    blobs: &std::collections::BTreeMap<String, Vec<u8>>,
    actor: &str,
    input: &P::Input,
) -> Result<Effect> {
    let overlay = crate::model::Overlay { base: snap, blobs };
    let effect = P::apply(&Ctx { snap: &overlay, actor, now: now(), rules: Default::default() }, input)?;
    crate::engine::validate_writes(&effect)?;
    Ok(effect)
}

/// An OpenSSH public key line (no comment) from a fixed seed.
pub fn key(seed: u8) -> String {
    let pair = ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]);
    let public = ssh_key::PublicKey::new(ssh_key::public::KeyData::Ed25519(pair.public), "");
    public.to_openssh().unwrap().trim().to_string()
}

/// The person registered as `email` in `snap`.
pub fn registered(snap: &MemSnapshot, email: &str) -> Option<crate::model::person::Person> {
    crate::model::person(snap, email).unwrap()
}

/// The test registry with a second incident manager, so governed changes become
/// proposals.
pub fn two_managers() -> MemSnapshot {
    let mut snap = snapshot(None);
    let text = crate::yaml::to_canonical(&person(IM2, &[crate::model::enums::Role::IncidentManager])).unwrap();
    snap.files.insert(crate::model::person::path(IM2), text.into_bytes());
    snap
}

/// `person.add` of `email` as L2 with [`key`]`(7)`.
pub fn person_add(email: &str) -> super::person::add::PersonAddInput {
    use crate::model::enums::{Role, Team};
    super::person::add::PersonAddInput {
        email: email.into(),
        name: "New Person".into(),
        roles: vec![Role::L2, Role::L2],
        teams: vec![Team::L2],
        key: Some(key(7)),
        proposal_id: PRP.into(),
    }
}

/// `person.update` of `email` changing nothing yet.
pub fn person_update(email: &str) -> super::person::update::PersonUpdateInput {
    super::person::update::PersonUpdateInput {
        email: email.into(),
        roles: None,
        teams: None,
        key: None,
        name: None,
        proposal_id: PRP.into(),
    }
}

/// `person.revoke` of `email`, because they left.
pub fn person_revoke(email: &str) -> super::person::revoke::PersonRevokeInput {
    super::person::revoke::PersonRevokeInput {
        email: email.into(),
        reason: Some("left".into()),
        compromised_since: None,
        proposal_id: PRP.into(),
    }
}

/// `config.set` of `key` to `value`.
pub fn config_set(key: &str, value: serde_json::Value) -> super::config::set::ConfigSetInput {
    super::config::set::ConfigSetInput { key: key.into(), value, proposal_id: PRP.into() }
}

/// A decision on [`PRP`].
pub fn decide(reason: Option<&str>) -> super::proposal::decide::ProposalDecideInput {
    super::proposal::decide::ProposalDecideInput { id: PRP.into(), reason: reason.map(String::from) }
}

/// The blob id a staged template goes by in the template procedures' tests.
pub const TEMPLATE_BLOB: &str = "0123456789abcdef0123456789abcdef01234567";
/// A small page template.
pub const PAGE: &str = "<!doctype html><title>{{ title }}</title>\n<main>{% block content %}{% endblock %}</main>\n";

/// The staged blobs holding `bytes` as [`TEMPLATE_BLOB`].
pub fn template_blobs(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::collections::BTreeMap::from([(TEMPLATE_BLOB.to_string(), bytes.to_vec())])
}

/// `template.set` of `name` to [`TEMPLATE_BLOB`].
pub fn template_set(name: &str) -> super::template::set::TemplateSetInput {
    super::template::set::TemplateSetInput { name: name.into(), blob: TEMPLATE_BLOB.into(), proposal_id: PRP.into() }
}

/// `template.remove` of `name`.
pub fn template_remove(name: &str) -> super::template::remove::TemplateRemoveInput {
    super::template::remove::TemplateRemoveInput { name: name.into(), proposal_id: PRP.into() }
}

/// The test registry with `base.html` overridden by its one incident manager.
pub fn overridden() -> MemSnapshot {
    let mut snap = snapshot(None);
    let e = apply_over::<super::template::set::TemplateSet>(
        &snap,
        &template_blobs(PAGE.as_bytes()),
        IM,
        &template_set("base.html"),
    )
    .unwrap();
    lay(&mut snap, &e);
    snap
}
