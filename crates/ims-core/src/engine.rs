//! The procedure engine's pure half: what a procedure is, what it produces, and the
//! commit message that is a rendering of procedure + input.
//!
//! A procedure is `(snapshot, input, actor, now) -> Result<Effect>`. New ids and every
//! judgement the shell makes are part of the input, so applying the same procedure
//! version to the same parent with the same input always gives the same bytes: that is
//! what `ims verify` replays.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::enums::{AuditAction, Role};
use crate::model::{self, Person, Snapshot};

/// Everything a procedure may look at besides its input.
pub struct Ctx<'a> {
    pub snap: &'a dyn Snapshot,
    /// The acting person's email (`Ims-Actor`).
    pub actor: &'a str,
    /// The procedure's time (the commit time).
    pub now: DateTime<Utc>,
    /// The rules free text is judged by: screening for new input, the recorded ones
    /// when a recorded input is replayed.
    pub rules: crate::hygiene::Rules,
}

impl Ctx<'_> {
    /// The acting person as registered at the parent; unknown or revoked is forbidden.
    pub fn person(&self) -> Result<Person> {
        let person = model::person(self.snap, self.actor)?
            .ok_or_else(|| Error::forbidden(format!("actor {}: not a registered person", self.actor)).field("actor"))?;
        if person.revoked {
            return Err(Error::forbidden(format!("actor {}: revoked", self.actor)).field("actor"));
        }
        Ok(person)
    }

    /// The actor, who must hold one of `roles` to run `what`.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<Person> {
        let person = self.person()?;
        if person.has_any_role(roles) {
            return Ok(person);
        }
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(Error::forbidden(format!(
            "{what}: {} has roles [{}]; it needs one of [{}]",
            self.actor,
            person.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", "),
            names.join(", ")
        ))
        .field("roles"))
    }

    /// The actor, who must be staff.
    pub fn require_staff(&self, what: &str) -> Result<Person> {
        self.require(Role::STAFF, what)
    }
}

/// One `Ims-Action` line: an audit entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionLine {
    pub action: AuditAction,
    pub ref_type: String,
    pub ref_id: Option<String>,
}

impl ActionLine {
    pub fn new(action: AuditAction, ref_type: &str, ref_id: &str) -> Self {
        ActionLine { action, ref_type: ref_type.into(), ref_id: Some(ref_id.into()) }
    }

    fn render(&self) -> String {
        match &self.ref_id {
            Some(id) => format!("{} {}/{}", self.action, self.ref_type, id),
            None => format!("{} {}", self.action, self.ref_type),
        }
    }

    fn parse(text: &str) -> Option<ActionLine> {
        let (action, target) = text.split_once(' ')?;
        let action = action.parse().ok()?;
        let (ref_type, ref_id) = match target.split_once('/') {
            Some((t, id)) => (t.to_string(), Some(id.to_string())),
            None => (target.to_string(), None),
        };
        Some(ActionLine { action, ref_type, ref_id })
    }
}

/// What a procedure produces: files to write, audit lines, and its message.
#[derive(Debug, Clone, Default)]
pub struct Effect {
    pub subject: String,
    pub body: Vec<String>,
    pub actions: Vec<ActionLine>,
    pub fields: Vec<String>,
    /// Path → new bytes, or `None` to delete.
    pub writes: BTreeMap<String, Option<Vec<u8>>>,
    /// The id and record of what was created or changed, for `--json`.
    pub id: Option<String>,
    pub record: Option<Value>,
    /// The records written, as values, so validation need not parse the bytes back.
    pub values: BTreeMap<String, Value>,
}

impl Effect {
    pub fn new(subject: impl Into<String>) -> Self {
        Effect { subject: subject.into(), ..Effect::default() }
    }

    pub fn action(mut self, action: AuditAction, ref_type: &str, ref_id: &str) -> Self {
        self.actions.push(ActionLine::new(action, ref_type, ref_id));
        self
    }

    pub fn line(mut self, line: impl Into<String>) -> Self {
        self.body.push(line.into());
        self
    }

    pub fn fields(mut self, fields: &[&str]) -> Self {
        for f in fields {
            if !self.fields.iter().any(|x| x == f) {
                self.fields.push(f.to_string());
            }
        }
        self
    }

    /// Writes a record in canonical form at `path`.
    pub fn write<T: Serialize>(&mut self, path: &str, record: &T) -> Result<()> {
        let value = serde_json::to_value(record)?;
        let text = crate::yaml::emit(&value, &[]);
        self.writes.insert(path.to_string(), Some(text.into_bytes()));
        self.values.insert(path.to_string(), value);
        Ok(())
    }

    /// Writes a record and makes it the result shown to the user.
    pub fn write_main<T: Serialize>(&mut self, path: &str, id: &str, record: &T) -> Result<()> {
        self.write(path, record)?;
        self.id = Some(id.to_string());
        self.record = Some(serde_json::to_value(record)?);
        Ok(())
    }

    pub fn write_raw(&mut self, path: &str, bytes: Vec<u8>) {
        self.writes.insert(path.to_string(), Some(bytes));
    }
}

/// A governed procedure with a frozen version.
pub trait Procedure {
    /// `incident.escalate/1`: the name and its version.
    const ID: &'static str;
    type Input: Serialize + DeserializeOwned;
    fn apply(ctx: &Ctx, input: &Self::Input) -> Result<Effect>;

    /// Step `number` of this procedure's policy steps (the list its file opens with),
    /// for naming where a halt happened: `Err(e.at(Self::step(2)))`.
    fn step(number: u8) -> crate::error::Step {
        crate::error::Step { procedure: Self::ID, number }
    }
}

/// The canonical JSON (RFC 8785) of an input.
pub fn canonical_json<T: Serialize>(input: &T) -> Result<String> {
    serde_json_canonicalizer::to_string(input).map_err(|e| Error::internal(format!("canonical json: {e}")))
}

/// Renders the commit message: a pure function of procedure, actor, input and effect.
pub fn render_message(procedure: &str, actor: &str, input_json: &str, effect: &Effect) -> String {
    let mut m = String::new();
    m.push_str(effect.subject.trim());
    m.push_str("\n\n");
    if !effect.body.is_empty() {
        for line in &effect.body {
            m.push_str(line);
            m.push('\n');
        }
        m.push('\n');
    }
    m.push_str(&format!("Ims-Procedure: {procedure}\n"));
    for a in &effect.actions {
        m.push_str(&format!("Ims-Action: {}\n", a.render()));
    }
    m.push_str(&format!("Ims-Actor: {actor}\n"));
    if !effect.fields.is_empty() {
        m.push_str(&format!("Ims-Fields: {}\n", effect.fields.join(", ")));
    }
    m.push_str(&format!("Ims-Input: {input_json}\n"));
    m
}

/// The read-audit anchor trailer: a procedure commit vouches for the tip its actor's
/// read-audit ref had when it was made. It is not part of the procedure's rendering (a
/// procedure version stays frozen): the runner appends it after `Ims-Input`, and verify
/// takes it off before comparing the message with the rendering.
pub const READ_ANCHOR: &str = "Ims-Read-Anchor: ";

/// Appends the anchor trailer for `anchor` (the actor's read-audit tip), if any.
pub fn with_read_anchor(message: String, anchor: Option<impl std::fmt::Display>) -> String {
    match anchor {
        Some(oid) => format!("{message}{READ_ANCHOR}{oid}\n"),
        None => message,
    }
}

/// Splits a message into its rendering and its anchor: the anchor is exactly one last
/// line `Ims-Read-Anchor: <40 hex>` after a line break; the anchor is that commit id.
pub fn split_read_anchor(message: &str) -> (&str, Option<&str>) {
    let Some(body) = message.strip_suffix('\n') else { return (message, None) };
    let Some(start) = body.rfind('\n').map(|i| i + 1) else { return (message, None) };
    let Some(hex) = body[start..].strip_prefix(READ_ANCHOR) else { return (message, None) };
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return (message, None);
    }
    (&message[..start], Some(hex))
}

/// The trailers of an ims commit message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trailers {
    pub procedure: String,
    pub actions: Vec<ActionLine>,
    pub actor: String,
    pub fields: Vec<String>,
    pub input: String,
}

/// Parses the trailers of a commit message; `None` if it is not an ims commit.
pub fn parse_trailers(message: &str) -> Option<Trailers> {
    let mut t = Trailers::default();
    for line in message.lines() {
        if let Some(v) = line.strip_prefix("Ims-Procedure: ") {
            t.procedure = v.to_string();
        } else if let Some(v) = line.strip_prefix("Ims-Action: ") {
            t.actions.push(ActionLine::parse(v)?);
        } else if let Some(v) = line.strip_prefix("Ims-Actor: ") {
            t.actor = v.to_string();
        } else if let Some(v) = line.strip_prefix("Ims-Fields: ") {
            t.fields = v.split(", ").map(String::from).collect();
        } else if let Some(v) = line.strip_prefix("Ims-Input: ") {
            t.input = v.to_string();
        }
    }
    (!t.procedure.is_empty()).then_some(t)
}

/// Applies a typed procedure to an input given as JSON (replay, proposals).
pub fn apply_json<P: Procedure>(ctx: &Ctx, input: &Value) -> Result<Effect> {
    let input: P::Input = serde_json::from_value(input.clone())
        .map_err(|e| Error::invalid(format!("{}: input does not fit: {e}", P::ID)))?;
    P::apply(ctx, &input)
}

/// Checks that every record the effect writes is valid under its schema, and that the
/// config still makes sense. Step 4 of DESIGN.md "How a procedure runs".
pub fn validate_writes(effect: &Effect) -> Result<()> {
    for (path, bytes) in &effect.writes {
        let Some(bytes) = bytes else { continue };
        if !crate::schema::governs(path) {
            continue;
        }
        match effect.values.get(path) {
            Some(value) => crate::schema::validate(value, path)?,
            None => {
                let text = std::str::from_utf8(bytes).map_err(|_| Error::internal(format!("{path}: not UTF-8")))?;
                crate::schema::validate(&crate::yaml::to_value(text, path)?, path)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_anchor_is_one_last_line_and_comes_off_exactly() {
        let oid = "0123456789abcdef0123456789abcdef01234567";
        let rendered = "subject\n\nIms-Procedure: x/1\nIms-Actor: a@b.c\nIms-Input: {}\n".to_string();
        let anchored = with_read_anchor(rendered.clone(), Some(oid));
        assert_eq!(split_read_anchor(&anchored), (rendered.as_str(), Some(oid)));
        assert_eq!(split_read_anchor(&rendered), (rendered.as_str(), None));
        assert_eq!(with_read_anchor(rendered.clone(), None::<&str>), rendered);
        // Anything but exactly one well-formed last line stays part of the message.
        for odd in [
            format!("{anchored}\n"),
            anchored.replace("01234567\n", "0123456\n"),
            anchored.replace("abcdef", "ABCDEF"),
            format!("{anchored}{READ_ANCHOR}{oid}\n"),
        ] {
            let (body, _) = split_read_anchor(&odd);
            assert_ne!(body, rendered.as_str(), "{odd:?}");
        }
    }
}
