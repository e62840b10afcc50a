//! Record ids: a type prefix, the UTC date and 10 random Crockford base32 characters
//! (`INC-20261126-7K3QM9XA2B`). Never a counter: two branches would both take "the next
//! number" and merge cleanly into a duplicate.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// Crockford's base32 alphabet: no I, L, O or U.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// The kinds of record that have ids, with their prefix and folder under `records/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    Incident,
    Problem,
    Change,
    Kb,
    Pir,
    Event,
    Tool,
    Simulation,
    Proposal,
}

impl RecordKind {
    pub const ALL: [RecordKind; 9] = [
        RecordKind::Incident,
        RecordKind::Problem,
        RecordKind::Change,
        RecordKind::Kb,
        RecordKind::Pir,
        RecordKind::Event,
        RecordKind::Tool,
        RecordKind::Simulation,
        RecordKind::Proposal,
    ];

    pub fn prefix(self) -> &'static str {
        match self {
            RecordKind::Incident => "INC",
            RecordKind::Problem => "PRB",
            RecordKind::Change => "CHG",
            RecordKind::Kb => "KB",
            RecordKind::Pir => "PIR",
            RecordKind::Event => "EVT",
            RecordKind::Tool => "TOOL",
            RecordKind::Simulation => "SIM",
            RecordKind::Proposal => "PRP",
        }
    }

    /// The folder under `records/`.
    pub fn folder(self) -> &'static str {
        match self {
            RecordKind::Incident => "incidents",
            RecordKind::Problem => "problems",
            RecordKind::Change => "changes",
            RecordKind::Kb => "kb",
            RecordKind::Pir => "pir",
            RecordKind::Event => "events",
            RecordKind::Tool => "tools",
            RecordKind::Simulation => "simulations",
            RecordKind::Proposal => "proposals",
        }
    }

    /// The entity name used in audit lines and `ims find` (`incident`, `kb`, …).
    pub fn entity(self) -> &'static str {
        match self {
            RecordKind::Incident => "incident",
            RecordKind::Problem => "problem",
            RecordKind::Change => "change",
            RecordKind::Kb => "kb",
            RecordKind::Pir => "pir",
            RecordKind::Event => "event",
            RecordKind::Tool => "tool",
            RecordKind::Simulation => "simulation",
            RecordKind::Proposal => "proposal",
        }
    }

    pub fn from_prefix(prefix: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }

    pub fn from_entity(entity: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.entity() == entity)
    }
}

/// Ten Crockford digits from the low 50 bits of `bits`, lowest first.
fn crockford10(mut bits: u128) -> String {
    let mut out = String::with_capacity(10);
    for _ in 0..10 {
        out.push(CROCKFORD[(bits & 31) as usize] as char);
        bits >>= 5;
    }
    out
}

/// Ten Crockford digits of a SHA-256 digest of `text`: the random part of an id that
/// must be a function of what it names (an event's identity, an imported item's key).
pub fn digest_suffix(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    crockford10(u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")).into())
}

/// Makes a new id for `kind` at `now` from 50 random bits.
pub fn new_id(kind: RecordKind, now: DateTime<Utc>) -> String {
    let suffix = crockford10(uuid::Uuid::new_v4().as_u128());
    format!("{}-{}-{}", kind.prefix(), now.format("%Y%m%d"), suffix)
}

/// A parsed full id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordId {
    pub kind: RecordKind,
    pub id: String,
}

impl RecordId {
    /// Parses a complete id; `field` names the input in the error.
    pub fn parse(text: &str, field: &str) -> Result<RecordId> {
        let upper = text.trim().to_ascii_uppercase();
        let mut parts = upper.splitn(3, '-');
        let (Some(prefix), Some(date), Some(rand)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::invalid(format!("{field}: `{text}` is not an id like INC-20261126-7K3QM9XA2B")));
        };
        let kind = RecordKind::from_prefix(prefix)
            .ok_or_else(|| Error::invalid(format!("{field}: unknown id prefix `{prefix}` in `{text}`")))?;
        let date_ok = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
        let rand_ok = rand.len() == 10 && rand.bytes().all(|b| CROCKFORD.contains(&b));
        if !date_ok || !rand_ok {
            return Err(Error::invalid(format!("{field}: `{text}` is not an id like INC-20261126-7K3QM9XA2B")));
        }
        Ok(RecordId { kind, id: upper })
    }

    /// The record's path in the repository.
    pub fn path(&self) -> String {
        record_path(self.kind, &self.id)
    }
}

/// `records/<folder>/YYYY/MM/DD/<id>.yaml` for a well-formed id.
pub fn record_path(kind: RecordKind, id: &str) -> String {
    let date = id.split('-').nth(1).unwrap_or("00000000");
    let (y, m, d) = (&date[0..4], &date[4..6], &date[6..8]);
    format!("records/{}/{y}/{m}/{d}/{id}.yaml", kind.folder())
}

/// What an id prefix typed by a user narrows the search to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefix {
    pub kind: RecordKind,
    /// The upper-cased prefix text.
    pub text: String,
    /// The date digits given (0 to 8 of them).
    pub date_digits: String,
}

impl Prefix {
    pub fn parse(text: &str) -> Result<Prefix> {
        let upper = text.trim().to_ascii_uppercase();
        let (prefix, rest) = upper.split_once('-').unwrap_or((upper.as_str(), ""));
        let kind = RecordKind::from_prefix(prefix)
            .ok_or_else(|| Error::invalid(format!("id `{text}`: unknown prefix `{prefix}`")))?;
        let date_digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).take(8).collect();
        if upper.chars().any(|c| !(c.is_ascii_alphanumeric() || c == '-')) {
            return Err(Error::invalid(format!("id `{text}`: only letters, digits and dashes")));
        }
        Ok(Prefix { kind, text: upper.clone(), date_digits })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn new_ids_parse_and_map_to_dated_paths() {
        let now = Utc.with_ymd_and_hms(2026, 11, 26, 10, 0, 0).unwrap();
        let id = new_id(RecordKind::Incident, now);
        let parsed = RecordId::parse(&id, "id").unwrap();
        assert!(parsed.path().starts_with("records/incidents/2026/11/26/INC-20261126-"));
        assert_ne!(id, new_id(RecordKind::Incident, now));
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in ["INC-2026-ABC", "XYZ-20261126-7K3QM9XA2B", "INC-20261126-7K3QM9XA2I", "INC"] {
            assert!(RecordId::parse(bad, "id").is_err(), "{bad}");
        }
        assert_eq!(RecordId::parse("inc-20261126-7k3qm9xa2b", "id").unwrap().id, "INC-20261126-7K3QM9XA2B");
    }

    #[test]
    fn prefixes_carry_their_date_digits() {
        let p = Prefix::parse("INC-202611").unwrap();
        assert_eq!(p.date_digits, "202611");
        assert!(Prefix::parse("INC-20/../x").is_err());
    }
}
