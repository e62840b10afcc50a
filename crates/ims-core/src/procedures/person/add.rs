//! `person.add/1`: registers a person with roles, teams and an optional SSH key.
//!
//! Policy steps: 1. only an incident manager (a proposal once there are two, see
//! [`crate::procedures::proposal`]); 2. a valid email not yet registered (in any
//! spelling), at least one role, a name and a valid key.

use serde::{Deserialize, Serialize};

use super::{dedup, parse_key, write_allowed_signers};
use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{AuditAction, Role, Team};
use crate::model::person::{self, Person};
use crate::model::{self};
use crate::procedures::proposal::{govern, Governed};

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

impl Governed for PersonAdd {
    const WHAT: &'static str = "person add";
    fn proposal_id(input: &PersonAddInput) -> &str {
        &input.proposal_id
    }
    fn about(input: &PersonAddInput) -> &str {
        &input.email
    }

    fn change(ctx: &Ctx, input: &PersonAddInput) -> Result<Effect> {
        if !model::valid_email(&input.email) {
            return Err(Error::invalid(format!("email: `{}` is not an email address", input.email))
                .at(Self::step(2))
                .field("email"));
        }
        if model::person(ctx.snap, &input.email)?.is_some() {
            return Err(Error::precondition(format!("{}: already registered (use `ims person update`)", input.email))
                .at(Self::step(2))
                .field("email"));
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
                ))
                .at(Self::step(2))
                .field("email"));
            }
        }
        if input.roles.is_empty() {
            return Err(Error::invalid("role: at least one role is required").at(Self::step(2)).field("roles"));
        }
        let name = hygiene::text(ctx.rules, "name", &input.name, Shape::Line).at(Self::step(2))?;
        let keys = match &input.key {
            Some(k) => vec![parse_key(k, ctx.now).at(Self::step(2))?],
            None => vec![],
        };
        let person = Person::new(input.email.clone(), name, dedup(&input.roles), dedup(&input.teams), keys, ctx.now);
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
        govern::<Self>(ctx, input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::testing::*;

    #[test]
    fn registers_roles_teams_and_key() {
        let mut snap = snapshot(None);
        let e = step::<PersonAdd>(&mut snap, IM, &person_add("new@x.test"));
        let p = registered(&snap, "new@x.test").expect("registered");
        assert_eq!((p.roles, p.teams, p.name.as_str()), (vec![Role::L2], vec![Team::L2], "New Person"));
        assert_eq!(p.keys[0].key, key(7));
        assert!(String::from_utf8(e.writes["allowed_signers"].clone().unwrap()).unwrap().contains(&key(7)));
    }

    #[test]
    fn step1_only_incident_managers() {
        halts_at(
            try_apply::<PersonAdd>(&snapshot(None), &as_role(Role::L1), &person_add("new@x.test")),
            Kind::Forbidden,
            "person add",
            PersonAdd::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_a_new_valid_person() {
        let snap = snapshot(None);
        halts_at(
            try_apply::<PersonAdd>(&snap, IM, &person_add("new")),
            Kind::Invalid,
            "email: `new`",
            PersonAdd::step(2),
            Some("email"),
        );
        halts_at(
            try_apply::<PersonAdd>(&snap, IM, &person_add("l1@x.test")),
            Kind::Precondition,
            "already registered",
            PersonAdd::step(2),
            Some("email"),
        );
        // Another spelling of a registered email: case, a trailing dot of the domain.
        for spelling in ["L1@x.test", "l1@x.test.", "L1@X.Test."] {
            halts_at(
                try_apply::<PersonAdd>(&snap, IM, &person_add(spelling)),
                Kind::Conflict,
                "is already registered as l1@x.test (",
                PersonAdd::step(2),
                Some("email"),
            );
        }
        // A history recorded before the check replays: the recorded rules do not apply it.
        let replay = Ctx { snap: &snap, actor: IM, now: now(), rules: hygiene::Rules::Recorded };
        assert!(PersonAdd::apply(&replay, &person_add("l1@x.test.")).is_ok());
        halts_at(
            try_apply::<PersonAdd>(&snap, IM, &PersonAddInput { roles: vec![], ..person_add("new@x.test") }),
            Kind::Invalid,
            "at least one role",
            PersonAdd::step(2),
            Some("roles"),
        );
        halts_at(
            try_apply::<PersonAdd>(&snap, IM, &PersonAddInput { name: "".into(), ..person_add("new@x.test") }),
            Kind::Invalid,
            "name",
            PersonAdd::step(2),
            Some("name"),
        );
        halts_at(
            try_apply::<PersonAdd>(&snap, IM, &PersonAddInput { key: Some("AAAA".into()), ..person_add("new@x.test") }),
            Kind::Invalid,
            "key: not an OpenSSH public key",
            PersonAdd::step(2),
            Some("key"),
        );
    }
}
