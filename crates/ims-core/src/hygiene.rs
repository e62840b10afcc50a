//! Input hygiene for all free text: size limits, no control characters, no secrets.
//!
//! Every text a user or an alert hands to a procedure passes through [`text`] before it
//! can reach a record, so a pasted private key or a token in a URL halts with exit 3
//! naming the field, and nothing is written.
//!
//! Two generations of rules. The *recorded* rules are the ones every released procedure
//! version applied when its commits were made; replay ([`Rules::Recorded`]) applies exactly
//! those, so an old history replays byte for byte. The *screening* rules ([`screen`]) were
//! added later — bidi controls and invisible characters in one-line fields, more secret
//! forms — and apply to every new input (the default), never to a replayed one: a stricter
//! check must not turn an old, valid history into a verify failure.

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

/// Secret forms added after the first release: checked on new input only (see the module
/// documentation), so histories recorded before them still replay.
const SCREENED_SECRET_PATTERNS: &[(&str, &str)] = &[
    (r"PuTTY-User-Key-File-\d+:", "a PuTTY private key"),
    (r"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", "a private key block"),
    (r"(?i)\bauthorization\s*:\s*bearer\s+[A-Za-z0-9\-._~+/]{8,}", "an HTTP Authorization bearer token"),
    (r"(?i)\bauthorization\s*:\s*basic\s+[A-Za-z0-9+/]{8,}", "HTTP Authorization basic credentials"),
    (r"\bxapp-\d-[A-Za-z0-9\-]{10,}", "a Slack token"),
    (r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]{8,}", "a Slack webhook URL"),
    (r"\bnpm_[A-Za-z0-9]{36}\b", "an npm token"),
    // Azure: a storage (or Service Bus, Event Hubs) connection string's key, and a shared
    // access signature, whether in a connection string or a SAS URL (`sv=…&sig=…`).
    (r"(?i)\b(?:AccountKey|SharedAccessKey)\s*=\s*[A-Za-z0-9+/]{20,}", "an Azure account key"),
    (r"(?i)\bSharedAccessSignature\s*=[^;\s]*\bsig=[A-Za-z0-9%+/]{16,}", "an Azure shared access signature"),
    (r"[?&]sv=\d{4}-\d{2}-\d{2}&\S*\bsig=[A-Za-z0-9%+/]{16,}", "an Azure shared access signature"),
    // Forms the recorded patterns just miss: a Google API key whose last character is `-`
    // (no word boundary after it), Slack refresh tokens (`xoxe-`), unlabelled SSH2 keys.
    (r"\bAIza[0-9A-Za-z_\-]{35}(?:[^0-9A-Za-z_\-]|$)", "a Google API key"),
    (r"\bxoxe-\d-[A-Za-z0-9\-]{10,}", "a Slack token"),
    (r"---- BEGIN SSH2 PRIVATE KEY ----", "a private key block"),
    (r"\bGOCSPX-[A-Za-z0-9_\-]{20,}", "a Google OAuth client secret"),
    (r"\bAGE-SECRET-KEY-1[0-9A-Z]{50,}", "an age secret key"),
];

fn screened_secrets() -> &'static RegexSet {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| {
        RegexSet::new(SCREENED_SECRET_PATTERNS.iter().map(|(p, _)| *p))
            .expect("the screened secret patterns are valid regexes")
    })
}

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

/// Names the kind of secret `text` contains under the recorded rules, if any.
fn recorded_secret(text: &str) -> Option<&'static str> {
    let lower = text.to_ascii_lowercase();
    if !ANCHORS.iter().any(|a| lower.contains(a)) {
        return None;
    }
    secrets().matches(text).iter().next().map(|i| SECRET_PATTERNS[i].1)
}

/// Substrings at least one of which every screened secret pattern needs.
const SCREENED_ANCHORS: &[&str] = &[
    "putty-user-key-file-",
    "---- begin ssh2",
    "authorization",
    "xapp-",
    "hooks.slack.com",
    "npm_",
    "accountkey",
    "sharedaccess",
    "sig=",
    "aiza",
    "xoxe-",
    "gocspx-",
    "age-secret-key-",
];

/// Names the kind of secret `text` contains, if any: every form ims knows.
pub fn find_secret(text: &str) -> Option<&'static str> {
    if let Some(kind) = recorded_secret(text) {
        return Some(kind);
    }
    let lower = text.to_ascii_lowercase();
    if !SCREENED_ANCHORS.iter().any(|a| lower.contains(a)) {
        return None;
    }
    screened_secrets().matches(text).iter().next().map(|i| SCREENED_SECRET_PATTERNS[i].1)
}

/// Bidirectional-text controls: they reorder what a reader sees (U+202E turns
/// `exe.txt` around), so a one-line field may not hold them.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Invisible characters that make two different names look the same. ZWNJ and ZWJ
/// (U+200C, U+200D) are not among them: Persian, Indic scripts and emoji need them.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// The code point and name of the first character a one-line field may not hold.
pub fn forbidden_in_line(value: &str) -> Option<(char, &'static str)> {
    value.chars().find_map(|c| {
        if is_bidi_control(c) {
            Some((c, "a bidirectional-text control"))
        } else if is_invisible(c) {
            Some((c, "an invisible character"))
        } else {
            None
        }
    })
}

/// Which generation of rules judges a text (see the module's documentation). A
/// procedure gets it from its [`Ctx`](crate::engine::Ctx): new input is screened, a
/// recorded input replayed (`ims verify`, `ims sync`) is judged by the recorded rules only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rules {
    /// New input: the recorded rules and the screening rules.
    #[default]
    Screening,
    /// A recorded input replayed: the rules every released procedure version applied.
    Recorded,
}

impl Rules {
    /// Whether new input is being judged (not a recorded one replayed).
    pub fn screening(self) -> bool {
        self == Rules::Screening
    }
}

/// [`screen`] on every string inside a settings value, each as a one-line field; nothing
/// when replaying a recorded input.
pub fn screen_value(rules: Rules, field: &str, value: &serde_json::Value) -> Result<()> {
    if !rules.screening() {
        return Ok(());
    }
    match value {
        serde_json::Value::String(s) => screen(field, s, Shape::Line),
        serde_json::Value::Array(items) => items.iter().try_for_each(|v| screen_value(rules, field, v)),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            screen(field, k, Shape::Line)?;
            screen_value(rules, &format!("{field}.{k}"), v)
        }),
        _ => Ok(()),
    }
}

/// The screening rules for new input: no bidi controls or invisible characters in a
/// one-line field, and none of the secret forms ims knows. Usable on its own (the intake
/// endpoint refuses a payload with it before answering).
pub fn screen(field: &str, value: &str, shape: Shape) -> Result<()> {
    screened(field, value, shape).map_err(|e| e.field(field))
}

fn screened(field: &str, value: &str, shape: Shape) -> Result<()> {
    if shape == Shape::Line {
        if let Some((c, what)) = forbidden_in_line(value) {
            return Err(Error::invalid(format!(
                "{field}: contains U+{:04X}, {what}, which a one-line field may not hold",
                c as u32
            )));
        }
    }
    if let Some(kind) = find_secret(value) {
        return Err(Error::invalid(format!(
            "{field}: looks like it contains {kind}; secrets must never enter the record (remove or redact it)"
        )));
    }
    Ok(())
}

/// Checks a required free text; returns it trimmed of surrounding whitespace.
pub fn text(rules: Rules, field: &str, value: &str, shape: Shape) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(Error::invalid(format!("{field}: must not be empty")).field(field));
    }
    checked(rules, field, value, shape)
}

/// Checks an optional free text; an empty one counts as absent.
pub fn optional(rules: Rules, field: &str, value: Option<&str>, shape: Shape) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => checked(rules, field, v, shape).map(Some),
    }
}

/// Every check of a text, naming `field` in the halt's data as its message does.
fn checked(rules: Rules, field: &str, value: &str, shape: Shape) -> Result<String> {
    check(rules, field, value, shape).map_err(|e| e.field(field))
}

fn check(rules: Rules, field: &str, value: &str, shape: Shape) -> Result<String> {
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
    if let Some(kind) = recorded_secret(value) {
        return Err(Error::invalid(format!(
            "{field}: looks like it contains {kind}; secrets must never enter the record (remove or redact it)"
        )));
    }
    if rules.screening() {
        screen(field, value, shape)?;
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
        assert!(text(Rules::Screening, "title", "  ", Shape::Line).unwrap_err().message.contains("empty"));
        assert!(text(Rules::Screening, "title", &"x".repeat(LINE_MAX + 1), Shape::Line)
            .unwrap_err()
            .message
            .contains("limit"));
        assert!(text(Rules::Screening, "title", "a\nb", Shape::Line).unwrap_err().message.contains("line break"));
        assert!(text(Rules::Screening, "notes", "a\u{7}b", Shape::Text).unwrap_err().message.contains("U+0007"));
        assert_eq!(text(Rules::Screening, "notes", " a\nb ", Shape::Text).unwrap(), "a\nb");
        assert_eq!(optional(Rules::Screening, "x", Some(" "), Shape::Line).unwrap(), None);
    }

    /// Each form ims knows: a real-looking instance is named, a near miss is not.
    #[test]
    fn every_secret_form_has_a_hit_and_a_near_miss() {
        let putty = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none";
        let bearer = "curl -H 'Authorization: Bearer abcDEF123456.xyz-_~+/' https://api";
        let basic = "Authorization: Basic dXNlcjpodW50ZXIy";
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV";
        let forms: &[(&str, &str, &str)] = &[
            (putty, "a PuTTY private key", "the PuTTY-User-Key-File format is documented"),
            (bearer, "an HTTP Authorization bearer token", "the Authorization: Bearer header was missing"),
            (basic, "HTTP Authorization basic credentials", "Authorization: Basic auth is disabled"),
            (
                "hdr authorization:bearer   tok3n_value_1234",
                "an HTTP Authorization bearer token",
                "authorization bearer",
            ),
            ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token", "ghp_short123"),
            ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "a GitHub token", "github_pat_short"),
            ("xoxb-123456789012-abcdefghijkl", "a Slack token", "xoxz-123456789012-abcdefghijkl"),
            ("xapp-1-A0123456789-abcdefghijkl", "a Slack token", "xapp-x-short"),
            (
                "https://hooks.slack.com/services/T0123ABCD/B0123ABCD/abcdefghijklmnopqrstuvwx",
                "a Slack webhook URL",
                "https://hooks.slack.com/services/",
            ),
            ("AIzaSyA1234567890abcdefghijklmnopqrstuv", "a Google API key", "AIzaSyA123 is truncated"),
            (jwt, "a JSON web token", "eyJhbGciOiJIUzI1NiJ9 alone is a header"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "a private key block", "-----BEGIN OPENSSH PUBLIC KEY-----"),
            ("-----BEGIN ENCRYPTED PRIVATE KEY-----", "a private key block", "-----BEGIN CERTIFICATE-----"),
            ("-----BEGIN RSA PRIVATE KEY-----", "a private key block", "BEGIN RSA PRIVATE KEY without dashes"),
            ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "a private key block", "-----BEGIN PGP PUBLIC KEY BLOCK-----"),
            ("---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", "a private key block", "---- BEGIN SSH2 PUBLIC KEY ----"),
            ("postgres://admin:s3cret@db.internal/app", "a password in a URL", "postgres://admin@db.internal/app"),
            ("npm_abcdefghijklmnopqrstuvwxyz0123456789", "an npm token", "npm_install failed"),
        ];
        for (hit, kind, miss) in forms {
            assert_eq!(find_secret(hit), Some(*kind), "{hit}");
            assert_eq!(find_secret(miss), None, "{miss}");
        }
    }

    /// Azure connection strings and SAS tokens, and every variant of the common forms
    /// (each Slack prefix, each GitHub prefix, each private key type, a JWT), are named.
    #[test]
    fn azure_and_every_variant_of_the_common_forms_are_named() {
        let key88 = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
        let hits: &[(String, &str)] = &[
            (
                format!("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={key88};EndpointSuffix=core.windows.net"),
                "an Azure account key",
            ),
            (
                format!("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={}", &key88[..44]),
                "an Azure account key",
            ),
            (
                "BlobEndpoint=https://acme.blob.core.windows.net/;SharedAccessSignature=sv=2022-11-02&ss=b&srt=co&sp=r&se=2026-12-01&sig=Zm9vYmFyYmF6cXV4cXV1eA%3D%3D".into(),
                "an Azure shared access signature",
            ),
            (
                "https://acme.blob.core.windows.net/logs/a.txt?sv=2022-11-02&st=2026-11-01&sr=b&sp=r&sig=Zm9vYmFyYmF6cXV4cXV1eA%3D%3D".into(),
                "an Azure shared access signature",
            ),
            ("AIzaSyA1234567890abcdefghijklmnopqrstu- is the key".into(), "a Google API key"),
            ("xoxe-1-My0xLTU1NTAwMDA0NjktNDQ".into(), "a Slack token"),
            ("---- BEGIN SSH2 PRIVATE KEY ----".into(), "a private key block"),
            ("client_secret GOCSPX-abcdefghijklmnopqrstuvwxyz12".into(), "a Google OAuth client secret"),
            (format!("AGE-SECRET-KEY-1{}", "QQPQ".repeat(15)), "an age secret key"),
        ];
        for (text, kind) in hits {
            assert_eq!(find_secret(text), Some(*kind), "{text}");
        }
        for prefix in ["xoxb", "xoxa", "xoxp", "xoxr", "xoxs"] {
            let token = format!("{prefix}-2222222222-3333333333-abcdefghijkl");
            assert_eq!(find_secret(&token), Some("a Slack token"), "{token}");
        }
        for prefix in ["ghp", "gho", "ghu", "ghs", "ghr"] {
            let token = format!("{prefix}_abcdefghijklmnopqrstuvwxyz0123456789");
            assert_eq!(find_secret(&token), Some("a GitHub token"), "{token}");
        }
        for kind in ["", "RSA ", "EC ", "DSA ", "OPENSSH ", "ENCRYPTED ", "SSH2 ENCRYPTED "] {
            let block = format!("-----BEGIN {kind}PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n");
            assert_eq!(find_secret(&block), Some("a private key block"), "{block}");
        }
        let jwt = "Cookie: session=eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJib2IifQ.c2lnbmF0dXJlLXZhbHVl";
        assert_eq!(find_secret(jwt), Some("a JSON web token"));
        // Ordinary incident text that merely talks about these things passes.
        for text in [
            "Rotated the storage AccountKey for acme after the audit",
            "AccountKey=<redacted>; the connection string is in the vault",
            "SharedAccessSignature expired at 10:00, clients got 403",
            "the signature check (sig=bad) failed for 3 requests",
            "https://example.com/search?q=sv&sig=1",
            "xoxo from the team, and the xoxe- prefix is for refresh tokens",
            "GitHub rejected the ghp_ token format change",
            "AIza keys must be restricted by referrer",
            "-----BEGIN CERTIFICATE----- expired on the load balancer",
            "---- BEGIN SSH2 PUBLIC KEY ---- was pasted into authorized_keys",
            "eyJ alone is just base64 of {\"",
            "age-secret-key rotation is due",
            "The storage account key was rotated; SAS tokens re-issued",
        ] {
            assert_eq!(find_secret(text), None, "{text}");
        }
        // New forms are screening rules: a recorded history holding one still replays.
        let recorded = format!("AccountKey={key88}");
        assert!(text(Rules::Recorded, "notes", &recorded, Shape::Text).is_ok());
        assert!(text(Rules::Screening, "notes", &recorded, Shape::Text)
            .unwrap_err()
            .message
            .contains("an Azure account key"));
    }

    #[test]
    fn one_line_fields_refuse_bidi_and_invisible_characters_but_keep_zwj() {
        for c in ['\u{202A}', '\u{202E}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{2060}'] {
            let err = text(Rules::Screening, "title", &format!("db{c}down"), Shape::Line).unwrap_err();
            assert!(err.message.contains(&format!("U+{:04X}", c as u32)), "{}", err.message);
            assert!(err.message.starts_with("title:"), "{}", err.message);
        }
        // ZWNJ in Persian, ZWJ in an emoji sequence: kept.
        assert_eq!(text(Rules::Screening, "title", "می\u{200C}خواهم", Shape::Line).unwrap(), "می\u{200C}خواهم");
        assert_eq!(text(Rules::Screening, "title", "👩\u{200D}💻 down", Shape::Line).unwrap(), "👩\u{200D}💻 down");
        // Multi-line text keeps bidi controls (a quoted right-to-left log line may hold them).
        assert!(text(Rules::Screening, "notes", "a\u{202E}b", Shape::Text).is_ok());
        // Replay judges a recorded input by the rules it was recorded under.
        assert!(text(Rules::Recorded, "title", "a\u{202E}b", Shape::Line).is_ok());
        assert!(text(Rules::Recorded, "notes", "Authorization: Bearer abcdefgh12345", Shape::Text).is_ok());
        assert!(text(Rules::Screening, "title", "a\u{202E}b", Shape::Line).is_err());
    }
}
