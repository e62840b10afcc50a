//! The people registry: `person.add|update|revoke`, one file each, under the two-manager
//! rule (see [`super::proposal`]), and what they share: `allowed_signers`, key parsing,
//! and the rule that the repository keeps an incident manager.

pub mod add;
pub mod revoke;
pub mod update;

use crate::engine::Effect;
use crate::error::{Error, Result};
use crate::keys;
use crate::model::enums::Role;
use crate::model::person::{self, Person, PersonKey};
use crate::model::{self, Snapshot};

/// Rewrites `allowed_signers` from the registry with `changed` laid over it.
pub(super) fn write_allowed_signers(effect: &mut Effect, snap: &dyn Snapshot, changed: &Person) -> Result<()> {
    let mut people: Vec<Person> = model::people(snap)?.into_iter().filter(|p| p.email != changed.email).collect();
    people.push(changed.clone());
    effect.write_raw("allowed_signers", person::allowed_signers(&people).into_bytes());
    Ok(())
}

/// A public key given as text, valid from `now`.
pub(crate) fn parse_key(text: &str, now: chrono::DateTime<chrono::Utc>) -> Result<PersonKey> {
    let key = keys::parse_public(text, "key").map_err(|e| e.field("key"))?;
    Ok(PersonKey {
        key: keys::key_line(&key)?,
        fingerprint: keys::fingerprint(&key),
        valid_after: now,
        valid_before: None,
    })
}

/// The person registered as `email`, or an invalid halt.
pub(super) fn existing(snap: &dyn Snapshot, email: &str) -> Result<Person> {
    model::person(snap, email)?.ok_or_else(|| Error::invalid(format!("{email}: no such person")).field("email"))
}

/// `items` without repeats, in their first order.
pub(super) fn dedup<T: PartialEq + Copy>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(i) {
            out.push(*i);
        }
    }
    out
}

/// Refuses to leave the repository without an active incident manager.
pub(super) fn keep_a_manager(snap: &dyn Snapshot, changed: &Person) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Procedure;
    use crate::error::Kind;
    use crate::procedures::testing::*;

    #[test]
    fn the_person_procedures_are_registered_and_routed() {
        routed(&[
            <add::PersonAdd as Procedure>::ID,
            <update::PersonUpdate as Procedure>::ID,
            <revoke::PersonRevoke as Procedure>::ID,
        ]);
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

    #[test]
    fn dedup_keeps_the_first_of_each() {
        assert_eq!(dedup(&[Role::L2, Role::L1, Role::L2]), [Role::L2, Role::L1]);
    }
}
