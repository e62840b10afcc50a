//! Administration procedures: `repo.init`, `config.set`, `person.add|update|revoke`,
//! `proposal.approve|reject` (which also decides `template.set|remove` proposals).
//!
//! Policy: role-based authorization and segregation of duties apply to the people
//! registry itself. Only an incident manager changes people or settings; nobody changes
//! their own roles; once there are two incident managers, a change takes effect only
//! when a second one approves it (a proposal), so no single person can grant
//! themselves or an accomplice power.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, Result};
use crate::hygiene::{self, Shape};
use crate::ids::{record_path, RecordKind};
use crate::keys;
use crate::model::config::{self, Clock, Config};
use crate::model::enums::{AuditAction, Role, Team};
use crate::model::person::{self, Person, PersonKey};
use crate::model::proposal::{self, Proposal, ProposalStatus};
use crate::model::{self, Snapshot};

use super::template::{TemplateRemove, TemplateSet};

/// Writes `ims.yaml` in its commented canonical form.
fn write_config(effect: &mut Effect, config: &Config) -> Result<()> {
    let value = serde_json::to_value(config)?;
    let text = crate::yaml::emit(&value, Config::COMMENTS);
    effect.write_raw(config::PATH, text.into_bytes());
    effect.values.insert(config::PATH.to_string(), value);
    Ok(())
}

/// Rewrites `allowed_signers` from the registry with `changed` laid over it.
fn write_allowed_signers(effect: &mut Effect, snap: &dyn Snapshot, changed: &Person) -> Result<()> {
    let mut people: Vec<Person> = model::people(snap)?.into_iter().filter(|p| p.email != changed.email).collect();
    people.push(changed.clone());
    effect.write_raw("allowed_signers", person::allowed_signers(&people).into_bytes());
    Ok(())
}

fn parse_key(text: &str, now: chrono::DateTime<chrono::Utc>) -> Result<PersonKey> {
    let key = keys::parse_public(text, "key")?;
    Ok(PersonKey {
        key: keys::key_line(&key)?,
        fingerprint: keys::fingerprint(&key),
        valid_after: now,
        valid_before: None,
    })
}

// ---------------------------------------------------------------------------------------

/// `repo.init/1`: the root commit. Writes `ims.yaml` in full, the first person (an
/// incident manager), `allowed_signers` and `.gitattributes`.
pub struct Init;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitInput {
    pub organization: String,
    pub email: String,
    pub name: String,
    pub key: String,
    pub clock: Clock,
}

/// Stops git from hand-merging records (a file changed on both sides is a conflict that
/// `ims sync` resolves by replay) and from converting them on checkout (`-text`). Part of
/// every `repo.init` version's effect, so it is governed like the rest of the root.
pub const GITATTRIBUTES: &str = "# Written by ims init: records are only ever merged by replaying procedures.\n\
ims.yaml merge=binary -text\n\
allowed_signers merge=binary -text\n\
people/** merge=binary -text\n\
records/** merge=binary -text\n";

fn init_effect(ctx: &Ctx, input: &InitInput, config: Config) -> Result<Effect> {
    if ctx.snap.read(config::PATH)?.is_some() {
        return Err(Error::precondition("ims.yaml exists: this is already a records repository"));
    }
    let organization = &config.organization;
    let name = hygiene::text(ctx.rules, "name", &input.name, Shape::Line)?;
    if !model::valid_email(&input.email) {
        return Err(Error::invalid(format!("email: `{}` is not an email address", input.email)));
    }
    let first = Person {
        schema: person::SCHEMA.into(),
        email: input.email.clone(),
        name,
        roles: vec![Role::IncidentManager],
        teams: vec![],
        keys: vec![parse_key(&input.key, ctx.now)?],
        revoked: false,
        revoked_at: None,
        revoked_reason: None,
        compromised_since: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let mut effect = Effect::new(format!("ims: new records repository for {organization}"))
        .action(AuditAction::Create, "config", "ims.yaml")
        .action(AuditAction::Create, "person", &input.email)
        .fields(&["ims.yaml", "people", "allowed_signers"]);
    write_config(&mut effect, &config)?;
    effect.write_main(&person::path(&first.email), &first.email, &first)?;
    effect.write_raw("allowed_signers", person::allowed_signers([&first]).into_bytes());
    effect.write_raw(".gitattributes", GITATTRIBUTES.as_bytes().to_vec());
    Ok(effect)
}

impl Procedure for Init {
    const ID: &'static str = "repo.init/1";
    type Input = InitInput;

    fn apply(ctx: &Ctx, input: &InitInput) -> Result<Effect> {
        let organization = hygiene::text(ctx.rules, "organization", &input.organization, Shape::Line)?;
        init_effect(ctx, input, Config::defaults(&organization, input.clock))
    }
}

/// `repo.init/2`: as `repo.init/1`, with the settings added since `config/1` was first
/// released ([`config::new_settings`]) written as the input gives them, so a later ims
/// that adds a setting needs no new init version: its `ims init` passes one more.
pub struct InitV2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitV2Input {
    pub organization: String,
    pub email: String,
    pub name: String,
    pub key: String,
    pub clock: Clock,
    /// Dotted setting key → value, laid over `repo.init/1`'s defaults.
    pub settings: std::collections::BTreeMap<String, Value>,
}

impl InitV2Input {
    /// The input `ims init` gives: every new setting at its default.
    pub fn new(organization: String, email: String, name: String, key: String, clock: Clock) -> InitV2Input {
        let settings = config::new_settings().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        InitV2Input { organization, email, name, key, clock, settings }
    }
}

impl Procedure for InitV2 {
    const ID: &'static str = "repo.init/2";
    type Input = InitV2Input;

    fn apply(ctx: &Ctx, input: &InitV2Input) -> Result<Effect> {
        let organization = hygiene::text(ctx.rules, "organization", &input.organization, Shape::Line)?;
        let mut value = serde_json::to_value(Config::defaults(&organization, input.clock))?;
        for (key, v) in &input.settings {
            set_path(&mut value, key, v.clone())?;
        }
        crate::model::notifications::refuse_inline_secrets(&value)?;
        let mut updated: Config =
            serde_json::from_value(value.clone()).map_err(|e| Error::invalid(format!("settings: {e}")))?;
        crate::schema::validate(&value, "ims.yaml")?;
        updated.check()?;
        crate::model::notifications::stamp(&mut updated, &mut value, ctx.now);
        let base = InitInput {
            organization: input.organization.clone(),
            email: input.email.clone(),
            name: input.name.clone(),
            key: input.key.clone(),
            clock: input.clock,
        };
        init_effect(ctx, &base, updated)
    }
}

/// Sets the dotted `key` of a settings value, which may be absent when it is one of
/// [`config::new_settings`] (a repository made before it). Returns the old value.
fn set_path(value: &mut Value, key: &str, new: Value) -> Result<Value> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut slot = value;
    for (i, part) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        slot = match slot {
            Value::Object(map) => {
                if last && !map.contains_key(*part) && config::new_settings().iter().any(|(k, _)| *k == key) {
                    map.insert(part.to_string(), Value::Null);
                }
                map.get_mut(*part)
                    .ok_or_else(|| Error::invalid(format!("config key `{key}`: ims.yaml has no `{part}` there")))?
            }
            _ => {
                return Err(Error::invalid(format!(
                    "config key `{key}`: `{part}` is inside a value that is not a mapping"
                )))
            }
        };
    }
    Ok(std::mem::replace(slot, new))
}

// ---------------------------------------------------------------------------------------

/// How many incident managers are registered and active.
fn incident_managers(snap: &dyn Snapshot) -> Result<usize> {
    Ok(model::people(snap)?.iter().filter(|p| !p.revoked && p.has_role(Role::IncidentManager)).count())
}

/// Either makes the change now, or, with two or more incident managers, files it as a
/// proposal for another one to approve.
pub(super) fn propose_or_apply<I: Serialize>(
    ctx: &Ctx,
    procedure: &str,
    proposal_id: &str,
    input: &I,
    summary: String,
    apply: impl FnOnce() -> Result<Effect>,
) -> Result<Effect> {
    // A well-formed id whichever way it goes, so a change cannot carry an input that only
    // the one-manager path accepts (verify re-checks merged work under the joined registry).
    crate::ids::RecordId::parse(proposal_id, "proposal_id")?;
    if incident_managers(ctx.snap)? < 2 {
        return apply();
    }
    // Validate now so a bad proposal is refused at once, not at approval.
    apply()?;
    let proposal = Proposal {
        schema: proposal::SCHEMA.into(),
        proposal_id: proposal_id.into(),
        procedure: procedure.into(),
        input: serde_json::to_value(input)?,
        summary: summary.clone(),
        status: ProposalStatus::Pending,
        proposed_by: ctx.actor.into(),
        proposed_at: ctx.now,
        decided_by: None,
        decided_at: None,
        reason: None,
    };
    let mut effect = Effect::new(format!("proposal: {summary}"))
        .line("Waits for a second incident manager: ims proposal approve ".to_string() + proposal_id)
        .action(AuditAction::Create, "proposal", proposal_id)
        .fields(&["status"]);
    effect.write_main(&record_path(RecordKind::Proposal, proposal_id), proposal_id, &proposal)?;
    Ok(effect)
}

pub(super) fn require_manager(ctx: &Ctx, what: &str) -> Result<Person> {
    ctx.require(&[Role::IncidentManager], what)
}

/// Refuses to leave the repository without an active incident manager.
fn keep_a_manager(snap: &dyn Snapshot, changed: &Person) -> Result<()> {
    let remaining = model::people(snap)?
        .into_iter()
        .filter(|p| p.email != changed.email)
        .chain(std::iter::once(changed.clone()))
        .filter(|p| !p.revoked && p.has_role(Role::IncidentManager))
        .count();
    if remaining == 0 {
        return Err(Error::precondition(format!(
            "{}: this would leave no incident manager to govern the repository",
            changed.email
        )));
    }
    Ok(())
}

/// `config.set/1`: one setting of `ims.yaml`, by its dotted path.
pub struct ConfigSet;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigSetInput {
    pub key: String,
    pub value: Value,
    pub proposal_id: String,
}

impl ConfigSet {
    fn change(ctx: &Ctx, input: &ConfigSetInput) -> Result<Effect> {
        let current = model::config(ctx.snap)?;
        let mut value = serde_json::to_value(&current)?;
        let key = input.key.trim();
        if key == "schema" || key == "clock" || key.starts_with("schema.") || key.starts_with("clock.") {
            return Err(Error::invalid(format!("{key}: fixed when the repository was made; it cannot be set")));
        }
        hygiene::screen_value(ctx.rules, key, &input.value)?;
        // A setting added since this repository was made may be set although it is absent.
        let old = set_path(&mut value, key, input.value.clone())?;
        crate::model::notifications::refuse_inline_secrets(&value)?;
        let mut updated: Config =
            serde_json::from_value(value.clone()).map_err(|e| Error::invalid(format!("config key `{key}`: {e}")))?;
        crate::schema::validate(&value, "ims.yaml")?;
        updated.check()?;
        crate::model::notifications::stamp(&mut updated, &mut value, ctx.now);
        let mut effect = Effect::new(format!("config: set {key}"))
            .line(format!(
                "{key}: {} -> {}",
                crate::engine::canonical_json(&old)?,
                crate::engine::canonical_json(&input.value)?
            ))
            .action(AuditAction::Update, "config", "ims.yaml")
            .fields(&[key]);
        write_config(&mut effect, &updated)?;
        effect.id = Some("ims.yaml".into());
        effect.record = Some(value);
        Ok(effect)
    }
}

impl Procedure for ConfigSet {
    const ID: &'static str = "config.set/1";
    type Input = ConfigSetInput;

    fn apply(ctx: &Ctx, input: &ConfigSetInput) -> Result<Effect> {
        require_manager(ctx, "config set")?;
        propose_or_apply(ctx, Self::ID, &input.proposal_id, input, format!("config set {}", input.key), || {
            ConfigSet::change(ctx, input)
        })
    }
}

/// Why two spellings name one person, for the refusal of a duplicate registration.
pub const SAME_EMAIL: &str = "emails are compared ignoring case and a trailing dot of the domain";

/// `person.add/1`: registers a person with roles, teams and an optional SSH key.
pub struct PersonAdd;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersonAddInput {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    pub teams: Vec<Team>,
    pub key: Option<String>,
    pub proposal_id: String,
}

impl PersonAdd {
    fn change(ctx: &Ctx, input: &PersonAddInput) -> Result<Effect> {
        if !model::valid_email(&input.email) {
            return Err(Error::invalid(format!("email: `{}` is not an email address", input.email)));
        }
        if model::person(ctx.snap, &input.email)?.is_some() {
            return Err(Error::precondition(format!("{}: already registered (use `ims person update`)", input.email)));
        }
        // Emails name one person however they are spelled: case and a trailing dot of
        // the domain do not count (`model::email_key`). A check on new input only
        // (`Rules::Screening`): a history recorded before it still replays.
        if ctx.rules.screening() {
            let key = model::email_key(&input.email);
            if let Some(existing) = model::people(ctx.snap)?.into_iter().find(|p| model::email_key(&p.email) == key) {
                return Err(Error::conflict(format!(
                    "email: {} is already registered as {} ({}); {SAME_EMAIL}",
                    input.email, existing.email, existing.name
                )));
            }
        }
        if input.roles.is_empty() {
            return Err(Error::invalid("role: at least one role is required"));
        }
        let person = Person {
            schema: person::SCHEMA.into(),
            email: input.email.clone(),
            name: hygiene::text(ctx.rules, "name", &input.name, Shape::Line)?,
            roles: dedup(&input.roles),
            teams: dedup(&input.teams),
            keys: match &input.key {
                Some(k) => vec![parse_key(k, ctx.now)?],
                None => vec![],
            },
            revoked: false,
            revoked_at: None,
            revoked_reason: None,
            compromised_since: None,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        let roles: Vec<&str> = person.roles.iter().map(|r| r.as_str()).collect();
        let mut effect = Effect::new(format!("person: add {} as {}", person.email, roles.join(", ")))
            .action(AuditAction::Create, "person", &person.email)
            .fields(&["roles", "teams", "keys"]);
        effect.write_main(&person::path(&person.email), &person.email, &person)?;
        write_allowed_signers(&mut effect, ctx.snap, &person)?;
        Ok(effect)
    }
}

impl Procedure for PersonAdd {
    const ID: &'static str = "person.add/1";
    type Input = PersonAddInput;

    fn apply(ctx: &Ctx, input: &PersonAddInput) -> Result<Effect> {
        require_manager(ctx, "person add")?;
        propose_or_apply(ctx, Self::ID, &input.proposal_id, input, format!("person add {}", input.email), || {
            PersonAdd::change(ctx, input)
        })
    }
}

fn dedup<T: PartialEq + Copy>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(*i);
        }
    }
    out
}

/// `person.update/1`: roles, teams or a new key (the old one stops signing now).
pub struct PersonUpdate;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersonUpdateInput {
    pub email: String,
    pub roles: Option<Vec<Role>>,
    pub teams: Option<Vec<Team>>,
    pub key: Option<String>,
    pub name: Option<String>,
    pub proposal_id: String,
}

fn existing(snap: &dyn Snapshot, email: &str) -> Result<Person> {
    model::person(snap, email)?.ok_or_else(|| Error::invalid(format!("{email}: no such person")))
}

impl PersonUpdate {
    fn change(ctx: &Ctx, input: &PersonUpdateInput) -> Result<Effect> {
        let mut p = existing(ctx.snap, &input.email)?;
        if p.revoked {
            return Err(Error::precondition(format!("{}: revoked; add them again under a new key", p.email)));
        }
        let mut fields = Vec::new();
        if let Some(roles) = &input.roles {
            if input.email == ctx.actor {
                return Err(Error::forbidden(format!("{}: nobody changes their own roles", ctx.actor)));
            }
            if roles.is_empty() {
                return Err(Error::invalid("role: at least one role is required"));
            }
            p.roles = dedup(roles);
            fields.push("roles");
        }
        if let Some(teams) = &input.teams {
            p.teams = dedup(teams);
            fields.push("teams");
        }
        if let Some(name) = &input.name {
            p.name = hygiene::text(ctx.rules, "name", name, Shape::Line)?;
            fields.push("name");
        }
        if let Some(key) = &input.key {
            let new = parse_key(key, ctx.now)?;
            if p.keys.iter().any(|k| k.key == new.key) {
                return Err(Error::invalid(format!("key: {} is already registered for {}", new.fingerprint, p.email)));
            }
            for k in p.keys.iter_mut().filter(|k| k.valid_before.is_none()) {
                k.valid_before = Some(ctx.now);
            }
            p.keys.push(new);
            fields.push("keys");
        }
        if fields.is_empty() {
            return Err(Error::invalid("person update: nothing to change (give --role, --team, --name or --key)"));
        }
        keep_a_manager(ctx.snap, &p)?;
        p.updated_at = ctx.now;
        let mut effect = Effect::new(format!("person: update {} ({})", p.email, fields.join(", ")))
            .action(AuditAction::Update, "person", &p.email)
            .fields(&fields);
        effect.write_main(&person::path(&p.email), &p.email, &p)?;
        write_allowed_signers(&mut effect, ctx.snap, &p)?;
        Ok(effect)
    }
}

impl Procedure for PersonUpdate {
    const ID: &'static str = "person.update/1";
    type Input = PersonUpdateInput;

    fn apply(ctx: &Ctx, input: &PersonUpdateInput) -> Result<Effect> {
        require_manager(ctx, "person update")?;
        propose_or_apply(ctx, Self::ID, &input.proposal_id, input, format!("person update {}", input.email), || {
            PersonUpdate::change(ctx, input)
        })
    }
}

/// `person.revoke/1`: the person's keys stop signing; with `compromised_since`, their
/// commits after that one are void too.
pub struct PersonRevoke;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PersonRevokeInput {
    pub email: String,
    pub reason: Option<String>,
    pub compromised_since: Option<String>,
    pub proposal_id: String,
}

impl PersonRevoke {
    fn change(ctx: &Ctx, input: &PersonRevokeInput) -> Result<Effect> {
        if input.email == ctx.actor {
            return Err(Error::forbidden(format!(
                "{}: nobody changes their own roles, revocation included",
                ctx.actor
            )));
        }
        let mut p = existing(ctx.snap, &input.email)?;
        if p.revoked {
            return Err(Error::precondition(format!("{}: already revoked", p.email)));
        }
        if let Some(c) = &input.compromised_since {
            if c.len() != 40 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::invalid(format!("compromised-since: `{c}` is not a full commit id")));
            }
        }
        p.revoked = true;
        p.revoked_at = Some(ctx.now);
        p.revoked_reason = hygiene::optional(ctx.rules, "reason", input.reason.as_deref(), Shape::Text)?;
        p.compromised_since = input.compromised_since.as_ref().map(|c| c.to_ascii_lowercase());
        for k in p.keys.iter_mut().filter(|k| k.valid_before.is_none()) {
            k.valid_before = Some(ctx.now);
        }
        p.updated_at = ctx.now;
        keep_a_manager(ctx.snap, &p)?;
        let mut effect = Effect::new(format!("person: revoke {}", p.email))
            .action(AuditAction::Update, "person", &p.email)
            .fields(&["revoked", "keys"]);
        if let Some(r) = &p.revoked_reason {
            effect = effect.line(format!("Reason: {r}"));
        }
        effect.write_main(&person::path(&p.email), &p.email, &p)?;
        write_allowed_signers(&mut effect, ctx.snap, &p)?;
        Ok(effect)
    }
}

impl Procedure for PersonRevoke {
    const ID: &'static str = "person.revoke/1";
    type Input = PersonRevokeInput;

    fn apply(ctx: &Ctx, input: &PersonRevokeInput) -> Result<Effect> {
        require_manager(ctx, "person revoke")?;
        propose_or_apply(ctx, Self::ID, &input.proposal_id, input, format!("person revoke {}", input.email), || {
            PersonRevoke::change(ctx, input)
        })
    }
}

// ---------------------------------------------------------------------------------------

/// `proposal.approve/1` and `proposal.reject/1`: a second incident manager decides.
pub struct ProposalDecide<const APPROVE: bool>;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProposalDecideInput {
    pub id: String,
    pub reason: Option<String>,
}

/// Applies the change a proposal holds, as its proposer, without proposing again.
fn apply_proposed(ctx: &Ctx, p: &Proposal) -> Result<Effect> {
    let as_proposer = Ctx { snap: ctx.snap, actor: &p.proposed_by, now: ctx.now, rules: ctx.rules };
    require_manager(&as_proposer, "proposal")?;
    let input = p.input.clone();
    let parse_err =
        |e: serde_json::Error| Error::invalid(format!("proposal {}: stored input does not fit: {e}", p.proposal_id));
    match p.procedure.as_str() {
        ConfigSet::ID => ConfigSet::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        PersonAdd::ID => PersonAdd::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        PersonUpdate::ID => PersonUpdate::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        PersonRevoke::ID => PersonRevoke::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        TemplateSet::ID => TemplateSet::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        TemplateRemove::ID => TemplateRemove::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        other => Err(Error::invalid(format!("proposal {}: unknown procedure {other}", p.proposal_id))),
    }
}

impl<const APPROVE: bool> Procedure for ProposalDecide<APPROVE> {
    const ID: &'static str = if APPROVE { "proposal.approve/1" } else { "proposal.reject/1" };
    type Input = ProposalDecideInput;

    fn apply(ctx: &Ctx, input: &ProposalDecideInput) -> Result<Effect> {
        let verb = if APPROVE { "approve" } else { "reject" };
        require_manager(ctx, &format!("proposal {verb}"))?;
        let id = crate::ids::RecordId::parse(&input.id, "proposal")?;
        let mut p: Proposal = model::record(ctx.snap, &id)?;
        if p.status != ProposalStatus::Pending {
            return Err(Error::precondition(
                format!("proposal {}: already {:?}", p.proposal_id, p.status).to_lowercase(),
            ));
        }
        if p.proposed_by == ctx.actor {
            return Err(Error::forbidden(format!(
                "proposal {}: the proposer cannot {verb} it; another incident manager must",
                p.proposal_id
            )));
        }
        let touches_self = p.input.get("email").and_then(Value::as_str) == Some(ctx.actor);
        if APPROVE && touches_self {
            return Err(Error::forbidden(format!(
                "proposal {}: it changes {}, who cannot approve changes to themselves",
                p.proposal_id, ctx.actor
            )));
        }
        let mut effect = if APPROVE {
            let mut e = apply_proposed(ctx, &p)?;
            e.subject = format!("proposal: approve {} ({})", p.proposal_id, p.summary);
            e
        } else {
            Effect::new(format!("proposal: reject {} ({})", p.proposal_id, p.summary))
        };
        p.status = if APPROVE { ProposalStatus::Approved } else { ProposalStatus::Rejected };
        p.decided_by = Some(ctx.actor.into());
        p.decided_at = Some(ctx.now);
        p.reason = hygiene::optional(ctx.rules, "reason", input.reason.as_deref(), Shape::Text)?;
        effect.actions.insert(0, crate::engine::ActionLine::new(AuditAction::Update, "proposal", &p.proposal_id));
        effect = effect.fields(&["status"]);
        let (main_id, main_record) = (effect.id.clone(), effect.record.clone());
        effect.write_main(&id.path(), &p.proposal_id, &p)?;
        if APPROVE {
            effect.id = main_id.or(effect.id);
            effect.record = main_record.or(effect.record);
        }
        Ok(effect)
    }
}

pub type ProposalApprove = ProposalDecide<true>;
pub type ProposalReject = ProposalDecide<false>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::testing::*;

    const IM: &str = "incident_manager@x.test";
    const IM2: &str = "im2@x.test";
    const PRP: &str = "PRP-20261126-0000000001";

    /// An OpenSSH public key line (no comment) from a fixed seed.
    fn key(seed: u8) -> String {
        let pair = ssh_key::private::Ed25519Keypair::from_seed(&[seed; 32]);
        let public = ssh_key::PublicKey::new(ssh_key::public::KeyData::Ed25519(pair.public), "");
        public.to_openssh().unwrap().trim().to_string()
    }

    fn registered(snap: &MemSnapshot, email: &str) -> Option<Person> {
        model::person(snap, email).unwrap()
    }

    /// The test registry with a second incident manager, so changes become proposals.
    fn two_managers() -> MemSnapshot {
        let mut snap = snapshot(None);
        let text = crate::yaml::to_canonical(&person(IM2, &[Role::IncidentManager])).unwrap();
        snap.files.insert(person::path(IM2), text.into_bytes());
        snap
    }

    fn add(email: &str) -> PersonAddInput {
        PersonAddInput {
            email: email.into(),
            name: "New Person".into(),
            roles: vec![Role::L2, Role::L2],
            teams: vec![Team::L2],
            key: Some(key(7)),
            proposal_id: PRP.into(),
        }
    }

    fn update(email: &str) -> PersonUpdateInput {
        PersonUpdateInput {
            email: email.into(),
            roles: None,
            teams: None,
            key: None,
            name: None,
            proposal_id: PRP.into(),
        }
    }

    fn revoke(email: &str) -> PersonRevokeInput {
        PersonRevokeInput {
            email: email.into(),
            reason: Some("left".into()),
            compromised_since: None,
            proposal_id: PRP.into(),
        }
    }

    fn set(key: &str, value: Value) -> ConfigSetInput {
        ConfigSetInput { key: key.into(), value, proposal_id: PRP.into() }
    }

    fn decide(reason: Option<&str>) -> ProposalDecideInput {
        ProposalDecideInput { id: PRP.into(), reason: reason.map(String::from) }
    }

    // repo.init ------------------------------------------------------------------------

    fn init() -> InitInput {
        InitInput {
            organization: "Example Org".into(),
            email: "first@x.test".into(),
            name: "First Manager".into(),
            key: key(1),
            clock: Clock::Simulated,
        }
    }

    #[test]
    fn init_writes_the_config_the_first_manager_and_allowed_signers() {
        let mut snap = MemSnapshot::default();
        let e = step::<Init>(&mut snap, "first@x.test", &init());
        assert_eq!(model::config(&snap).unwrap().organization, "Example Org");
        let first = registered(&snap, "first@x.test").expect("the first person is registered");
        assert_eq!((first.roles, first.name.as_str()), (vec![Role::IncidentManager], "First Manager"));
        assert_eq!(first.keys[0].key, key(1));
        let signers = String::from_utf8(e.writes["allowed_signers"].clone().unwrap()).unwrap();
        assert!(signers.contains(&key(1)), "{signers}");
    }

    #[test]
    fn init_step1_not_over_an_existing_repository() {
        halts(try_apply::<Init>(&snapshot(None), "first@x.test", &init()), Kind::Precondition, "ims.yaml exists");
    }

    #[test]
    fn init_step2_organization_name_email_and_key() {
        let empty = MemSnapshot::default();
        let cases = [
            ("organization", InitInput { organization: " ".into(), ..init() }),
            ("name", InitInput { name: "".into(), ..init() }),
            ("email: `first` is not an email address", InitInput { email: "first".into(), ..init() }),
            ("key: not an OpenSSH public key", InitInput { key: "ssh-ed25519 nonsense".into(), ..init() }),
        ];
        for (needle, input) in cases {
            halts(try_apply::<Init>(&empty, "first@x.test", &input), Kind::Invalid, needle);
        }
    }

    // config.set -------------------------------------------------------------------------

    #[test]
    fn config_set_changes_one_setting() {
        let mut snap = snapshot(None);
        let e = step::<ConfigSet>(&mut snap, IM, &set("problems.stability_window", Value::from("3d")));
        assert_eq!(model::config(&snap).unwrap().problems.stability_window, "3d");
        assert_eq!(e.body, ["problems.stability_window: \"7d\" -> \"3d\""]);
    }

    #[test]
    fn config_set_step1_only_incident_managers() {
        halts(
            try_apply::<ConfigSet>(
                &snapshot(None),
                &as_role(Role::ServiceDeskManager),
                &set("problems.stability_window", Value::from("3d")),
            ),
            Kind::Forbidden,
            "config set",
        );
    }

    #[test]
    fn config_set_step2_the_key_exists_and_may_be_set() {
        let snap = snapshot(None);
        for (key, needle) in [
            ("clock", "fixed when the repository was made"),
            ("schema", "fixed when the repository was made"),
            ("problems.nope.deeper", "ims.yaml has no `nope` there"),
            // Only a setting added since config/1 (config::new_settings) may be absent.
            ("problems.nope", "ims.yaml has no `nope` there"),
            ("problems.stability_window.days", "is inside a value that is not a mapping"),
        ] {
            halts(try_apply::<ConfigSet>(&snap, IM, &set(key, Value::from("3d"))), Kind::Invalid, needle);
        }
    }

    #[test]
    fn config_set_step3_the_value_fits_its_type_the_schema_and_the_checks() {
        let snap = snapshot(None);
        halts(
            try_apply::<ConfigSet>(&snap, IM, &set("problems.stability_window", Value::from(7))),
            Kind::Invalid,
            "config key `problems.stability_window`",
        );
        halts(
            try_apply::<ConfigSet>(&snap, IM, &set("problems.stability_window", Value::from("soon"))),
            Kind::Invalid,
            "/problems/stability_window \"soon\" does not match",
        );
        halts(
            try_apply::<ConfigSet>(&snap, IM, &set("sla.calendar", Value::from("office"))),
            Kind::Invalid,
            "sla.calendar: `office` is neither 24x7 nor a calendar",
        );
    }

    #[test]
    fn config_set_with_two_managers_is_a_proposal_until_the_second_approves() {
        let mut snap = two_managers();
        let e = step::<ConfigSet>(&mut snap, IM, &set("problems.stability_window", Value::from("3d")));
        assert!(!e.writes.contains_key(config::PATH));
        let p: Proposal = stored(&snap, RecordKind::Proposal, PRP);
        assert_eq!(
            (p.status, p.proposed_by.as_str(), p.procedure.as_str()),
            (ProposalStatus::Pending, IM, ConfigSet::ID)
        );
        assert_eq!(model::config(&snap).unwrap().problems.stability_window, "7d");
        step::<ProposalApprove>(&mut snap, IM2, &decide(None));
        assert_eq!(model::config(&snap).unwrap().problems.stability_window, "3d");
    }

    // person.add ------------------------------------------------------------------------

    #[test]
    fn person_add_registers_roles_teams_and_key() {
        let mut snap = snapshot(None);
        let e = step::<PersonAdd>(&mut snap, IM, &add("new@x.test"));
        let p = registered(&snap, "new@x.test").expect("registered");
        assert_eq!((p.roles, p.teams, p.name.as_str()), (vec![Role::L2], vec![Team::L2], "New Person"));
        assert_eq!(p.keys[0].key, key(7));
        assert!(String::from_utf8(e.writes["allowed_signers"].clone().unwrap()).unwrap().contains(&key(7)));
    }

    #[test]
    fn person_add_step1_only_incident_managers() {
        halts(
            try_apply::<PersonAdd>(&snapshot(None), &as_role(Role::L1), &add("new@x.test")),
            Kind::Forbidden,
            "person add",
        );
    }

    #[test]
    fn person_add_step2_a_new_valid_person() {
        let snap = snapshot(None);
        halts(try_apply::<PersonAdd>(&snap, IM, &add("new")), Kind::Invalid, "email: `new`");
        halts(try_apply::<PersonAdd>(&snap, IM, &add("l1@x.test")), Kind::Precondition, "already registered");
        // Another spelling of a registered email: case, a trailing dot of the domain.
        for spelling in ["L1@x.test", "l1@x.test.", "L1@X.Test."] {
            halts(
                try_apply::<PersonAdd>(&snap, IM, &add(spelling)),
                Kind::Conflict,
                "is already registered as l1@x.test (",
            );
        }
        // A history recorded before the check replays: the recorded rules do not apply it.
        let replay = Ctx { snap: &snap, actor: IM, now: now(), rules: hygiene::Rules::Recorded };
        assert!(PersonAdd::apply(&replay, &add("l1@x.test.")).is_ok());
        halts(
            try_apply::<PersonAdd>(&snap, IM, &PersonAddInput { roles: vec![], ..add("new@x.test") }),
            Kind::Invalid,
            "at least one role",
        );
        halts(
            try_apply::<PersonAdd>(&snap, IM, &PersonAddInput { name: "".into(), ..add("new@x.test") }),
            Kind::Invalid,
            "name",
        );
        halts(
            try_apply::<PersonAdd>(&snap, IM, &PersonAddInput { key: Some("AAAA".into()), ..add("new@x.test") }),
            Kind::Invalid,
            "key: not an OpenSSH public key",
        );
    }

    // person.update ---------------------------------------------------------------------

    #[test]
    fn person_update_changes_roles_and_rotates_the_key() {
        let mut snap = snapshot(None);
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { key: Some(key(2)), ..update("l1@x.test") });
        let later = now() + chrono::Duration::hours(1);
        let i = PersonUpdateInput { roles: Some(vec![Role::L2]), key: Some(key(3)), ..update("l1@x.test") };
        step_at::<PersonUpdate>(&mut snap, IM, later, &i);
        let p = registered(&snap, "l1@x.test").unwrap();
        assert_eq!(p.roles, [Role::L2]);
        assert_eq!((p.keys[0].key.clone(), p.keys[0].valid_before), (key(2), Some(later)));
        assert_eq!((p.keys[1].key.clone(), p.keys[1].valid_before), (key(3), None));
    }

    #[test]
    fn person_update_step1_only_incident_managers_never_their_own_roles() {
        let snap = snapshot(None);
        let i = PersonUpdateInput { roles: Some(vec![Role::L2]), ..update("l1@x.test") };
        halts(try_apply::<PersonUpdate>(&snap, &as_role(Role::L2), &i), Kind::Forbidden, "person update");
        let own = PersonUpdateInput { roles: Some(vec![Role::IncidentManager, Role::L3]), ..update(IM) };
        halts(try_apply::<PersonUpdate>(&snap, IM, &own), Kind::Forbidden, "nobody changes their own roles");
    }

    #[test]
    fn person_update_step2_an_active_registered_person() {
        let mut snap = snapshot(None);
        let i = PersonUpdateInput { teams: Some(vec![Team::L3]), ..update("ghost@x.test") };
        halts(try_apply::<PersonUpdate>(&snap, IM, &i), Kind::Invalid, "ghost@x.test: no such person");
        step::<PersonRevoke>(&mut snap, IM, &revoke("l1@x.test"));
        let i = PersonUpdateInput { teams: Some(vec![Team::L3]), ..update("l1@x.test") };
        halts(try_apply::<PersonUpdate>(&snap, IM, &i), Kind::Precondition, "revoked");
    }

    #[test]
    fn person_update_step3_roles_keys_and_something_to_change() {
        let mut snap = snapshot(None);
        halts(
            try_apply::<PersonUpdate>(&snap, IM, &PersonUpdateInput { roles: Some(vec![]), ..update("l1@x.test") }),
            Kind::Invalid,
            "at least one role",
        );
        halts(try_apply::<PersonUpdate>(&snap, IM, &update("l1@x.test")), Kind::Invalid, "nothing to change");
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { key: Some(key(2)), ..update("l1@x.test") });
        halts(
            try_apply::<PersonUpdate>(&snap, IM, &PersonUpdateInput { key: Some(key(2)), ..update("l1@x.test") }),
            Kind::Invalid,
            "is already registered for l1@x.test",
        );
    }

    #[test]
    fn keep_a_manager_refuses_to_remove_the_last_one() {
        let snap = snapshot(None);
        let mut last = registered(&snap, IM).unwrap();
        last.roles = vec![Role::L3];
        halts(keep_a_manager(&snap, &last), Kind::Precondition, "would leave no incident manager");
        assert!(keep_a_manager(&two_managers(), &last).is_ok());
        last.roles = vec![Role::IncidentManager];
        last.revoked = true;
        halts(keep_a_manager(&snap, &last), Kind::Precondition, "would leave no incident manager");
    }

    // person.revoke ---------------------------------------------------------------------

    #[test]
    fn person_revoke_ends_the_keys_and_records_the_compromise() {
        let mut snap = snapshot(None);
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { key: Some(key(2)), ..update("l1@x.test") });
        let since = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
        let e = step::<PersonRevoke>(
            &mut snap,
            IM,
            &PersonRevokeInput { compromised_since: Some(since.into()), ..revoke("l1@x.test") },
        );
        let p = registered(&snap, "l1@x.test").unwrap();
        assert_eq!((p.revoked, p.revoked_at, p.revoked_reason.as_deref()), (true, Some(now()), Some("left")));
        assert_eq!(p.compromised_since.as_deref(), Some(since.to_ascii_lowercase().as_str()));
        assert_eq!(p.keys[0].valid_before, Some(now()));
        assert_eq!(e.body, ["Reason: left"]);
    }

    #[test]
    fn person_revoke_step1_only_incident_managers_never_themselves() {
        halts(
            try_apply::<PersonRevoke>(&snapshot(None), &as_role(Role::L1), &revoke("l2@x.test")),
            Kind::Forbidden,
            "person revoke",
        );
        halts(try_apply::<PersonRevoke>(&snapshot(None), IM, &revoke(IM)), Kind::Forbidden, "revocation included");
    }

    #[test]
    fn person_revoke_step2_an_active_person_and_a_full_commit_id() {
        let mut snap = snapshot(None);
        halts(try_apply::<PersonRevoke>(&snap, IM, &revoke("ghost@x.test")), Kind::Invalid, "no such person");
        halts(
            try_apply::<PersonRevoke>(
                &snap,
                IM,
                &PersonRevokeInput { compromised_since: Some("abc123".into()), ..revoke("l1@x.test") },
            ),
            Kind::Invalid,
            "compromised-since: `abc123` is not a full commit id",
        );
        step::<PersonRevoke>(&mut snap, IM, &revoke("l1@x.test"));
        halts(try_apply::<PersonRevoke>(&snap, IM, &revoke("l1@x.test")), Kind::Precondition, "already revoked");
    }

    // proposal.approve / proposal.reject --------------------------------------------------

    /// Two managers; the first has proposed adding new@x.test.
    fn proposed() -> MemSnapshot {
        let mut snap = two_managers();
        let e = step::<PersonAdd>(&mut snap, IM, &add("new@x.test"));
        assert!(!e.writes.contains_key(&person::path("new@x.test")), "a proposal does not register anyone yet");
        snap
    }

    #[test]
    fn proposal_approve_applies_the_change_as_its_proposer() {
        let mut snap = proposed();
        let e = step::<ProposalApprove>(&mut snap, IM2, &decide(Some("checked with HR")));
        assert_eq!(registered(&snap, "new@x.test").unwrap().roles, [Role::L2]);
        let p: Proposal = stored(&snap, RecordKind::Proposal, PRP);
        assert_eq!(
            (p.status, p.decided_by.as_deref(), p.reason.as_deref()),
            (ProposalStatus::Approved, Some(IM2), Some("checked with HR"))
        );
        assert_eq!(e.id.as_deref(), Some("new@x.test"));
    }

    #[test]
    fn proposal_reject_changes_nothing_but_the_proposal() {
        let mut snap = proposed();
        let e = step::<ProposalReject>(&mut snap, IM2, &decide(Some("not yet")));
        assert!(registered(&snap, "new@x.test").is_none());
        assert_eq!(e.writes.len(), 1);
        assert_eq!(stored::<Proposal>(&snap, RecordKind::Proposal, PRP).status, ProposalStatus::Rejected);
    }

    #[test]
    fn proposal_step1_only_another_incident_manager() {
        let snap = proposed();
        halts(
            try_apply::<ProposalApprove>(&snap, &as_role(Role::L3), &decide(None)),
            Kind::Forbidden,
            "proposal approve",
        );
        halts(
            try_apply::<ProposalReject>(&snap, &as_role(Role::L3), &decide(None)),
            Kind::Forbidden,
            "proposal reject",
        );
        halts(
            try_apply::<ProposalApprove>(&snap, IM, &decide(None)),
            Kind::Forbidden,
            "the proposer cannot approve it",
        );
        halts(try_apply::<ProposalReject>(&snap, IM, &decide(None)), Kind::Forbidden, "the proposer cannot reject it");
    }

    #[test]
    fn proposal_step1_nobody_approves_a_change_to_themselves() {
        let mut snap = two_managers();
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { teams: Some(vec![Team::L3]), ..update(IM2) });
        halts(
            try_apply::<ProposalApprove>(&snap, IM2, &decide(None)),
            Kind::Forbidden,
            "cannot approve changes to themselves",
        );
        assert!(try_apply::<ProposalReject>(&snap, IM2, &decide(None)).is_ok());
    }

    #[test]
    fn proposal_step2_a_pending_proposal() {
        let mut snap = proposed();
        halts(
            try_apply::<ProposalApprove>(&snap, IM2, &ProposalDecideInput { id: "PRP-nope".into(), reason: None }),
            Kind::Invalid,
            "PRP-nope",
        );
        halts(
            try_apply::<ProposalApprove>(
                &snap,
                IM2,
                &ProposalDecideInput { id: "PRP-20261126-0000000009".into(), reason: None },
            ),
            Kind::Invalid,
            "no such proposal",
        );
        step::<ProposalReject>(&mut snap, IM2, &decide(None));
        halts(try_apply::<ProposalApprove>(&snap, IM2, &decide(None)), Kind::Precondition, "already rejected");
    }

    #[test]
    fn proposal_step3_the_proposer_is_still_a_manager_and_the_input_still_fits() {
        let base = proposed();
        let mut snap = base.clone();
        let demoted = crate::yaml::to_canonical(&person(IM, &[Role::L1])).unwrap();
        snap.files.insert(person::path(IM), demoted.into_bytes());
        halts(try_apply::<ProposalApprove>(&snap, IM2, &decide(None)), Kind::Forbidden, "has roles [L1]");
        let p: Proposal = stored(&base, RecordKind::Proposal, PRP);
        let mut snap = base.clone();
        put(&mut snap, RecordKind::Proposal, PRP, &Proposal { input: serde_json::json!({"email": 7}), ..p.clone() });
        halts(try_apply::<ProposalApprove>(&snap, IM2, &decide(None)), Kind::Invalid, "stored input does not fit");
        let mut snap = base;
        put(&mut snap, RecordKind::Proposal, PRP, &Proposal { procedure: "incident.fly/1".into(), ..p });
        halts(
            try_apply::<ProposalApprove>(&snap, IM2, &decide(None)),
            Kind::Invalid,
            "unknown procedure incident.fly/1",
        );
    }
}
