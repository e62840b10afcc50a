//! Reading other tools' incident history: cState status pages and CSV exports (one row
//! per ticket, or one row per state change). The readers are pure functions of the
//! archived source and the mapping, so `ims verify` can replay an import: the
//! `incident.import` procedure calls them on the blob the commit archives.
//!
//! What cannot be imported faithfully is reported with the item and the reason, never
//! bent into shape.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Incident;

/// Who reads a source, at what time, and by which rules its free text is judged (new
/// input is screened; an import replayed by `ims verify` is judged by the recorded rules).
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    pub actor: &'a str,
    pub now: DateTime<Utc>,
    pub rules: crate::hygiene::Rules,
}

pub mod cstate;
pub mod csv;

/// Who made an imported timeline entry when the source does not say.
pub const UNKNOWN: &str = "unknown";

/// An incident read from a source.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The item's identity in its source (`cstate:FILE`, `csv:ID`): its key file makes a
    /// second import of it a no-op.
    pub key: String,
    pub incident: Incident,
}

/// An item left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skipped {
    pub item: String,
    pub reason: String,
}

/// What a reader made of a source.
#[derive(Debug, Default)]
pub struct Read {
    pub imported: Vec<Imported>,
    pub rejected: Vec<Skipped>,
    /// Assumptions the reader made (a time without an offset read in the given zone).
    pub notes: Vec<Skipped>,
    /// A few source times and what they were read as (`item`: where; `reason`: the
    /// text and the time), for a person to check the format before committing.
    pub samples: Vec<Skipped>,
}

/// The incident id of an imported item: its date, and ten Crockford digits of a digest
/// of its source key — the same item always gets the same id.
pub fn incident_id(key: &str, created: DateTime<Utc>) -> String {
    format!("INC-{}-{}", created.format("%Y%m%d"), crate::ids::digest_suffix(key))
}

/// A time as sources write them: RFC 3339, a space instead of `T`, a single-digit hour,
/// or no offset at all (then read in `zone`, and the second value says so).
pub fn lenient_time(text: &str, zone: chrono_tz::Tz) -> Result<(DateTime<Utc>, bool)> {
    let t = text.trim();
    let bad = || Error::invalid(format!("`{t}` is not a date and time"));
    let mut s = t.replacen(' ', "T", 1);
    // `2021-06-01T9:00:00` → `2021-06-01T09:00:00`.
    if let Some(pos) = s.find('T') {
        if s[pos + 1..].find(':') == Some(1) {
            s.insert(pos + 1, '0');
        }
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(&s) {
        return Ok((t.with_timezone(&Utc), false));
    }
    let naive = NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M"))
        .map_err(|_| bad())?;
    let local = zone.from_local_datetime(&naive).earliest().ok_or_else(bad)?;
    Ok((local.with_timezone(&Utc), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untidy_times() {
        let utc = chrono_tz::UTC;
        let (t, assumed) = lenient_time("2022-03-04T18:00:00-00:00", utc).unwrap();
        assert_eq!((t.to_rfc3339(), assumed), ("2022-03-04T18:00:00+00:00".into(), false));
        let (t, assumed) = lenient_time("2023-12-06T9:15:00-00:00", utc).unwrap();
        assert_eq!((t.to_rfc3339(), assumed), ("2023-12-06T09:15:00+00:00".into(), false));
        let (t, assumed) = lenient_time("2021-04-15 10:00:00", chrono_tz::Europe::Paris).unwrap();
        assert_eq!((t.to_rfc3339(), assumed), ("2021-04-15T08:00:00+00:00".into(), true));
        assert!(lenient_time("last tuesday", utc).is_err());
        assert!(lenient_time("2021-02-30T10:00:00Z", utc).is_err());
    }

    #[test]
    fn ids_are_a_function_of_the_source_key() {
        let t = lenient_time("2022-03-04T18:00:00Z", chrono_tz::UTC).unwrap().0;
        assert_eq!(incident_id("cstate:a.md", t), incident_id("cstate:a.md", t));
        assert_ne!(incident_id("cstate:a.md", t), incident_id("cstate:b.md", t));
        assert!(incident_id("x", t).starts_with("INC-20220304-"));
    }
}
