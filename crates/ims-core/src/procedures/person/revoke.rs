//! `person.revoke/1`: the person's keys stop signing; with `compromised_since`, their
//! commits after that one are void too.
//!
//! Policy steps: 1. only an incident manager (a proposal once there are two, see
//! [`crate::procedures::proposal`]), never revoking themselves; 2. an active registered
//! person, a full commit id for `compromised_since`, and an incident manager left.

use serde::{Deserialize, Serialize};

use super::{existing, keep_a_manager, write_allowed_signers};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::AuditAction;
use crate::model::person;
use crate::procedures::proposal::{govern, Governed};

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

impl Governed for PersonRevoke {
    const WHAT: &'static str = "person revoke";
    fn proposal_id(input: &PersonRevokeInput) -> &str {
        &input.proposal_id
    }
    fn about(input: &PersonRevokeInput) -> &str {
        &input.email
    }

    fn change(ctx: &Ctx, input: &PersonRevokeInput) -> Result<Effect> {
        if input.email == ctx.actor {
            return Err(Error::forbidden(format!(
                "{}: nobody changes their own roles, revocation included",
                ctx.actor
            ))
            .at(Self::step(1))
            .field("email"));
        }
        let mut p = existing(ctx.snap, &input.email).at(Self::step(2)).field("email")?;
        if p.revoked {
            return Err(Error::precondition(format!("{}: already revoked", p.email)).at(Self::step(2)).field("email"));
        }
        if let Some(c) = &input.compromised_since {
            if c.len() != 40 || !c.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Error::invalid(format!("compromised-since: `{c}` is not a full commit id"))
                    .at(Self::step(2))
                    .field("compromised_since"));
            }
        }
        p.revoked = true;
        p.revoked_at = Some(ctx.now);
        p.revoked_reason =
            hygiene::optional(ctx.rules, "reason", input.reason.as_deref(), Shape::Text).at(Self::step(2))?;
        p.compromised_since = input.compromised_since.as_ref().map(|c| c.to_ascii_lowercase());
        for k in p.keys.iter_mut().filter(|k| k.valid_before.is_none()) {
            k.valid_before = Some(ctx.now);
        }
        p.updated_at = ctx.now;
        keep_a_manager(ctx.snap, &p).at(Self::step(2))?;
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
        govern::<Self>(ctx, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::model::enums::Role;
    use crate::procedures::person::update::{PersonUpdate, PersonUpdateInput};
    use crate::procedures::testing::*;

    #[test]
    fn ends_the_keys_and_records_the_compromise() {
        let mut snap = snapshot(None);
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { key: Some(key(2)), ..person_update("l1@x.test") });
        let since = "ABCDEF0123456789ABCDEF0123456789ABCDEF01";
        let e = step::<PersonRevoke>(
            &mut snap,
            IM,
            &PersonRevokeInput { compromised_since: Some(since.into()), ..person_revoke("l1@x.test") },
        );
        let p = registered(&snap, "l1@x.test").unwrap();
        assert_eq!((p.revoked, p.revoked_at, p.revoked_reason.as_deref()), (true, Some(now()), Some("left")));
        assert_eq!(p.compromised_since.as_deref(), Some(since.to_ascii_lowercase().as_str()));
        assert_eq!(p.keys[0].valid_before, Some(now()));
        assert_eq!(e.body, ["Reason: left"]);
    }

    #[test]
    fn step1_only_incident_managers_never_themselves() {
        halts_at(
            try_apply::<PersonRevoke>(&snapshot(None), &as_role(Role::L1), &person_revoke("l2@x.test")),
            Kind::Forbidden,
            "person revoke",
            PersonRevoke::step(1),
            Some("roles"),
        );
        halts_at(
            try_apply::<PersonRevoke>(&snapshot(None), IM, &person_revoke(IM)),
            Kind::Forbidden,
            "revocation included",
            PersonRevoke::step(1),
            Some("email"),
        );
    }

    #[test]
    fn step2_an_active_person_and_a_full_commit_id() {
        let mut snap = snapshot(None);
        halts_at(
            try_apply::<PersonRevoke>(&snap, IM, &person_revoke("ghost@x.test")),
            Kind::Invalid,
            "no such person",
            PersonRevoke::step(2),
            Some("email"),
        );
        halts(
            try_apply::<PersonRevoke>(
                &snap,
                IM,
                &PersonRevokeInput { compromised_since: Some("abc123".into()), ..person_revoke("l1@x.test") },
            ),
            Kind::Invalid,
            "compromised-since: `abc123` is not a full commit id",
        );
        step::<PersonRevoke>(&mut snap, IM, &person_revoke("l1@x.test"));
        halts_at(
            try_apply::<PersonRevoke>(&snap, IM, &person_revoke("l1@x.test")),
            Kind::Precondition,
            "already revoked",
            PersonRevoke::step(2),
            Some("email"),
        );
    }
}
