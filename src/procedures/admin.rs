//! Administration procedures: `repo.init`, `config.set`, `person.add|update|revoke`,
//! `proposal.approve|reject`.
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
use crate::model::config::{self, Clock, Config};
use crate::model::enums::{AuditAction, Role, Team};
use crate::model::person::{self, Person, PersonKey};
use crate::model::proposal::{self, Proposal, ProposalStatus};
use crate::model::{self, Snapshot};
use crate::signing;

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
    let key = signing::parse_public(text, "key")?;
    Ok(PersonKey {
        key: signing::key_line(&key)?,
        fingerprint: signing::fingerprint(&key),
        valid_after: now,
        valid_before: None,
    })
}

// ---------------------------------------------------------------------------------------

/// `repo.init/1`: the root commit. Writes `ims.yaml` in full, the first person (an
/// incident manager) and `allowed_signers`.
pub struct Init;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitInput {
    pub organization: String,
    pub email: String,
    pub name: String,
    pub key: String,
    pub clock: Clock,
}

impl Procedure for Init {
    const ID: &'static str = "repo.init/1";
    type Input = InitInput;

    fn apply(ctx: &Ctx, input: &InitInput) -> Result<Effect> {
        if ctx.snap.read(config::PATH)?.is_some() {
            return Err(Error::precondition("ims.yaml exists: this is already a records repository"));
        }
        let organization = hygiene::text("organization", &input.organization, Shape::Line)?;
        let name = hygiene::text("name", &input.name, Shape::Line)?;
        if !model::valid_email(&input.email) {
            return Err(Error::invalid(format!("email: `{}` is not an email address", input.email)));
        }
        let config = Config::defaults(&organization, input.clock);
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
        Ok(effect)
    }
}

// ---------------------------------------------------------------------------------------

/// How many incident managers are registered and active.
fn incident_managers(snap: &dyn Snapshot) -> Result<usize> {
    Ok(model::people(snap)?.iter().filter(|p| !p.revoked && p.has_role(Role::IncidentManager)).count())
}

/// Either makes the change now, or, with two or more incident managers, files it as a
/// proposal for another one to approve.
fn propose_or_apply<I: Serialize>(
    ctx: &Ctx,
    procedure: &str,
    proposal_id: &str,
    input: &I,
    summary: String,
    apply: impl FnOnce() -> Result<Effect>,
) -> Result<Effect> {
    if incident_managers(ctx.snap)? < 2 {
        return apply();
    }
    // Validate now so a bad proposal is refused at once, not at approval.
    apply()?;
    crate::ids::RecordId::parse(proposal_id, "proposal_id")?;
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

fn require_manager(ctx: &Ctx, what: &str) -> Result<Person> {
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
        let mut slot = &mut value;
        for part in key.split('.') {
            slot = match slot {
                Value::Object(map) => map
                    .get_mut(part)
                    .ok_or_else(|| Error::invalid(format!("config key `{key}`: ims.yaml has no `{part}` there")))?,
                _ => {
                    return Err(Error::invalid(format!(
                        "config key `{key}`: `{part}` is inside a value that is not a mapping"
                    )))
                }
            };
        }
        let old = slot.clone();
        hygiene::screen_value(key, &input.value)?;
        *slot = input.value.clone();
        let updated: Config =
            serde_json::from_value(value.clone()).map_err(|e| Error::invalid(format!("config key `{key}`: {e}")))?;
        crate::schema::validate(&value, "ims.yaml")?;
        updated.check()?;
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
        // Emails name one person whatever their case. A check on new input only
        // (hygiene::screening): a history recorded before it still replays.
        if hygiene::screening() {
            let folded = input.email.to_lowercase();
            if let Some(existing) = model::people(ctx.snap)?.into_iter().find(|p| p.email.to_lowercase() == folded) {
                return Err(Error::conflict(format!(
                    "email: {} is already registered as {} ({}); emails are compared case-insensitively",
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
            name: hygiene::text("name", &input.name, Shape::Line)?,
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
            p.name = hygiene::text("name", name, Shape::Line)?;
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
        p.revoked_reason = hygiene::optional("reason", input.reason.as_deref(), Shape::Text)?;
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
    let as_proposer = Ctx { snap: ctx.snap, actor: &p.proposed_by, now: ctx.now };
    require_manager(&as_proposer, "proposal")?;
    let input = p.input.clone();
    let parse_err =
        |e: serde_json::Error| Error::invalid(format!("proposal {}: stored input does not fit: {e}", p.proposal_id));
    match p.procedure.as_str() {
        ConfigSet::ID => ConfigSet::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        PersonAdd::ID => PersonAdd::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        PersonUpdate::ID => PersonUpdate::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
        PersonRevoke::ID => PersonRevoke::change(&as_proposer, &serde_json::from_value(input).map_err(parse_err)?),
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
        p.reason = hygiene::optional("reason", input.reason.as_deref(), Shape::Text)?;
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
