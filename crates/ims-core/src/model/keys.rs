//! Uniqueness keys as files under `records/keys/`: each names the record that holds the
//! key. A lookup is one path read, and two branches that take the same key collide when
//! they meet instead of merging into a duplicate.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Snapshot;
use crate::error::Result;

/// `records/keys/<kind>/<sha-256 of the key>.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyFile {
    pub key: String,
    pub record: String,
}

/// The path of a key of `kind` (`problems`, `alerts`).
pub fn path(kind: &str, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("records/keys/{kind}/{hex}.yaml")
}

/// The record holding `key`, if any.
pub fn holder(snap: &dyn Snapshot, kind: &str, key: &str) -> Result<Option<KeyFile>> {
    super::load(snap, &path(kind, key))
}
