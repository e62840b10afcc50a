//! `notifications:` in `ims.yaml`: who receives the incidents' communications and by
//! which transport, for `ims deliver`.
//!
//! Pure: this module says *who* gets a communication and under which `Message-ID`; the
//! shell (`src/deliver/`) sends, and `communication.deliver/1` records what happened.
//! Secrets (the SMTP password, webhook URLs, HMAC keys) are never part of the settings:
//! each is named by an environment variable (`*_env`) or a file (`*_file`) that the
//! machine running `ims deliver` holds.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::enums::{Channel, Recipients};
use super::incident::{Communication, Incident};
use crate::error::{Error, Result};

/// The whole `notifications:` block. Empty (`{}`): nothing is sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Notifications {
    /// Communications recorded before this moment are never sent. Set by the settings
    /// procedure the first time a transport is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// The sender address of every email (its domain names the `Message-ID`s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<Smtp>,
    /// Chat targets by name: Slack-compatible incoming webhooks or signed JSON webhooks.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub chat: BTreeMap<String, ChatTarget>,
    /// Per recipient group: addresses and chat targets. `end_users` is always the
    /// incident's reporter and is not listed here.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub recipients: BTreeMap<Recipients, Group>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    /// `starttls`, `tls` (implicit TLS), or `none` (only to a loopback host).
    pub security: Security,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The file holding the password (its first line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Security {
    Starttls,
    Tls,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatTarget {
    /// `slack` (incoming-webhook format, also Mattermost and Rocket.Chat) or `webhook`
    /// (generic JSON, signed with HMAC-SHA256).
    pub kind: ChatKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// The HMAC key of a `webhook` target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_env: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatKind {
    Slack,
    Webhook,
}

/// Where one recipient group's communications go, with extra targets per service.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chat: Vec<String>,
    /// Service → more addresses and chat targets for that service's incidents.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub services: BTreeMap<String, Targets>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chat: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// Attempts before a message is marked failed (default 5).
    pub max_attempts: u32,
    /// The wait after the first failed attempt, doubled after each further one (default 5m).
    pub backoff: String,
}

pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
pub const DEFAULT_BACKOFF: &str = "5m";

/// One addressee of a message: an email address or a named chat target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Recipient {
    Email(String),
    Chat(String),
}

impl Recipient {
    /// `email:ADDRESS` or `chat:NAME`, as the delivery record names it.
    pub fn key(&self) -> String {
        match self {
            Recipient::Email(a) => format!("email:{a}"),
            Recipient::Chat(n) => format!("chat:{n}"),
        }
    }

    pub fn parse(key: &str) -> Result<Recipient> {
        match key.split_once(':') {
            Some(("email", a)) if super::valid_email(a) => Ok(Recipient::Email(a.to_string())),
            Some(("chat", n)) if !n.is_empty() => Ok(Recipient::Chat(n.to_string())),
            _ => Err(Error::invalid(format!("recipient: `{key}` is not `email:ADDRESS` or `chat:NAME`"))),
        }
    }
}

/// Keys a secret may never be written under; the settings name a variable or file instead.
const INLINE_SECRETS: &[(&str, &str)] = &[
    ("password", "password_env or password_file"),
    ("pass", "password_env or password_file"),
    ("url", "url_env or url_file"),
    ("webhook_url", "url_env or url_file"),
    ("key", "key_env or key_file"),
    ("secret", "key_env or key_file"),
    ("token", "url_env/url_file or key_env/key_file"),
];

/// Refuses a secret written into the `notifications` settings (`value` is the whole of
/// `ims.yaml` as JSON): the repository holds names of variables and files, never secrets.
pub fn refuse_inline_secrets(config: &Value) -> Result<()> {
    fn walk(at: &str, v: &Value) -> Result<()> {
        match v {
            Value::Object(map) => map.iter().try_for_each(|(k, v)| {
                if let Some((_, instead)) = INLINE_SECRETS.iter().find(|(s, _)| s == k) {
                    return Err(Error::invalid(format!(
                        "{at}.{k}: a secret never enters the repository; name the environment variable or \
                         file that holds it instead ({instead})"
                    )));
                }
                walk(&format!("{at}.{k}"), v)
            }),
            Value::Array(items) => items.iter().enumerate().try_for_each(|(i, v)| walk(&format!("{at}[{i}]"), v)),
            _ => Ok(()),
        }
    }
    match config.get("notifications") {
        Some(n) => walk("notifications", n),
        None => Ok(()),
    }
}

/// Records the start time the first time a transport is configured: `config` and its
/// JSON `value` get `notifications.since = now` when they have a transport and no start.
pub fn stamp(config: &mut super::Config, value: &mut Value, now: DateTime<Utc>) {
    let Some(n) = config.notifications.as_mut() else { return };
    if n.since.is_some() || !n.has_transport() {
        return;
    }
    n.since = Some(now);
    if let Some(Value::Object(map)) = value.get_mut("notifications") {
        map.insert("since".into(), Value::String(now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    }
}

fn env_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// An absolute path: a relative one would be read inside the working tree, where anyone
/// who can push could write the "secret" (a webhook URL of their choosing, say).
fn file_name_ok(name: &str) -> bool {
    name.starts_with('/') && name.len() <= 500 && !name.chars().any(char::is_control)
}

/// Exactly one of a variable and a file, each well-formed.
fn secret_source(at: &str, env: &Option<String>, file: &Option<String>, required: bool) -> Result<()> {
    match (env, file) {
        (Some(_), Some(_)) => Err(Error::invalid(format!("{at}: give either the _env or the _file, not both"))),
        (Some(e), None) if !env_name_ok(e) => {
            Err(Error::invalid(format!("{at}_env: `{e}` is not an environment variable name like IMS_SMTP_PASSWORD")))
        }
        (None, Some(f)) if !file_name_ok(f) => {
            Err(Error::invalid(format!("{at}_file: `{f}` is not an absolute file path (like /etc/ims/smtp-password)")))
        }
        (None, None) if required => Err(Error::invalid(format!(
            "{at}: name the environment variable ({at}_env) or file ({at}_file) holding it"
        ))),
        _ => Ok(()),
    }
}

/// A loopback address written as an address (`127.0.0.1`, `::1`) or `localhost`: a name
/// like `127.evil.example` is a DNS name that can point anywhere.
fn is_loopback(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host == "localhost" || bare.parse::<core::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Notifications {
    /// Whether anything can be sent.
    pub fn has_transport(&self) -> bool {
        self.smtp.is_some() || !self.chat.is_empty()
    }

    /// Whether `ims deliver` has work to do: a transport and a start time.
    pub fn enabled(&self) -> bool {
        self.has_transport() && self.since.is_some()
    }

    pub fn max_attempts(&self) -> u32 {
        self.retry.as_ref().map_or(DEFAULT_MAX_ATTEMPTS, |r| r.max_attempts)
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failed ones.
    pub fn backoff_seconds(&self, attempts: u32) -> Result<i64> {
        let base = super::config::parse_duration(self.retry.as_ref().map_or(DEFAULT_BACKOFF, |r| r.backoff.as_str()))?;
        Ok(base.saturating_mul(1i64 << attempts.saturating_sub(1).min(16)))
    }

    /// The domain of the sender address: the right-hand side of every `Message-ID`.
    pub fn domain(&self) -> &str {
        self.from.as_deref().and_then(|f| f.split_once('@')).map_or("ims.invalid", |(_, d)| d)
    }

    /// Checks what the schema cannot: names resolve, addresses and variable names are
    /// well-formed, plain SMTP goes only to this machine.
    pub fn check(&self) -> Result<()> {
        if let Some(from) = &self.from {
            if !super::valid_email(from) {
                return Err(Error::invalid(format!("notifications.from: `{from}` is not an email address")));
            }
        }
        if let Some(s) = &self.smtp {
            if self.from.is_none() {
                return Err(Error::invalid("notifications.from: the sender address is needed to send email"));
            }
            if s.host.is_empty() || s.host.chars().any(|c| c.is_whitespace() || c.is_control() || c == '/') {
                return Err(Error::invalid(format!("notifications.smtp.host: `{}` is not a host name", s.host)));
            }
            if s.security == Security::None && !is_loopback(&s.host) {
                return Err(Error::invalid(format!(
                    "notifications.smtp.security: `none` sends in the clear; allowed only to this machine \
                     (localhost, 127.0.0.1, ::1), not to `{}`; use starttls or tls",
                    s.host
                )));
            }
            secret_source("notifications.smtp.password", &s.password_env, &s.password_file, s.username.is_some())?;
            if s.username.is_none() && (s.password_env.is_some() || s.password_file.is_some()) {
                return Err(Error::invalid("notifications.smtp.username: a password needs a username"));
            }
        }
        for (name, t) in &self.chat {
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(Error::invalid(format!(
                    "notifications.chat: `{name}` is not a target name (letters, digits, - and _)"
                )));
            }
            let at = format!("notifications.chat.{name}");
            secret_source(&format!("{at}.url"), &t.url_env, &t.url_file, true)?;
            match t.kind {
                ChatKind::Webhook => secret_source(&format!("{at}.key"), &t.key_env, &t.key_file, true)?,
                ChatKind::Slack if t.key_env.is_some() || t.key_file.is_some() => {
                    return Err(Error::invalid(format!("{at}: a slack target is not signed; it takes no key")));
                }
                ChatKind::Slack => {}
            }
        }
        for (group, g) in &self.recipients {
            let at = format!("notifications.recipients.{group}");
            if *group == Recipients::EndUsers {
                return Err(Error::invalid(format!(
                    "{at}: end users are each incident's reporter; there is nothing to list"
                )));
            }
            let lists = std::iter::once((at.clone(), &g.email, &g.chat))
                .chain(g.services.iter().map(|(s, t)| (format!("{at}.services.{s}"), &t.email, &t.chat)));
            for (at, email, chat) in lists {
                if let Some(bad) = email.iter().find(|a| !super::valid_email(a)) {
                    return Err(Error::invalid(format!("{at}.email: `{bad}` is not an email address")));
                }
                if let Some(bad) = chat.iter().find(|c| !self.chat.contains_key(*c)) {
                    return Err(Error::invalid(format!("{at}.chat: no target `{bad}` in notifications.chat")));
                }
            }
        }
        if let Some(r) = &self.retry {
            if r.max_attempts == 0 || r.max_attempts > 100 {
                return Err(Error::invalid("notifications.retry.max_attempts: 1 to 100"));
            }
            super::config::parse_duration(&r.backoff).map_err(|e| e.context("notifications.retry.backoff"))?;
        }
        Ok(())
    }

    /// The addressees of a communication of `incident`: by the channel, `email` to the
    /// group's addresses, `ims` to its chat targets where it has any (else its
    /// addresses), `meeting` and `status_page` to nobody (the site publishes the status
    /// page). End users are the reporter. Only transports that are configured count.
    pub fn recipients(&self, incident: &Incident, c: &Communication) -> Vec<Recipient> {
        let (mut email, mut chat): (Vec<String>, Vec<String>) = match c.recipients {
            Recipients::EndUsers => {
                (vec![incident.reporter.clone()].into_iter().filter(|r| super::valid_email(r)).collect(), vec![])
            }
            group => match self.recipients.get(&group) {
                None => (vec![], vec![]),
                Some(g) => {
                    let mut e = g.email.clone();
                    let mut ch = g.chat.clone();
                    if let Some(t) = g.services.get(&incident.service) {
                        e.extend(t.email.iter().cloned());
                        ch.extend(t.chat.iter().cloned());
                    }
                    (e, ch)
                }
            },
        };
        if self.smtp.is_none() {
            email.clear();
        }
        chat.retain(|n| self.chat.contains_key(n));
        let mut out: Vec<Recipient> = match c.channel {
            Channel::Email => email.into_iter().map(Recipient::Email).collect(),
            Channel::Ims if !chat.is_empty() => chat.into_iter().map(Recipient::Chat).collect(),
            Channel::Ims => email.into_iter().map(Recipient::Email).collect(),
            Channel::Meeting | Channel::StatusPage => vec![],
        };
        out.sort();
        out.dedup();
        out
    }

    /// Whether a communication made at `at` is one `ims deliver` sends.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.since.is_some_and(|s| at >= s)
    }

    /// The `Message-ID` (without angle brackets) of message `what` (a communication id,
    /// or a reminder's key) to `recipient`: stable, so a resend after a crash carries the
    /// same one and the receiver can drop it.
    pub fn message_id(&self, what: &str, recipient: &Recipient) -> String {
        let digest = Sha256::digest(recipient.key().as_bytes());
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("{what}.{hex}@{}", self.domain())
    }

    /// The thread every message of one incident refers to (`In-Reply-To`, `References`).
    pub fn thread_id(&self, incident_id: &str) -> String {
        format!("{incident_id}@{}", self.domain())
    }
}

/// The key of the update-cadence reminder counting from `since` (a communication id or
/// `acknowledgement`).
pub fn reminder_key(incident_id: &str, since: &str) -> String {
    format!("{incident_id}.update.{since}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_address_or_localhost_counts_as_loopback() {
        for ok in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            assert!(is_loopback(ok), "{ok}");
        }
        for bad in ["127.evil.example", "localhost.evil.example", "10.0.0.1", "example.com", ""] {
            assert!(!is_loopback(bad), "{bad}");
        }
    }

    fn settings() -> Notifications {
        serde_json::from_value(serde_json::json!({
            "since": "2026-11-26T00:00:00Z",
            "from": "ims@example.com",
            "smtp": {"host": "localhost", "port": 2525, "security": "none"},
            "chat": {"ops": {"kind": "slack", "url_env": "IMS_OPS_HOOK"}},
            "recipients": {"IT_staff": {"email": ["it@example.com"], "chat": ["ops"],
                                        "services": {"shop": {"email": ["shop@example.com"]}}},
                           "stakeholders": {"email": ["s@example.com"]}}
        }))
        .unwrap()
    }

    #[test]
    fn channels_map_to_transports() {
        let n = settings();
        n.check().unwrap();
        let mut inc = Incident::blank();
        inc.reporter = "user@example.com".into();
        inc.service = "shop".into();
        let com = |to, channel| Communication {
            communication_id: "COM-1".into(),
            recipients: to,
            message: "m".into(),
            sender: "s".into(),
            channel,
            at: Utc::now(),
        };
        assert_eq!(
            n.recipients(&inc, &com(Recipients::EndUsers, Channel::Ims)),
            vec![Recipient::Email("user@example.com".into())]
        );
        assert_eq!(n.recipients(&inc, &com(Recipients::ItStaff, Channel::Ims)), vec![Recipient::Chat("ops".into())]);
        assert_eq!(
            n.recipients(&inc, &com(Recipients::ItStaff, Channel::Email)),
            vec![Recipient::Email("it@example.com".into()), Recipient::Email("shop@example.com".into())]
        );
        assert!(n.recipients(&inc, &com(Recipients::ItStaff, Channel::Meeting)).is_empty());
        assert!(n.recipients(&inc, &com(Recipients::Executives, Channel::Email)).is_empty());
    }

    #[test]
    fn message_ids_are_stable_per_recipient() {
        let n = settings();
        let a = Recipient::Email("a@example.com".into());
        let b = Recipient::Email("b@example.com".into());
        assert_eq!(n.message_id("COM-1", &a), n.message_id("COM-1", &a));
        assert_ne!(n.message_id("COM-1", &a), n.message_id("COM-1", &b));
        assert!(n.message_id("COM-1", &a).ends_with("@example.com"));
    }

    #[test]
    fn secrets_are_refused_inline_and_plain_smtp_only_locally() {
        let bad = serde_json::json!({"notifications": {"smtp": {"host": "h", "password": "hunter22"}}});
        let e = refuse_inline_secrets(&bad).unwrap_err();
        assert!(
            e.message.contains("notifications.smtp.password") && e.message.contains("password_env"),
            "{}",
            e.message
        );
        let mut n = settings();
        n.smtp.as_mut().unwrap().host = "mail.example.com".into();
        assert!(n.check().unwrap_err().message.contains("in the clear"));
        let mut n = settings();
        n.chat.get_mut("ops").unwrap().url_env = Some("lower-case".into());
        assert!(n.check().unwrap_err().message.contains("environment variable name"));
    }

    #[test]
    fn backoff_doubles() {
        let n = settings();
        assert_eq!(n.backoff_seconds(1).unwrap(), 300);
        assert_eq!(n.backoff_seconds(3).unwrap(), 1200);
    }
}
