//! Domain types of the policy and read access to the records at one tree.
//!
//! Everything here is pure: a [`Snapshot`] is an immutable view of one commit's tree,
//! so a procedure that reads through it is a function of that commit.

pub mod activity;
pub mod change;
pub mod config;
pub mod enums;
pub mod event;
pub mod incident;
pub mod kb;
pub mod keys;
pub mod person;
pub mod pir;
pub mod problem;
pub mod proposal;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::ids::{Prefix, RecordId, RecordKind};

pub use config::Config;
pub use incident::Incident;
pub use person::Person;

/// Read access to the files of one commit.
pub trait Snapshot {
    /// The file at `path`, if there is one.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>>;
    /// The names of the entries in the folder at `path` (empty if none).
    fn list(&self, path: &str) -> Result<Vec<String>>;

    /// A blob by its id (hex), whatever path holds it: content-addressed, so a replay
    /// reads the same bytes. Only snapshots of a repository have blobs.
    fn blob(&self, _id: &str) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }

    /// Parsed forms of this snapshot's files, if it keeps them (see [`ParseCache`]).
    fn cache(&self) -> Option<&ParseCache> {
        None
    }

    /// The file at `path`, which must exist.
    fn read_required(&self, path: &str) -> Result<Vec<u8>> {
        self.read(path)?.ok_or_else(|| Error::internal(format!("{path}: missing")))
    }
}

/// Parsed forms of files, by their bytes, that a [`Snapshot`] may carry: `ims verify`
/// remembers what each replayed commit wrote, and reads the same `ims.yaml` and the same
/// few people's files for nearly every commit, so none of them is parsed twice. The
/// snapshot owns the cache (the I/O layer decides how long it lives); the model only
/// reads and fills it.
#[derive(Default)]
pub struct ParseCache {
    records: RefCell<HashMap<Vec<u8>, serde_json::Value>>,
    config: RefCell<Option<(Vec<u8>, Config)>>,
    people: RefCell<HashMap<Vec<u8>, Person>>,
}

impl ParseCache {
    /// How many records and people's files are kept before the cache starts again.
    const RECORDS_MAX: usize = 2048;
    const PEOPLE_MAX: usize = 256;

    /// Remembers the parsed form of a record's canonical bytes (see [`load`]).
    pub fn remember_owned(&self, bytes: Vec<u8>, value: serde_json::Value) {
        let mut c = self.records.borrow_mut();
        if c.len() >= Self::RECORDS_MAX {
            c.clear();
        }
        c.insert(bytes, value);
    }
}

/// Reads and parses a YAML file, if present.
pub fn load<T: DeserializeOwned>(snap: &dyn Snapshot, path: &str) -> Result<Option<T>> {
    match snap.read(path)? {
        None => Ok(None),
        Some(bytes) => {
            if let Some(value) = snap.cache().and_then(|c| c.records.borrow().get(&bytes).cloned()) {
                return serde_json::from_value(value).map(Some).map_err(|e| Error::invalid(format!("{path}: {e}")));
            }
            let text = std::str::from_utf8(&bytes).map_err(|_| Error::invalid(format!("{path}: not UTF-8")))?;
            crate::yaml::from_str(text, path).map(Some)
        }
    }
}

/// The repository's `ims.yaml`.
pub fn config(snap: &dyn Snapshot) -> Result<Config> {
    let bytes =
        snap.read(config::PATH)?.ok_or_else(|| Error::internal("ims.yaml is missing: not a records repository"))?;
    let cache = snap.cache();
    if let Some(c) = cache.and_then(|c| c.config.borrow().as_ref().filter(|(b, _)| *b == bytes).map(|(_, c)| c.clone()))
    {
        return Ok(c);
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::invalid("ims.yaml: not UTF-8"))?;
    let parsed: Config = crate::yaml::from_str(text, config::PATH)?;
    if let Some(c) = cache {
        *c.config.borrow_mut() = Some((bytes, parsed.clone()));
    }
    Ok(parsed)
}

/// A registered person, if any.
pub fn person(snap: &dyn Snapshot, email: &str) -> Result<Option<Person>> {
    if !valid_email(email) {
        return Ok(None);
    }
    let path = person::path(email);
    let Some(bytes) = snap.read(&path)? else { return Ok(None) };
    let cache = snap.cache();
    if let Some(p) = cache.and_then(|c| c.people.borrow().get(&bytes).cloned()) {
        return Ok(Some(p));
    }
    let text = std::str::from_utf8(&bytes).map_err(|_| Error::invalid(format!("{path}: not UTF-8")))?;
    let parsed: Person = crate::yaml::from_str(text, &path)?;
    if let Some(c) = cache {
        let mut c = c.people.borrow_mut();
        if c.len() >= ParseCache::PEOPLE_MAX {
            c.clear();
        }
        c.insert(bytes, parsed.clone());
    }
    Ok(Some(parsed))
}

/// The form two spellings of one email share: surrounding whitespace trimmed, case
/// folded, and a trailing dot of the domain (the DNS root, `example.com.`) dropped. For
/// comparison only: a registered email is kept as it is spelled in its file.
pub fn email_key(email: &str) -> String {
    let email = email.trim();
    email.strip_suffix('.').unwrap_or(email).to_lowercase()
}

/// The registered spelling of `email`: emails are compared by [`email_key`], so
/// `Bob@example.com` and `bob@example.com.` find `bob@example.com`. A registry made before
/// folding may hold a mixed-case file name; it is found as it is spelled there (files are
/// never renamed). An email nobody holds comes back in its [`email_key`] form, the form
/// new registrations use.
pub fn registered_email(snap: &dyn Snapshot, email: &str) -> Result<String> {
    let email = email.trim();
    if valid_email(email) && snap.read(&person::path(email))?.is_some() {
        return Ok(email.to_string());
    }
    let key = email_key(email);
    for name in snap.list("people")? {
        if let Some(registered) = name.strip_suffix(".yaml") {
            if email_key(registered) == key {
                return Ok(registered.to_string());
            }
        }
    }
    Ok(key)
}

/// Every registered person.
pub fn people(snap: &dyn Snapshot) -> Result<Vec<Person>> {
    let mut out = Vec::new();
    for name in snap.list("people")? {
        if let Some(p) = load::<Person>(snap, &format!("people/{name}"))? {
            out.push(p);
        }
    }
    Ok(out)
}

/// Whether `email` is usable as a file name and an identity.
pub fn valid_email(email: &str) -> bool {
    let ok_chars = email.chars().all(|c| c.is_ascii_alphanumeric() || "@._+-".contains(c));
    let parts: Vec<&str> = email.split('@').collect();
    ok_chars
        && parts.len() == 2
        && !parts[0].is_empty()
        && !parts[1].is_empty()
        && !email.starts_with('.')
        && !email.contains("..")
        && email.len() <= 254
}

/// Loads a record by its full id; an unknown id is `invalid` (exit 3).
pub fn record<T: DeserializeOwned>(snap: &dyn Snapshot, id: &RecordId) -> Result<T> {
    load(snap, &id.path())?.ok_or_else(|| Error::invalid(format!("{}: no such {}", id.id, id.kind.entity())))
}

/// Resolves an id or an unambiguous prefix of one to the full id. Walks only the dated
/// folders the prefix allows.
pub fn resolve(snap: &dyn Snapshot, text: &str) -> Result<RecordId> {
    if let Ok(id) = RecordId::parse(text, "id") {
        if snap.read(&id.path())?.is_some() {
            return Ok(id);
        }
        return Err(Error::invalid(format!("{}: no such {}", id.id, id.kind.entity())));
    }
    let prefix = Prefix::parse(text)?;
    let mut found = Vec::new();
    let base = format!("records/{}", prefix.kind.folder());
    let d = &prefix.date_digits;
    let fits = |have: &str, from: usize| {
        let want = d.get(from..d.len().min(from + have.len())).unwrap_or("");
        have.starts_with(want)
    };
    for year in snap.list(&base)?.into_iter().filter(|y| fits(y, 0)) {
        for month in snap.list(&format!("{base}/{year}"))?.into_iter().filter(|m| fits(m, 4)) {
            for day in snap.list(&format!("{base}/{year}/{month}"))?.into_iter().filter(|x| fits(x, 6)) {
                for file in snap.list(&format!("{base}/{year}/{month}/{day}"))? {
                    let id = file.trim_end_matches(".yaml");
                    if id.starts_with(&prefix.text) {
                        found.push(id.to_string());
                    }
                }
            }
        }
    }
    match found.len() {
        0 => Err(Error::invalid(format!("{text}: no {} has an id starting with it", prefix.kind.entity()))),
        1 => RecordId::parse(&found[0], "id"),
        _ => {
            found.truncate(10);
            Err(Error::invalid(format!("{text}: ambiguous id prefix, candidates: {}", found.join(", "))))
        }
    }
}

/// Every record of a kind, in id order. Used by queries, not by procedures.
pub fn all_records(snap: &dyn Snapshot, kind: RecordKind) -> Result<Vec<(String, Vec<u8>)>> {
    let base = format!("records/{}", kind.folder());
    let mut out = Vec::new();
    for year in snap.list(&base)? {
        for month in snap.list(&format!("{base}/{year}"))? {
            for day in snap.list(&format!("{base}/{year}/{month}"))? {
                let dir = format!("{base}/{year}/{month}/{day}");
                for file in snap.list(&dir)? {
                    let path = format!("{dir}/{file}");
                    if let Some(bytes) = snap.read(&path)? {
                        out.push((path, bytes));
                    }
                }
            }
        }
    }
    Ok(out)
}

/// A snapshot with blobs laid over it that are not in the repository yet (an import's
/// archive, which reaches the object database only with the import's commit): the
/// procedure reads them by id as it would read them on replay, and the caller hands them
/// over explicitly, so a procedure that halts leaves nothing behind.
pub struct Overlay<'a> {
    pub base: &'a dyn Snapshot,
    /// Blobs by id (hex).
    pub blobs: &'a BTreeMap<String, Vec<u8>>,
}

impl Snapshot for Overlay<'_> {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        self.base.read(path)
    }
    fn list(&self, path: &str) -> Result<Vec<String>> {
        self.base.list(path)
    }
    fn blob(&self, id: &str) -> Result<Option<Vec<u8>>> {
        match self.base.blob(id)? {
            Some(bytes) => Ok(Some(bytes)),
            None => Ok(self.blobs.get(id).cloned()),
        }
    }
    fn cache(&self) -> Option<&ParseCache> {
        self.base.cache()
    }
}

/// The parent state of the root commit.
pub struct EmptySnapshot;

impl Snapshot for EmptySnapshot {
    fn read(&self, _: &str) -> Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn list(&self, _: &str) -> Result<Vec<String>> {
        Ok(vec![])
    }
}

#[cfg(test)]
pub mod testing {
    //! An in-memory snapshot for unit tests of pure procedures.
    use std::collections::BTreeMap;

    use super::Snapshot;
    use crate::error::Result;

    #[derive(Default, Clone)]
    pub struct MemSnapshot {
        pub files: BTreeMap<String, Vec<u8>>,
    }

    impl Snapshot for MemSnapshot {
        fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
            Ok(self.files.get(path).cloned())
        }
        fn list(&self, path: &str) -> Result<Vec<String>> {
            let prefix = format!("{path}/");
            let mut names: Vec<String> = self
                .files
                .keys()
                .filter_map(|k| k.strip_prefix(&prefix))
                .map(|rest| rest.split('/').next().unwrap_or(rest).to_string())
                .collect();
            names.dedup();
            Ok(names)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::MemSnapshot;
    use super::*;

    #[test]
    fn emails_are_compared_ignoring_case_spaces_and_a_trailing_dot() {
        assert_eq!(email_key(" Bob@Example.COM. "), "bob@example.com");
        assert_eq!(email_key("bob@example.com"), "bob@example.com");
        // Only the one dot of the DNS root: `..` stays, and `valid_email` refuses it.
        assert_eq!(email_key("bob@example.com.."), "bob@example.com.");
        let mut snap = MemSnapshot::default();
        snap.files.insert(person::path("bob@example.com"), b"x".to_vec());
        // A registry from before folding keeps its mixed-case file name.
        snap.files.insert(person::path("Ann@Example.com"), b"x".to_vec());
        for spelling in ["bob@example.com", "BOB@example.com", "bob@example.com.", " Bob@Example.Com. "] {
            assert_eq!(registered_email(&snap, spelling).unwrap(), "bob@example.com", "{spelling}");
        }
        assert_eq!(registered_email(&snap, "ann@example.com.").unwrap(), "Ann@Example.com");
        assert_eq!(registered_email(&snap, "New@Example.com.").unwrap(), "new@example.com");
    }
}
