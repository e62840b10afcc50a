//! `config.set/1`: one setting of `ims.yaml`, by its dotted path.
//!
//! Policy steps: 1. only an incident manager (a proposal once there are two, see
//! [`crate::procedures::proposal`]); 2. a key that exists (or a setting added since the
//! repository was made) and may be set; 3. a value that fits its type, the schema and
//! the settings' checks.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{set_path, write_config};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene;
use crate::model::config::Config;
use crate::model::enums::AuditAction;
use crate::model::{self};
use crate::procedures::proposal::{govern, Governed};

/// `config.set/1`: one setting of `ims.yaml`, by its dotted path.
pub struct ConfigSet;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConfigSetInput {
    pub key: String,
    pub value: Value,
    pub proposal_id: String,
}

impl Governed for ConfigSet {
    const WHAT: &'static str = "config set";
    fn proposal_id(input: &ConfigSetInput) -> &str {
        &input.proposal_id
    }
    fn about(input: &ConfigSetInput) -> &str {
        &input.key
    }

    fn change(ctx: &Ctx, input: &ConfigSetInput) -> Result<Effect> {
        let current = model::config(ctx.snap)?;
        let mut value = serde_json::to_value(&current)?;
        let key = input.key.trim();
        if key == "schema" || key == "clock" || key.starts_with("schema.") || key.starts_with("clock.") {
            return Err(Error::invalid(format!("{key}: fixed when the repository was made; it cannot be set"))
                .at(Self::step(2))
                .field("key"));
        }
        hygiene::screen_value(ctx.rules, key, &input.value).at(Self::step(3))?;
        // A setting added since this repository was made may be set although it is absent.
        let old = set_path(&mut value, key, input.value.clone()).at(Self::step(2)).field("key")?;
        crate::model::notifications::refuse_inline_secrets(&value).at(Self::step(3)).field("value")?;
        let mut updated: Config = serde_json::from_value(value.clone())
            .map_err(|e| Error::invalid(format!("config key `{key}`: {e}")))
            .at(Self::step(3))
            .field("value")?;
        crate::schema::validate(&value, "ims.yaml").at(Self::step(3)).field("value")?;
        updated.check().at(Self::step(3)).field("value")?;
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
        govern::<Self>(ctx, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::ids::RecordKind;
    use crate::model::config;
    use crate::model::enums::Role;
    use crate::model::proposal::{Proposal, ProposalStatus};
    use crate::procedures::proposal::decide::ProposalApprove;
    use crate::procedures::testing::*;

    #[test]
    fn changes_one_setting() {
        let mut snap = snapshot(None);
        let e = step::<ConfigSet>(&mut snap, IM, &config_set("problems.stability_window", Value::from("3d")));
        assert_eq!(model::config(&snap).unwrap().problems.stability_window, "3d");
        assert_eq!(e.body, ["problems.stability_window: \"7d\" -> \"3d\""]);
    }

    #[test]
    fn step1_only_incident_managers() {
        halts_at(
            try_apply::<ConfigSet>(
                &snapshot(None),
                &as_role(Role::ServiceDeskManager),
                &config_set("problems.stability_window", Value::from("3d")),
            ),
            Kind::Forbidden,
            "config set",
            ConfigSet::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_the_key_exists_and_may_be_set() {
        let snap = snapshot(None);
        for (key, needle) in [
            ("clock", "fixed when the repository was made"),
            ("schema", "fixed when the repository was made"),
            ("problems.nope.deeper", "ims.yaml has no `nope` there"),
            // Only a setting added since config/1 (config::new_settings) may be absent.
            ("problems.nope", "ims.yaml has no `nope` there"),
            ("problems.stability_window.days", "is inside a value that is not a mapping"),
        ] {
            halts_at(
                try_apply::<ConfigSet>(&snap, IM, &config_set(key, Value::from("3d"))),
                Kind::Invalid,
                needle,
                ConfigSet::step(2),
                Some("key"),
            );
        }
    }

    #[test]
    fn step3_the_value_fits_its_type_the_schema_and_the_checks() {
        let snap = snapshot(None);
        halts_at(
            try_apply::<ConfigSet>(&snap, IM, &config_set("problems.stability_window", Value::from(7))),
            Kind::Invalid,
            "config key `problems.stability_window`",
            ConfigSet::step(3),
            Some("value"),
        );
        halts_at(
            try_apply::<ConfigSet>(&snap, IM, &config_set("problems.stability_window", Value::from("soon"))),
            Kind::Invalid,
            "/problems/stability_window \"soon\" does not match",
            ConfigSet::step(3),
            Some("value"),
        );
        halts_at(
            try_apply::<ConfigSet>(&snap, IM, &config_set("sla.calendar", Value::from("office"))),
            Kind::Invalid,
            "sla.calendar: `office` is neither 24x7 nor a calendar",
            ConfigSet::step(3),
            Some("value"),
        );
    }

    #[test]
    fn with_two_managers_is_a_proposal_until_the_second_approves() {
        let mut snap = two_managers();
        let e = step::<ConfigSet>(&mut snap, IM, &config_set("problems.stability_window", Value::from("3d")));
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
}
