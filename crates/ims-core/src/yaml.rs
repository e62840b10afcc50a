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

/// The largest YAML text ims parses: records, `ims.yaml`, people and mappings are a
/// few kilobytes; an incident with thousands of timeline entries stays far below this.
pub const MAX_BYTES: usize = 8 << 20;
/// The deepest nesting ims parses. Records nest a handful of levels; `serde_yaml_ng`
/// refuses 128 anyway, but only after its parser has read the whole document, which is
/// quadratic in the nesting (40,000 levels cost seconds, 200,000 over a minute).
pub const MAX_DEPTH: usize = 64;

/// Parses YAML text into a typed value; `what` names the file in errors.
pub fn from_str<T: DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    guard(text, what)?;
    serde_yaml_ng::from_str(text).map_err(|e| Error::invalid(format!("{what}: {e}")))
}

/// Refuses, in one linear pass, YAML text over [`MAX_BYTES`] or nested deeper than
/// [`MAX_DEPTH`], before any parser sees it.
pub fn guard(text: &str, what: &str) -> Result<()> {
    if text.len() > MAX_BYTES {
        return Err(Error::invalid(format!(
            "{what}: {} bytes of YAML is over the limit of {MAX_BYTES} bytes",
            text.len()
        )));
    }
    let depth = nesting(text);
    if depth > MAX_DEPTH {
        return Err(Error::invalid(format!("{what}: YAML nested {depth} levels deep, over the limit of {MAX_DEPTH}")));
    }
    Ok(())
}

/// An upper bound on the nesting of a YAML text, stopping once past [`MAX_DEPTH`]: block
/// nesting from the indentation levels open on each line plus its leading `- `/`? `
/// indicators, plus the flow collections (`[`, `{`) open at each point, counted outside
/// quoted scalars, comments and block scalars.
fn nesting(text: &str) -> usize {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut quote = Quote::None;
    let mut deepest = 0usize;
    // The indentation of a line that opened a block scalar (`|`, `>`): more indented
    // lines after it are its text.
    let mut block_scalar: Option<usize> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let body = &line[indent..];
        if let Some(parent) = block_scalar {
            if body.trim().is_empty() || indent > parent {
                continue;
            }
            block_scalar = None;
        }
        let mut block = 0;
        if flow == 0 && quote == Quote::None && !body.is_empty() && !body.starts_with('#') {
            while indents.last().is_some_and(|&top| top > indent) {
                indents.pop();
            }
            if indents.last().is_none_or(|&top| top < indent) {
                indents.push(indent);
            }
            block = indents.len();
        }
        // Where a value may begin: a quote or a bracket there opens a scalar or a
        // collection; elsewhere it is part of a plain scalar.
        let mut value_start = true;
        let mut last = ' ';
        // Still among the line's leading `- `/`? ` indicators.
        let mut head = true;
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Quote::Double => {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => quote = Quote::None,
                        _ => {}
                    }
                    last = c;
                    continue;
                }
                Quote::Single => {
                    if c == '\'' {
                        quote = Quote::None;
                    }
                    last = c;
                    continue;
                }
                Quote::None => {}
            }
            match c {
                '#' if last == ' ' || last == '\t' => break,
                '"' if value_start => quote = Quote::Double,
                '\'' if value_start => quote = Quote::Single,
                '[' | '{' if value_start || flow > 0 => {
                    flow += 1;
                    deepest = deepest.max(block + flow);
                }
                ']' | '}' if flow > 0 => flow -= 1,
                '-' | '?' if head && flow == 0 && chars.peek().is_none_or(|n| *n == ' ') => {
                    block += 1;
                    last = c;
                    continue;
                }
                '|' | '>' if value_start && flow == 0 => {
                    let rest: String = chars.clone().collect();
                    let rest = rest.split(" #").next().unwrap_or("").trim();
                    if rest.chars().all(|c| c.is_ascii_digit() || c == '+' || c == '-') {
                        block_scalar = Some(indent);
                    }
                }
                _ => {}
            }
            head &= c == ' ';
            value_start = match c {
                ' ' | '\t' => value_start || matches!(last, ':' | '-' | '?' | ',' | '[' | '{'),
                '[' | '{' | ',' => flow > 0,
                _ => false,
            };
            last = c;
        }
        deepest = deepest.max(block + flow);
        if deepest > MAX_DEPTH {
            return deepest;
        }
    }
    deepest
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
    fn nesting_is_bounded_before_parsing() {
        let ok = [
            ("a: 1\nb:\n  c: [1, [2, {x: y}]]\n  d:\n    - e: f\n      g: [h]\n", 5),
            ("t: \"[[[[[[\"\nu: '[[[[ it''s'\nv: x[[[[[[[\n", 1),
            ("body: |\n  [[[[[[[[[[\n  {{{{{{{{{{\nnext: 1\n", 1),
            ("# [[[[[[[[[[\n- - - a\n", 4),
        ];
        for (text, depth) in ok {
            assert_eq!(nesting(text), depth, "{text}");
            guard(text, "t").unwrap();
        }
        let deep = format!("a: {}{}\n", "[".repeat(40_000), "]".repeat(40_000));
        let start = std::time::Instant::now();
        let e = from_str::<Value>(&deep, "ims.yaml").unwrap_err();
        assert!(e.message.contains("ims.yaml: YAML nested") && e.message.contains("limit of 64"), "{}", e.message);
        assert!(start.elapsed() < std::time::Duration::from_millis(500));
        let mut block = String::from("a:\n");
        for i in 0..200 {
            block.push_str(&format!("{}- \n", " ".repeat(i + 1)));
        }
        assert!(guard(&block, "r").is_err());
        assert!(guard(&format!("a: b {}", "- ".repeat(100)), "r").is_ok(), "dashes inside a plain scalar");
        assert!(guard(&"- ".repeat(100), "r").is_err());
        assert!(guard(&"x".repeat(MAX_BYTES + 1), "r").unwrap_err().message.contains("over the limit"));
    }

    #[test]
    fn comments_head_their_keys() {
        let v = json!({"a": 1, "b": 2});
        assert_eq!(emit(&v, &[("b", "why b\nmore")]), "a: 1\n# why b\n# more\nb: 2\n");
    }
}
