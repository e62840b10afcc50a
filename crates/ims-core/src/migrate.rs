//! `ims migrate`'s decisions, pure: who may run it, whether every record is at a schema
//! version this ims knows, and which settings `ims.yaml` lacks. The shell (the CLI's
//! `repo/migrate.rs`) reads the actor and runs the `config.set`s.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::ids::RecordKind;
use crate::model::enums::Role;
use crate::model::person::Person;
use crate::model::{self, Snapshot};

/// Only an active incident manager migrates.
pub fn authorize(snap: &dyn Snapshot, actor: &str) -> Result<Person> {
    let person = model::person(snap, actor)?
        .ok_or_else(|| Error::forbidden(format!("actor {actor}: not a registered person")))?;
    if !person.has_role(Role::IncidentManager) || person.revoked {
        return Err(Error::forbidden(format!("migrate: {actor} is not an active incident manager")));
    }
    Ok(person)
}

/// Checks that `ims.yaml`, every person and every record is at a schema version this
/// ims knows; the number checked. A version it does not know was written by a newer ims.
pub fn check_schemas(snap: &dyn Snapshot) -> Result<usize> {
    let current: Vec<&str> = crate::schema::SCHEMAS.iter().map(|(n, _)| *n).collect();
    let mut paths: Vec<String> = vec![model::config::PATH.to_string()];
    paths.extend(model::people(snap)?.iter().map(|p| model::person::path(&p.email)));
    for kind in RecordKind::ALL {
        paths.extend(model::all_records(snap, kind)?.into_iter().map(|(p, _)| p));
    }
    for path in &paths {
        let bytes = snap.read_required(path)?;
        let value = crate::yaml::to_value(&String::from_utf8_lossy(&bytes), path)?;
        let version = value.get("schema").and_then(Value::as_str).unwrap_or("");
        if !current.contains(&version) {
            return Err(Error::invalid(format!("{path}: schema `{version}` is not one this ims knows; upgrade ims")));
        }
    }
    Ok(paths.len())
}

/// The settings of [`model::config::new_settings`] that `ims.yaml` lacks, with the value
/// `ims init` gives them.
pub fn missing_settings(snap: &dyn Snapshot) -> Result<Vec<(&'static str, Value)>> {
    let text = String::from_utf8_lossy(&snap.read_required(model::config::PATH)?).into_owned();
    let present = crate::yaml::to_value(&text, model::config::PATH)?;
    Ok(model::config::new_settings()
        .into_iter()
        .filter(|(key, _)| key.split('.').try_fold(&present, |v, part| v.get(part)).is_none())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::testing::{as_role, halts, snapshot};

    #[test]
    fn only_an_active_incident_manager_migrates() {
        let snap = snapshot(None);
        assert!(authorize(&snap, &as_role(Role::IncidentManager)).is_ok());
        halts(authorize(&snap, &as_role(Role::L2)), Kind::Forbidden, "is not an active incident manager");
        halts(authorize(&snap, "nobody@x.test"), Kind::Forbidden, "not a registered person");
    }

    #[test]
    fn every_record_at_a_known_version_is_counted() {
        let snap = snapshot(None);
        let people = model::people(&snap).unwrap().len();
        assert_eq!(check_schemas(&snap).unwrap(), people + 1);
    }

    #[test]
    fn a_record_of_a_newer_ims_is_named() {
        let mut snap = snapshot(None);
        let text = String::from_utf8(snap.files["ims.yaml"].clone()).unwrap();
        let newer = text.replacen("schema: \"config/1\"", "schema: \"config/99\"", 1);
        assert_ne!(newer, text, "the fixture's config names its schema");
        snap.files.insert("ims.yaml".into(), newer.into_bytes());
        halts(check_schemas(&snap), Kind::Invalid, "ims.yaml: schema `config/99`");
    }

    #[test]
    fn a_setting_ims_yaml_lacks_is_offered() {
        let mut snap = snapshot(None);
        let Some((key, _)) = model::config::new_settings().into_iter().next() else { return };
        let mut value =
            crate::yaml::to_value(std::str::from_utf8(&snap.files["ims.yaml"]).unwrap(), "ims.yaml").unwrap();
        let parts: Vec<&str> = key.split('.').collect();
        let (last, parents) = parts.split_last().unwrap();
        let parent = parents.iter().fold(&mut value, |v, p| v.get_mut(*p).unwrap());
        parent.as_object_mut().unwrap().remove(*last);
        snap.files.insert("ims.yaml".into(), crate::yaml::to_canonical(&value).unwrap().into_bytes());
        let missing: Vec<&str> = missing_settings(&snap).unwrap().into_iter().map(|(k, _)| k).collect();
        assert!(missing.contains(&key), "{missing:?} names {key}");
    }
}
