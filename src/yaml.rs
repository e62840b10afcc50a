//! The one module that reads YAML, and the canonical YAML form that ims writes.
//!
//! Parsing goes through `serde_yaml_ng`, a maintained fork of the archived `serde_yaml`
//! with the same API. Writing does not: the canonical form is produced here, by a small
//! emitter over `serde_json::Value`, so the bytes of a record never depend on a YAML
//! crate's version (DESIGN.md "Canonical form"; `ims verify` compares bytes).
//!
//! The form: mappings in the order the record type declares its fields, two-space
//! indentation, sequences indented under their key, every string double-quoted with
//! escapes for anything not printable, except multi-line text, which is written as a
//! literal block (`|` or `|-`) when that round-trips exactly. Empty collections are `[]`
//! and `{}`. The file ends with one newline.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};

/// Parses YAML text into a typed value; `what` names the file in errors.
pub fn from_str<T: DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_yaml_ng::from_str(text).map_err(|e| Error::invalid(format!("{what}: {e}")))
}

/// Parses YAML text into a JSON value.
pub fn to_value(text: &str, what: &str) -> Result<Value> {
    from_str(text, what)
}

/// Serializes a record to its canonical YAML bytes.
pub fn to_canonical<T: Serialize>(record: &T) -> Result<String> {
    let value = serde_json::to_value(record)?;
    Ok(emit(&value, &[]))
}

/// Emits a JSON value as canonical YAML; `comments` puts a comment block above the
/// named top-level keys (used for the self-documenting `ims.yaml`).
pub fn emit(value: &Value, comments: &[(&str, &str)]) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                if let Some((_, text)) = comments.iter().find(|(k, _)| k == key) {
                    for line in text.lines() {
                        out.push_str("# ");
                        out.push_str(line);
                        out.push('\n');
                    }
                }
                emit_entry(&mut out, 0, key, item);
            }
        }
        other => {
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn emit_entry(out: &mut String, depth: usize, key: &str, value: &Value) {
    indent(out, depth);
    out.push_str(&key_text(key));
    out.push(':');
    emit_after_colon(out, depth, value);
}

/// Writes what follows `key:` or `- `: an inline scalar, a block scalar or a nested block.
fn emit_after_colon(out: &mut String, depth: usize, value: &Value) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            for (k, v) in map {
                emit_entry(out, depth + 2, k, v);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                emit_item(out, depth + 2, item);
            }
        }
        Value::String(s) if literal_block_ok(s) => {
            out.push_str(if s.ends_with('\n') { " |\n" } else { " |-\n" });
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if !line.is_empty() {
                    indent(out, depth + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        other => {
            out.push(' ');
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn emit_item(out: &mut String, depth: usize, item: &Value) {
    indent(out, depth);
    out.push('-');
    match item {
        Value::Object(map) if !map.is_empty() => {
            // The first entry shares the dash's line; the rest align under it.
            for (i, (k, v)) in map.iter().enumerate() {
                if i == 0 {
                    out.push(' ');
                    out.push_str(&key_text(k));
                    out.push(':');
                    emit_after_colon(out, depth + 2, v);
                } else {
                    emit_entry(out, depth + 2, k, v);
                }
            }
        }
        Value::Array(_) => {
            // Nested sequences are rare in records; flow style is valid YAML and exact.
            out.push(' ');
            out.push_str(&serde_json::to_string(item).expect("a JSON value always serializes"));
            out.push('\n');
        }
        other => emit_after_colon(out, depth, other),
    }
}

fn key_text(key: &str) -> String {
    let plain = !key.is_empty()
        && key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.');
    if plain {
        key.to_string()
    } else {
        quote(key)
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Whether `c` may stand unescaped: YAML's printable set, minus the BOM and the
/// characters YAML 1.1 parsers take as line breaks (NEL, LS, PS).
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | ' '..='~')
        || matches!(c, '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
            && !matches!(c, '\u{FEFF}' | '\u{2028}' | '\u{2029}')
}

/// A double-quoted YAML scalar: JSON-compatible escapes for everything not printable.
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '\t' => q.push_str("\\t"),
            '\r' => q.push_str("\\r"),
            c if printable(c) => q.push(c),
            c if (c as u32) <= 0xFFFF => q.push_str(&format!("\\u{:04X}", c as u32)),
            c => q.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    q.push('"');
    q
}

/// A literal block keeps multi-line text readable in reviews; it is used only where it
/// reads back to exactly the same string.
fn literal_block_ok(s: &str) -> bool {
    let body = s.strip_suffix('\n').unwrap_or(s);
    s.contains('\n')
        && !body.is_empty()
        && !body.ends_with('\n')
        && !body.starts_with([' ', '\n'])
        && s.chars().all(|c| c == '\n' || (printable(c) && c != '\r' && c != '\t'))
        && body.split('\n').all(|line| !line.ends_with(' '))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(v: &Value) {
        let text = emit(v, &[]);
        let back: Value = to_value(&text, "test").unwrap();
        assert_eq!(&back, v, "round trip of:\n{text}");
        assert_eq!(emit(&back, &[]), text, "emitting twice gives the same bytes");
    }

    #[test]
    fn canonical_form_is_pinned() {
        let v = json!({
            "schema": "incident/1",
            "title": "DB down: \"primary\"",
            "n": 3,
            "ok": true,
            "none": null,
            "tags": ["a", "b"],
            "empty": [],
            "map": {},
            "body": "line one\n\nline three\n",
            "timeline": [{"at": "2026-11-26T10:00:00Z", "status": "open"}, {"at": "x", "nested": {"k": 1}}],
        });
        let expected = r#"schema: "incident/1"
title: "DB down: \"primary\""
n: 3
ok: true
none: null
tags:
  - "a"
  - "b"
empty: []
map: {}
body: |
  line one

  line three
timeline:
  - at: "2026-11-26T10:00:00Z"
    status: "open"
  - at: "x"
    nested:
      k: 1
"#;
        assert_eq!(emit(&v, &[]), expected);
        round_trip(&v);
    }

    #[test]
    fn awkward_strings_round_trip() {
        for s in [
            "",
            " leading",
            "trailing ",
            "yes",
            "no",
            "null",
            "~",
            "123",
            "0x1F",
            "#x",
            "- a",
            "a: b",
            "{x}",
            "[y]",
            "tab\there",
            "cr\r\nlf",
            "\u{7f}del",
            "bom\u{feff}",
            "é ✓ 😀",
            "two\nlines",
            "ends\n\n",
            "\nstarts",
            " indented\nsecond",
            "trail \nx",
            "\u{85}nel",
            "ls\u{2028}ps\u{2029}",
            "a\u{0}b",
            "---",
            "...",
            "'single'",
            "back\\slash",
            "multi\n  indented\nlines",
        ] {
            round_trip(&json!({ "k": s, "list": [s], "nested": [{ "a": s, "b": s }] }));
        }
    }

    #[test]
    fn comments_head_their_keys() {
        let v = json!({"a": 1, "b": 2});
        assert_eq!(emit(&v, &[("b", "why b\nmore")]), "a: 1\n# why b\n# more\nb: 2\n");
    }
}
