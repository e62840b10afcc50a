//! `ims deliver`: sends the communications the records owe by email ([`smtp`]) and chat
//! ([`webhook`]), then records every outcome of the run in one signed
//! `communication.deliver/1` commit.
//!
//! What is owed, to whom and under which `Message-ID` is decided by the pure layer
//! (`procedures::communication::deliver::due`), the same function the procedure checks
//! the outcomes with. A message's `Message-ID` (and a webhook's idempotency key) is
//! derived from its communication and recipient, so a run killed between sending and
//! committing (kill point `deliver-sent`) sends the same messages again, under the same
//! ids, on the next run, and nothing else.

pub mod smtp;
pub mod webhook;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;

use crate::error::{Error, Result};
use crate::model::delivery::{self, AttemptResult, Kind, Transport};
use crate::model::notifications::{Notifications, Recipient};
use crate::model::{Config, Incident};
use crate::procedures::communication::deliver::{self as proc, Deliver, Due, Outcome};
use crate::repo::Repo;
use crate::run::Identity;

/// What one run did.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// False when `ims.yaml` configures no transport (nothing is ever sent).
    pub configured: bool,
    pub sent: Vec<Sent>,
    pub commit: Option<String>,
}

/// One message of a run.
#[derive(Debug, Serialize)]
pub struct Sent {
    pub incident_id: String,
    pub about: String,
    pub recipient: String,
    pub transport: Transport,
    pub message_id: String,
    pub result: AttemptResult,
    pub code: Option<u16>,
    pub answer: String,
}

/// A message ready for a transport.
pub struct Letter<'a> {
    pub incident: &'a Incident,
    pub due: &'a Due,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// The JSON a chat target receives (webhooks sign exactly these bytes).
    pub json: serde_json::Value,
}

/// A transport's answer to one message.
pub struct Answer {
    pub result: AttemptResult,
    pub code: Option<u16>,
    pub answer: String,
}

/// Reads a secret the settings name: the environment variable, or the first line of the file.
pub fn secret(what: &str, env: &Option<String>, file: &Option<String>) -> Result<String> {
    let value = match (env, file) {
        (Some(var), _) => std::env::var(var).map_err(|_| {
            Error::precondition(format!("{what}: the environment variable {var} named in ims.yaml is not set"))
        })?,
        (None, Some(path)) if !path.starts_with('/') => {
            return Err(Error::invalid(format!("{what}: the file {path} named in ims.yaml is not an absolute path")))
        }
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| Error::precondition(format!("{what}: cannot read the file {path} named in ims.yaml: {e}")))?
            .lines()
            .next()
            .unwrap_or("")
            .to_string(),
        (None, None) => return Err(Error::precondition(format!("{what}: ims.yaml names no variable or file"))),
    };
    let value = value.trim().to_string();
    if value.is_empty() {
        return Err(Error::precondition(format!("{what}: the secret named in ims.yaml is empty")));
    }
    Ok(value)
}

/// A server's answer made fit for the record: one line, no control characters, at most
/// 300 characters, and withheld if it looks like it holds a secret.
pub fn clean_answer(text: &str) -> String {
    let mut one: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    one = one.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 300 {
        one = one.chars().take(300).collect::<String>() + "…";
    }
    if one.is_empty() {
        return "(no answer text)".into();
    }
    match crate::hygiene::text(Default::default(), "answer", &one, crate::hygiene::Shape::Line) {
        Ok(t) => t,
        Err(e) => format!("(answer withheld: {})", e.message.split(": ").last().unwrap_or("refused")),
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Renders the subject, both email parts and the chat JSON of one message.
fn letter<'a>(
    tera: &tera::Tera,
    config: &Config,
    n: &Notifications,
    incident: &'a Incident,
    due: &'a Due,
) -> Result<Letter<'a>> {
    let com = incident.communications.iter().find(|c| c.communication_id == due.about);
    let priority = incident.priority.map(|p| p.to_string()).unwrap_or_else(|| "-".into());
    let (subject, message) = match (due.kind, com) {
        (Kind::Communication, Some(c)) => (format!("[{}] {}", incident.incident_id, incident.title), c.message.clone()),
        (Kind::Reminder, _) => (
            format!("[{}] {}: an update is due", incident.incident_id, incident.title),
            format!("No communication on {} within its update cadence: an update is due.", incident.incident_id),
        ),
        (Kind::Communication, None) => {
            return Err(Error::internal(format!("{}: no communication {}", incident.incident_id, due.about)))
        }
    };
    let since = due.about.rsplit(".update.").next().unwrap_or("").to_string();
    let mut ctx = tera::Context::new();
    ctx.insert("kind", if due.kind == Kind::Reminder { "reminder" } else { "communication" });
    ctx.insert("subject", &subject);
    ctx.insert("organization", &config.organization);
    ctx.insert(
        "incident",
        &json!({
            "id": incident.incident_id, "title": incident.title, "service": incident.service,
            "status": incident.status.to_string(), "priority": priority,
        }),
    );
    ctx.insert("message", &message);
    ctx.insert("paragraphs", &message.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>());
    ctx.insert("about", &due.about);
    ctx.insert("since", &since);
    ctx.insert("sender", &com.map(|c| c.sender.clone()).unwrap_or_default());
    ctx.insert("recipients", &com.map(|c| c.recipients.to_string()).unwrap_or_else(|| "the assignee".into()));
    ctx.insert("at", &com.map(|c| rfc3339(c.at)).unwrap_or_default());
    let render = |name: &str| {
        tera.render(name, &ctx).map_err(|e| {
            let cause = std::error::Error::source(&e).map(|s| format!(": {s}")).unwrap_or_default();
            Error::invalid(format!("template {name}: {e}{cause}"))
        })
    };
    let text = render("email.txt")?;
    let html = render("email.html")?;
    let json = json!({
        "type": if due.kind == Kind::Reminder { "ims.reminder" } else { "ims.communication" },
        "incident_id": incident.incident_id,
        "title": incident.title,
        "service": incident.service,
        "status": incident.status.to_string(),
        "priority": incident.priority.map(|p| p.to_string()),
        "about": due.about,
        "recipients": com.map(|c| c.recipients.to_string()),
        "channel": com.map(|c| c.channel.to_string()),
        "sender": com.map(|c| c.sender.clone()),
        "at": com.map(|c| rfc3339(c.at)),
        "message": message,
        "message_id": due.message_id,
        "thread_id": n.thread_id(&incident.incident_id),
    });
    Ok(Letter { incident, due, subject, text, html, json })
}

/// The transports of one run, made once (secrets read before anything is sent).
struct Transports {
    smtp: Option<smtp::Smtp>,
    chat: BTreeMap<String, webhook::Target>,
}

impl Transports {
    fn new(n: &Notifications, owed: &[(Incident, Vec<Due>)]) -> Result<Transports> {
        let needs = |t: Transport| owed.iter().any(|(_, d)| d.iter().any(|d| d.transport == t));
        let smtp = match (&n.smtp, needs(Transport::Smtp)) {
            (Some(s), true) => Some(smtp::Smtp::new(n, s)?),
            _ => None,
        };
        let mut chat = BTreeMap::new();
        for (_, list) in owed {
            for d in list {
                if let Recipient::Chat(name) = &d.recipient {
                    if !chat.contains_key(name) {
                        let t = n.chat.get(name).ok_or_else(|| Error::internal(format!("chat target {name}")))?;
                        chat.insert(name.clone(), webhook::Target::new(name, t)?);
                    }
                }
            }
        }
        Ok(Transports { smtp, chat })
    }

    fn send(&self, n: &Notifications, l: &Letter) -> Answer {
        match &l.due.recipient {
            Recipient::Email(to) => match &self.smtp {
                Some(s) => s.send(n, l, to),
                None => Answer { result: AttemptResult::Temporary, code: None, answer: "no SMTP transport".into() },
            },
            Recipient::Chat(name) => match self.chat.get(name) {
                Some(t) => t.send(l),
                None => Answer { result: AttemptResult::Temporary, code: None, answer: "no chat transport".into() },
            },
        }
    }
}

/// Whether `ims.yaml` at the tip configures delivery (a transport and a start time).
pub fn configured(repo: &Repo) -> Result<bool> {
    let config = crate::model::config(&repo.snapshot(repo.tip()?)?)?;
    Ok(config.notifications.is_some_and(|n| n.enabled()))
}

/// One run: sends what is owed at `now` and commits the outcomes (nothing when nothing
/// is owed).
pub fn run_once(repo: &Repo, identity: &Identity, now: DateTime<Utc>) -> Result<Report> {
    let tip = repo.tip()?;
    let snap = repo.snapshot(tip)?;
    let config = crate::model::config(&snap)?;
    let n = config.notifications.clone().unwrap_or_default();
    let mut report = Report { configured: n.enabled(), ..Default::default() };
    if !n.enabled() {
        return Ok(report);
    }
    // The procedure checks the actor too, but only after sending: check first.
    let allowed = crate::model::person(&snap, &identity.actor)?.is_some_and(|p| {
        !p.revoked
            && p.has_any_role(&[crate::model::enums::Role::Automation, crate::model::enums::Role::IncidentManager])
    });
    if !allowed {
        return Err(Error::forbidden(format!(
            "deliver: {} is not an active automation identity or incident manager; nothing was sent",
            identity.actor
        )));
    }
    let mut owed: Vec<(Incident, Vec<Due>)> = Vec::new();
    let mut total = 0;
    for (path, bytes) in crate::model::all_records(&snap, crate::ids::RecordKind::Incident)? {
        let text = std::str::from_utf8(&bytes).map_err(|_| Error::invalid(format!("{path}: not UTF-8")))?;
        let inc: Incident = crate::yaml::from_str(text, &path)?;
        let record = delivery::load(&snap, &inc.incident_id)?;
        let mut list = proc::due(&n, &inc, record.as_ref(), now, config.sla.warning_threshold)?;
        list.truncate(proc::MAX_OUTCOMES - total);
        total += list.len();
        if !list.is_empty() {
            owed.push((inc, list));
        }
        if total >= proc::MAX_OUTCOMES {
            break;
        }
    }
    if owed.is_empty() {
        return Ok(report);
    }
    let transports = Transports::new(&n, &owed)?;
    let (tera, _) = crate::site::tera(repo, tip.ok_or_else(|| Error::internal("an empty repository"))?)?;
    // Every message is rendered before the first is sent: a template that fails stops
    // the run with nothing sent.
    let mut letters = Vec::new();
    for (inc, list) in &owed {
        for d in list {
            letters.push(letter(&tera, &config, &n, inc, d)?);
        }
    }
    let mut outcomes = Vec::new();
    for l in &letters {
        let (inc, d) = (l.incident, l.due);
        {
            let a = transports.send(&n, l);
            let answer = clean_answer(&a.answer);
            outcomes.push(Outcome {
                incident_id: inc.incident_id.clone(),
                about: d.about.clone(),
                recipient: d.recipient.key(),
                at: now,
                result: a.result,
                code: a.code,
                answer: answer.clone(),
            });
            report.sent.push(Sent {
                incident_id: inc.incident_id.clone(),
                about: d.about.clone(),
                recipient: d.recipient.key(),
                transport: d.transport,
                message_id: d.message_id.clone(),
                result: a.result,
                code: a.code,
                answer,
            });
        }
    }
    // Kill point: everything of this run is sent, nothing is recorded yet.
    crate::run::pause_point("deliver-sent");
    let outcome = crate::run::run_at::<Deliver>(repo, identity, &proc::Input { outcomes }, now)?;
    report.commit = Some(outcome.commit.to_string());
    Ok(report)
}

/// Messages that ended failed, at `tip`, per incident (for `ims sla check` and the site).
pub fn failed(snap: &dyn crate::model::Snapshot) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for name in snap.list("records/deliveries")? {
        let Some(id) = name.strip_suffix(".yaml") else { continue };
        let Some(record) = delivery::load(snap, id)? else { continue };
        for m in record.messages.iter().filter(|m| m.state == delivery::State::Failed) {
            let last = m.attempts.last();
            out.push(json!({
                "incident_id": record.incident_id,
                "about": m.about,
                "recipient": m.recipient,
                "message_id": m.message_id,
                "attempts": m.attempts.len(),
                "last_at": last.map(|a| rfc3339(a.at)),
                "answer": last.map(|a| a.answer.clone()),
            }));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers_are_one_clean_line_and_never_a_secret() {
        assert_eq!(super::clean_answer("250 2.0.0\r\nOK  queued"), "250 2.0.0 OK queued");
        assert_eq!(super::clean_answer(""), "(no answer text)");
        assert!(super::clean_answer(&"x".repeat(400)).chars().count() <= 301);
        let leaked = super::clean_answer("HTTP 500 password=hunter2hunter2");
        assert!(leaked.starts_with("(answer withheld") && !leaked.contains("hunter2"), "{leaked}");
    }
}
