//! `repo.init/1` and `repo.init/2`: the root commit of a records repository.
//!
//! Policy steps: 1. not over an existing repository; 2. an organization, the first
//! person's name, email and key (they become its first incident manager), and for
//! `/2` settings that fit the schema and the settings' checks.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::config::{self, Clock, Config};
use crate::model::enums::{AuditAction, Role};
use crate::model::person::{self, Person};
use crate::model::{self};
use crate::procedures::config::{set_path, write_config};
use crate::procedures::person::parse_key;

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

fn init_effect<P: Procedure>(ctx: &Ctx, input: &InitInput, config: Config) -> Result<Effect> {
    if ctx.snap.read(config::PATH)?.is_some() {
        return Err(Error::precondition("ims.yaml exists: this is already a records repository").at(P::step(1)));
    }
    let organization = &config.organization;
    let name = hygiene::text(ctx.rules, "name", &input.name, Shape::Line).at(P::step(2))?;
    if !model::valid_email(&input.email) {
        return Err(Error::invalid(format!("email: `{}` is not an email address", input.email))
            .at(P::step(2))
            .field("email"));
    }
    let key = parse_key(&input.key, ctx.now).at(P::step(2))?;
    let first = Person::new(input.email.clone(), name, vec![Role::IncidentManager], vec![], vec![key], ctx.now);
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
        let organization =
            hygiene::text(ctx.rules, "organization", &input.organization, Shape::Line).at(Self::step(2))?;
        init_effect::<Self>(ctx, input, Config::defaults(&organization, input.clock))
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
        let organization =
            hygiene::text(ctx.rules, "organization", &input.organization, Shape::Line).at(Self::step(2))?;
        let mut value = serde_json::to_value(Config::defaults(&organization, input.clock))?;
        for (key, v) in &input.settings {
            set_path(&mut value, key, v.clone()).at(Self::step(2)).field("settings")?;
        }
        crate::model::notifications::refuse_inline_secrets(&value).at(Self::step(2)).field("settings")?;
        let mut updated: Config = serde_json::from_value(value.clone())
            .map_err(|e| Error::invalid(format!("settings: {e}")))
            .at(Self::step(2))
            .field("settings")?;
        crate::schema::validate(&value, "ims.yaml").at(Self::step(2)).field("settings")?;
        updated.check().at(Self::step(2)).field("settings")?;
        crate::model::notifications::stamp(&mut updated, &mut value, ctx.now);
        let base = InitInput {
            organization: input.organization.clone(),
            email: input.email.clone(),
            name: input.name.clone(),
            key: input.key.clone(),
            clock: input.clock,
        };
        init_effect::<Self>(ctx, &base, updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::testing::*;

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
    fn writes_the_config_the_first_manager_and_allowed_signers() {
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
    fn step1_not_over_an_existing_repository() {
        halts_at(
            try_apply::<Init>(&snapshot(None), "first@x.test", &init()),
            Kind::Precondition,
            "ims.yaml exists",
            Init::step(1),
            None,
        );
    }

    #[test]
    fn step2_organization_name_email_and_key() {
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
}
