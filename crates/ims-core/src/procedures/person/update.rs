//! `person.update/1`: roles, teams, name or a new key (the old one stops signing now).
//!
//! Policy steps: 1. only an incident manager (a proposal once there are two, see
//! [`crate::procedures::proposal`]), and nobody changes their own roles; 2. an active
//! registered person; 3. at least one role, a key not registered yet, something to
//! change, and an incident manager left.

use serde::{Deserialize, Serialize};

use super::{dedup, existing, keep_a_manager, parse_key, write_allowed_signers};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Role, Team};
use crate::model::person;
use crate::procedures::proposal::{govern, Governed};

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

impl Governed for PersonUpdate {
    const WHAT: &'static str = "person update";
    fn proposal_id(input: &PersonUpdateInput) -> &str {
        &input.proposal_id
    }
    fn about(input: &PersonUpdateInput) -> &str {
        &input.email
    }

    fn change(ctx: &Ctx, input: &PersonUpdateInput) -> Result<Effect> {
        let mut p = existing(ctx.snap, &input.email).at(Self::step(2)).field("email")?;
        if p.revoked {
            return Err(Error::precondition(format!("{}: revoked; add them again under a new key", p.email))
                .at(Self::step(2))
                .field("email"));
        }
        let mut fields = Vec::new();
        if let Some(roles) = &input.roles {
            if input.email == ctx.actor {
                return Err(Error::forbidden(format!("{}: nobody changes their own roles", ctx.actor))
                    .at(Self::step(1))
                    .field("roles"));
            }
            if roles.is_empty() {
                return Err(Error::invalid("role: at least one role is required").at(Self::step(3)).field("roles"));
            }
            p.roles = dedup(roles);
            fields.push("roles");
        }
        if let Some(teams) = &input.teams {
            p.teams = dedup(teams);
            fields.push("teams");
        }
        if let Some(name) = &input.name {
            p.name = hygiene::text(ctx.rules, "name", name, Shape::Line).at(Self::step(3))?;
            fields.push("name");
        }
        if let Some(key) = &input.key {
            let new = parse_key(key, ctx.now).at(Self::step(3))?;
            if p.keys.iter().any(|k| k.key == new.key) {
                return Err(Error::invalid(format!("key: {} is already registered for {}", new.fingerprint, p.email))
                    .at(Self::step(3))
                    .field("key"));
            }
            for k in p.keys.iter_mut().filter(|k| k.valid_before.is_none()) {
                k.valid_before = Some(ctx.now);
            }
            p.keys.push(new);
            fields.push("keys");
        }
        if fields.is_empty() {
            return Err(Error::invalid("person update: nothing to change (give --role, --team, --name or --key)")
                .at(Self::step(3)));
        }
        keep_a_manager(ctx.snap, &p).at(Self::step(3))?;
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
        govern::<Self>(ctx, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::person::revoke::PersonRevoke;
    use crate::procedures::testing::*;

    #[test]
    fn changes_roles_and_rotates_the_key() {
        let mut snap = snapshot(None);
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { key: Some(key(2)), ..person_update("l1@x.test") });
        let later = now() + chrono::Duration::hours(1);
        let i = PersonUpdateInput { roles: Some(vec![Role::L2]), key: Some(key(3)), ..person_update("l1@x.test") };
        step_at::<PersonUpdate>(&mut snap, IM, later, &i);
        let p = registered(&snap, "l1@x.test").unwrap();
        assert_eq!(p.roles, [Role::L2]);
        assert_eq!((p.keys[0].key.clone(), p.keys[0].valid_before), (key(2), Some(later)));
        assert_eq!((p.keys[1].key.clone(), p.keys[1].valid_before), (key(3), None));
    }

    #[test]
    fn step1_only_incident_managers_never_their_own_roles() {
        let snap = snapshot(None);
        let i = PersonUpdateInput { roles: Some(vec![Role::L2]), ..person_update("l1@x.test") };
        halts_at(
            try_apply::<PersonUpdate>(&snap, &as_role(Role::L2), &i),
            Kind::Forbidden,
            "person update",
            PersonUpdate::step(1),
            Some("roles"),
        );
        let own = PersonUpdateInput { roles: Some(vec![Role::IncidentManager, Role::L3]), ..person_update(IM) };
        halts_at(
            try_apply::<PersonUpdate>(&snap, IM, &own),
            Kind::Forbidden,
            "nobody changes their own roles",
            PersonUpdate::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_an_active_registered_person() {
        let mut snap = snapshot(None);
        let i = PersonUpdateInput { teams: Some(vec![Team::L3]), ..person_update("ghost@x.test") };
        halts_at(
            try_apply::<PersonUpdate>(&snap, IM, &i),
            Kind::Invalid,
            "ghost@x.test: no such person",
            PersonUpdate::step(2),
            Some("email"),
        );
        step::<PersonRevoke>(&mut snap, IM, &person_revoke("l1@x.test"));
        let i = PersonUpdateInput { teams: Some(vec![Team::L3]), ..person_update("l1@x.test") };
        halts_at(
            try_apply::<PersonUpdate>(&snap, IM, &i),
            Kind::Precondition,
            "revoked",
            PersonUpdate::step(2),
            Some("email"),
        );
    }

    #[test]
    fn step3_roles_keys_and_something_to_change() {
        let mut snap = snapshot(None);
        halts(
            try_apply::<PersonUpdate>(
                &snap,
                IM,
                &PersonUpdateInput { roles: Some(vec![]), ..person_update("l1@x.test") },
            ),
            Kind::Invalid,
            "at least one role",
        );
        halts_at(
            try_apply::<PersonUpdate>(&snap, IM, &person_update("l1@x.test")),
            Kind::Invalid,
            "nothing to change",
            PersonUpdate::step(3),
            None,
        );
        step::<PersonUpdate>(&mut snap, IM, &PersonUpdateInput { key: Some(key(2)), ..person_update("l1@x.test") });
        halts(
            try_apply::<PersonUpdate>(
                &snap,
                IM,
                &PersonUpdateInput { key: Some(key(2)), ..person_update("l1@x.test") },
            ),
            Kind::Invalid,
            "is already registered for l1@x.test",
        );
    }
}
