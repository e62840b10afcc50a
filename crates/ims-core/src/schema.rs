//! The JSON Schemas of every record type, embedded in the binary and compiled once per
//! process. Every record ims writes is checked against the schema its `schema:` line
//! names before it can reach a commit.

use std::sync::OnceLock;

use jsonschema::Validator;
use serde_json::Value;

use crate::error::{Error, Result};

/// Every schema: its versioned name and its text.
pub const SCHEMAS: &[(&str, &str)] = &[
    ("incident/1", include_str!("../../../schemas/incident.json")),
    ("problem/1", include_str!("../../../schemas/problem.json")),
    ("change/1", include_str!("../../../schemas/change.json")),
    ("kb/1", include_str!("../../../schemas/kb.json")),
    ("pir/1", include_str!("../../../schemas/pir.json")),
    ("event/1", include_str!("../../../schemas/event.json")),
    ("tool/1", include_str!("../../../schemas/tool.json")),
    ("simulation/1", include_str!("../../../schemas/simulation.json")),
    ("person/1", include_str!("../../../schemas/person.json")),
    ("proposal/1", include_str!("../../../schemas/proposal.json")),
    ("config/1", include_str!("../../../schemas/config.json")),
    ("import/1", include_str!("../../../schemas/import.json")),
    ("delivery/1", include_str!("../../../schemas/delivery.json")),
];

/// The compiled validator for `name`, compiled on first use (a procedure needs one or
/// two of them) and kept for the rest of the process.
fn validator(name: &str) -> Option<&'static Validator> {
    static COMPILED: [OnceLock<Validator>; SCHEMAS.len()] = [const { OnceLock::new() }; SCHEMAS.len()];
    let i = SCHEMAS.iter().position(|(n, _)| *n == name)?;
    Some(COMPILED[i].get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMAS[i].1).expect("embedded schemas are valid JSON");
        jsonschema::validator_for(&schema).expect("embedded schemas compile")
    }))
}

/// Validates a record against the schema its `schema` field names; `what` names the
/// file in the error, which lists the first few violations with their JSON pointer.
pub fn validate(record: &Value, what: &str) -> Result<()> {
    let name = record
        .get("schema")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::invalid(format!("{what}: no `schema:` line naming its type and version")))?;
    let validator = validator(name).ok_or_else(|| Error::invalid(format!("{what}: unknown schema `{name}`")))?;
    let problems: Vec<String> = validator
        .iter_errors(record)
        .take(3)
        .map(|e| {
            let at = e.instance_path().to_string();
            format!("{} {}", if at.is_empty() { "/" } else { at.as_str() }, e)
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid(format!("{what}: schema {name} violated: {}", problems.join("; "))))
    }
}

/// Whether the file at `path` is a record that must carry a schema.
pub fn governs(path: &str) -> bool {
    (path.starts_with("records/") && !path.starts_with("records/keys/") && path.ends_with(".yaml"))
        || (path.starts_with("people/") && path.ends_with(".yaml"))
        || path == "ims.yaml"
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_embedded_schema_compiles() {
        for (name, _) in super::SCHEMAS {
            assert!(super::validator(name).is_some(), "{name}");
        }
    }
}
