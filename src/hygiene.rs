//! Input hygiene for all free text: size limits, no control characters, no secrets.
//!
//! Every text a user or an alert hands to a procedure passes through [`text`] before it
//! can reach a record, so a pasted private key or a token in a URL halts with exit 3
//! naming the field, and nothing is written.

use std::sync::OnceLock;

use regex::RegexSet;

use crate::error::{Error, Result};

/// How long a one-line text (title, reason, summary) may be, in characters.
pub const LINE_MAX: usize = 500;
/// How long a multi-line text (description, message, notes) may be, in bytes.
pub const TEXT_MAX: usize = 16 * 1024;
/// How long a document (a KB article body) may be, in bytes.
pub const DOCUMENT_MAX: usize = 256 * 1024;

/// The shape of a text field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One line, at most [`LINE_MAX`] characters.
    Line,
    /// Several lines, at most [`TEXT_MAX`] bytes.
    Text,
    /// A Markdown document, at most [`DOCUMENT_MAX`] bytes.
    Document,
}

const SECRET_PATTERNS: &[(&str, &str)] = &[
    (r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----", "a private key block"),
    (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", "an AWS access key id"),
    (r"(?i)aws_secret_access_key\s*[=:]\s*\S{20,}", "an AWS secret access key"),
    (r"\bAIza[0-9A-Za-z_\-]{35}\b", "a Google API key"),
    (r"\bgh[pousr]_[A-Za-z0-9]{36,}\b", "a GitHub token"),
    (r"\bgithub_pat_[A-Za-z0-9_]{22,}\b", "a GitHub token"),
    (r"\bglpat-[A-Za-z0-9_\-]{20,}\b", "a GitLab token"),
    (r"\bxox[abposr]-[A-Za-z0-9\-]{10,}\b", "a Slack token"),
    (r"\bsk_live_[A-Za-z0-9]{16,}\b", "a Stripe secret key"),
    (r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", "a JSON web token"),
    (r"[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]+:[^/\s@]+@", "a password in a URL"),
    (r"(?i)\b(password|passwd|pwd|secret|api[_-]?key|token)\s*[=:]\s*\S{6,}", "a password or key assignment"),
];

fn secrets() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        RegexSet::new(SECRET_PATTERNS.iter().map(|(p, _)| *p)).expect("the secret patterns are valid regexes")
    })
}

/// Substrings at least one of which every secret pattern needs; a text with none of
/// them skips the regexes (and their compilation) entirely.
const ANCHORS: &[&str] = &[
    "-----begin",
    "akia",
    "asia",
    "aws_secret",
    "aiza",
    "gh",
    "glpat-",
    "xox",
    "sk_live_",
    "eyj",
    "://",
    "password",
    "passwd",
    "pwd",
    "secret",
    "api",
    "token",
];

/// Names the kind of secret `text` contains, if any.
pub fn find_secret(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if !ANCHORS.iter().any(|a| lower.contains(a)) {
        return None;
    }
    secrets().matches(text).iter().next().map(|i| SECRET_PATTERNS[i].1)
}

/// Checks a required free text; returns it trimmed of surrounding whitespace.
pub fn text(field: &str, value: &str, shape: Shape) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(format!("{field}: must not be empty")));
    }
    checked(field, value, shape)
}

/// Checks an optional free text; an empty one counts as absent.
pub fn optional(field: &str, value: Option<&str>, shape: Shape) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => checked(field, v, shape).map(Some),
    }
}

fn checked(field: &str, value: &str, shape: Shape) -> Result<String> {
    let too_long = match shape {
        Shape::Line => value.chars().count() > LINE_MAX,
        Shape::Text => value.len() > TEXT_MAX,
        Shape::Document => value.len() > DOCUMENT_MAX,
    };
    if too_long {
        let limit = match shape {
            Shape::Line => format!("{LINE_MAX} characters"),
            Shape::Text => format!("{TEXT_MAX} bytes"),
            Shape::Document => format!("{DOCUMENT_MAX} bytes"),
        };
        return Err(Error::invalid(format!("{field}: longer than the limit of {limit}")));
    }
    for c in value.chars() {
        let allowed_whitespace = match shape {
            Shape::Line => false,
            Shape::Text | Shape::Document => c == '\n' || c == '\t',
        };
        if (c.is_control() && !allowed_whitespace) || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}') {
            let what =
                if c == '\n' { "a line break".to_string() } else { format!("control character U+{:04X}", c as u32) };
            return Err(Error::invalid(format!("{field}: contains {what}, which is not allowed here")));
        }
    }
    if let Some(kind) = find_secret(value) {
        return Err(Error::invalid(format!(
            "{field}: looks like it contains {kind}; secrets must never enter the record (remove or redact it)"
        )));
    }
    Ok(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_named() {
        let cases = [
            ("-----BEGIN OPENSSH PRIVATE KEY-----\nabc", "a private key block"),
            ("key AKIAIOSFODNN7EXAMPLE here", "an AWS access key id"),
            ("see https://bob:hunter22@db.example.com/x", "a password in a URL"),
            ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token"),
            ("password = correcthorse", "a password or key assignment"),
        ];
        for (text, kind) in cases {
            assert_eq!(find_secret(text), Some(kind), "{text}");
        }
        assert_eq!(find_secret("https://status.example.com/incidents/42"), None);
        assert_eq!(find_secret("reset the password for the user"), None);
    }

    #[test]
    fn one_halt_per_rule() {
        assert!(text("title", "  ", Shape::Line).unwrap_err().message.contains("empty"));
        assert!(text("title", &"x".repeat(LINE_MAX + 1), Shape::Line).unwrap_err().message.contains("limit"));
        assert!(text("title", "a\nb", Shape::Line).unwrap_err().message.contains("line break"));
        assert!(text("notes", "a\u{7}b", Shape::Text).unwrap_err().message.contains("U+0007"));
        assert_eq!(text("notes", " a\nb ", Shape::Text).unwrap(), "a\nb");
        assert_eq!(optional("x", Some(" "), Shape::Line).unwrap(), None);
    }
}
