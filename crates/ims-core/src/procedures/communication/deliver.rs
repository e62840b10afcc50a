//! `communication.deliver/1` — records what one run of `ims deliver` sent.
//!
//! The shell sends (SMTP, chat webhooks) and then commits every outcome of the run in
//! this one procedure; replay re-derives everything but the servers' answers from the
//! settings and the records, so a fabricated recipient, `Message-ID` or a message
//! outside the settings cannot be recorded.
//!
//! Policy steps:
//! 1. Validate the actor: the automation identity (or an incident manager).
//! 2. Validate the settings: notifications are configured with a start time; at least
//!    one outcome, each at most at the procedure's time and not before the start.
//! 3. Validate each message against the records: the incident exists; a communication
//!    of it made since the start, whose channel and recipient group name this recipient
//!    (`email` by SMTP, `ims` to chat targets, else addresses); or an update-cadence
//!    reminder to the assignee while the update clock is breached since that point.
//! 4. Validate each message's standing: not delivered or failed already, and due (a
//!    retried one only once its backoff has passed); one outcome per message per run.
//! 5. Record each attempt (transport, `Message-ID`, time, code, answer) and the
//!    message's state: `delivered`, `retrying` (with when it is due), or `failed` (a
//!    permanent refusal, or the configured attempts used up). Audit: `notify`.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::model::delivery::{self, Attempt, AttemptResult, DeliveryRecord, Kind, Message, State, Transport};
use crate::model::enums::{AuditAction, Role};
use crate::model::notifications::{reminder_key, ChatKind, Notifications, Recipient};
use crate::model::Incident;

pub struct Deliver;

/// The most messages one run records.
pub const MAX_OUTCOMES: usize = 1000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub outcomes: Vec<Outcome>,
}

/// One attempt to send one message to one recipient.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outcome {
    pub incident_id: String,
    /// The communication id, or the reminder key ([`reminder_key`]).
    pub about: String,
    /// `email:ADDRESS` or `chat:NAME`.
    pub recipient: String,
    pub at: DateTime<Utc>,
    pub result: AttemptResult,
    pub code: Option<u16>,
    pub answer: String,
}

/// A message the settings and records say is owed: what `ims deliver` sends and this
/// procedure accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub about: String,
    pub kind: Kind,
    pub recipient: Recipient,
    pub transport: Transport,
    pub message_id: String,
    /// Attempts made before.
    pub attempts: u32,
}

/// The transport that reaches `recipient`.
pub fn transport(n: &Notifications, recipient: &Recipient) -> Result<Transport> {
    match recipient {
        Recipient::Email(_) if n.smtp.is_some() => Ok(Transport::Smtp),
        Recipient::Chat(name) => match n.chat.get(name).map(|t| t.kind) {
            Some(ChatKind::Slack) => Ok(Transport::Slack),
            Some(ChatKind::Webhook) => Ok(Transport::Webhook),
            None => Err(Error::invalid(format!("recipient chat:{name}: no such target in notifications.chat"))),
        },
        Recipient::Email(a) => Err(Error::invalid(format!("recipient email:{a}: notifications.smtp is not set"))),
    }
}

/// Every message owed for `incident` at `now`, with the attempts made so far: the
/// communications since the start not yet delivered or failed on their channel, and the
/// update-cadence reminder when the clock is breached. Messages in `retrying` are owed
/// only once due.
pub fn due(
    n: &Notifications,
    incident: &Incident,
    record: Option<&DeliveryRecord>,
    now: DateTime<Utc>,
    warning: f64,
) -> Result<Vec<Due>> {
    let mut wanted: Vec<(String, Kind, Recipient)> = Vec::new();
    for c in incident.communications.iter().filter(|c| n.covers(c.at) && c.at <= now) {
        for r in n.recipients(incident, c) {
            wanted.push((c.communication_id.clone(), Kind::Communication, r));
        }
    }
    if let Some((key, to)) = reminder(n, incident, now, warning)? {
        wanted.push((key, Kind::Reminder, to));
    }
    let mut out = Vec::new();
    for (about, kind, recipient) in wanted {
        let before = record.and_then(|r| r.find(&about, &recipient.key()));
        let attempts = match before {
            None => 0,
            Some(m) if m.state == State::Retrying && m.next_attempt_at.is_none_or(|t| t <= now) => {
                m.attempts.len() as u32
            }
            Some(_) => continue,
        };
        out.push(Due {
            transport: transport(n, &recipient)?,
            message_id: n.message_id(&about, &recipient),
            about,
            kind,
            recipient,
            attempts,
        });
    }
    Ok(out)
}

/// The update-cadence reminder owed at `now`: when the incident's update clock is
/// breached and it has an assignee with an address and SMTP is set, its key and addressee.
pub fn reminder(
    n: &Notifications,
    incident: &Incident,
    now: DateTime<Utc>,
    warning: f64,
) -> Result<Option<(String, Recipient)>> {
    let Some(assignee) = incident.assignee.as_deref().filter(|a| crate::model::valid_email(a)) else {
        return Ok(None);
    };
    if n.smtp.is_none() {
        return Ok(None);
    }
    let clocks = crate::sla::clocks(incident, now, warning)?;
    let Some(update) = clocks.iter().find(|c| c.clock == "update" && c.state == crate::sla::ClockState::Breached)
    else {
        return Ok(None);
    };
    let since = update.since.as_deref().unwrap_or("acknowledgement");
    // The cadence counts from a moment after the start: an older lapse is not reminded.
    let from = incident.communications.iter().find(|c| c.communication_id == since).map(|c| c.at);
    if !n.covers(from.or(incident.acknowledged_at).unwrap_or(incident.created_at)) {
        return Ok(None);
    }
    Ok(Some((reminder_key(&incident.incident_id, since), Recipient::Email(assignee.to_string()))))
}

impl Procedure for Deliver {
    const ID: &'static str = "communication.deliver/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        // 1. The actor.
        ctx.require(&[Role::Automation, Role::IncidentManager], "deliver").at(Self::step(1))?;
        // 2. The settings and the outcomes' times.
        let config = crate::model::config(ctx.snap)?;
        let n = config.notifications.clone().unwrap_or_default();
        let Some(since) = n.since.filter(|_| n.has_transport()) else {
            return Err(Error::precondition(
                "notifications are not configured (ims.yaml has no notifications transport and start time)",
            )
            .at(Self::step(2))
            .field("notifications"));
        };
        if input.outcomes.is_empty() {
            return Err(Error::invalid("outcomes: nothing was sent; there is nothing to record")
                .at(Self::step(2))
                .field("outcomes"));
        }
        if input.outcomes.len() > MAX_OUTCOMES {
            return Err(Error::invalid(format!("outcomes: at most {MAX_OUTCOMES} messages per run"))
                .at(Self::step(2))
                .field("outcomes"));
        }
        let mut by_incident: BTreeMap<&str, Vec<&Outcome>> = BTreeMap::new();
        let mut seen = BTreeSet::new();
        for o in &input.outcomes {
            if o.at > ctx.now || o.at < since {
                return Err(Error::invalid(format!(
                    "outcomes: {} to {} at {} is not between the start of notifications ({since}) and now",
                    o.about, o.recipient, o.at
                ))
                .at(Self::step(2))
                .field("outcomes"));
            }
            if !seen.insert((o.about.as_str(), o.recipient.as_str())) {
                return Err(Error::invalid(format!("outcomes: {} to {} is given twice", o.about, o.recipient))
                    .at(Self::step(2))
                    .field("outcomes"));
            }
            by_incident.entry(o.incident_id.as_str()).or_default().push(o);
        }
        let mut counts = [0usize; 3];
        let mut effect_writes = Vec::new();
        for (incident_id, outcomes) in by_incident {
            // 3. Each message against the records, at the moment it was sent.
            let (rid, inc) =
                crate::procedures::incident::load(ctx, incident_id).at(Self::step(3)).field("incident_id")?;
            let mut record = delivery::load(ctx.snap, &rid.id)?.unwrap_or_else(|| DeliveryRecord {
                schema: delivery::SCHEMA.into(),
                incident_id: rid.id.clone(),
                messages: vec![],
            });
            for o in outcomes {
                let recipient = Recipient::parse(&o.recipient).at(Self::step(3)).field("recipient")?;
                let owed = due(&n, &inc, Some(&record), o.at, config.sla.warning_threshold)
                    .at(Self::step(3))
                    .field("recipient")?;
                let Some(d) = owed.into_iter().find(|d| d.about == o.about && d.recipient == recipient) else {
                    // 4. Its standing: say why it is not owed.
                    return Err(match record.find(&o.about, &o.recipient) {
                        Some(m) if m.state != State::Retrying => Error::conflict(format!(
                            "{}: {} to {} is {} already",
                            rid.id, o.about, o.recipient, m.state
                        ))
                        .at(Self::step(4)),
                        Some(m) => Error::precondition(format!(
                            "{}: {} to {} is not due again before {}",
                            rid.id,
                            o.about,
                            o.recipient,
                            m.next_attempt_at.map(|t| t.to_rfc3339()).unwrap_or_default()
                        ))
                        .at(Self::step(4)),
                        None => Error::invalid(format!(
                            "{}: {} is not a message owed to {} (by its channel, recipients and the \
                             notifications settings, since {since})",
                            rid.id, o.about, o.recipient
                        ))
                        .at(Self::step(3)),
                    }
                    .field("about"));
                };
                let answer = hygiene::text(ctx.rules, "answer", &o.answer, Shape::Line).at(Self::step(5))?;
                if o.code.is_some_and(|c| !(100..=999).contains(&c)) {
                    return Err(Error::invalid(format!(
                        "code: {} is not a reply code or HTTP status",
                        o.code.unwrap_or(0)
                    ))
                    .at(Self::step(5))
                    .field("code"));
                }
                // 5. The attempt and the state.
                let attempt = Attempt { at: o.at, result: o.result, code: o.code, answer };
                let attempts = d.attempts + 1;
                let (state, next) = match o.result {
                    AttemptResult::Sent => (State::Delivered, None),
                    AttemptResult::Permanent => (State::Failed, None),
                    AttemptResult::Temporary if attempts >= n.max_attempts() => (State::Failed, None),
                    AttemptResult::Temporary => {
                        (State::Retrying, Some(o.at + chrono::Duration::seconds(n.backoff_seconds(attempts)?)))
                    }
                };
                counts[match state {
                    State::Delivered => 0,
                    State::Retrying => 1,
                    State::Failed => 2,
                }] += 1;
                match record.messages.iter_mut().find(|m| m.about == d.about && m.recipient == o.recipient) {
                    Some(m) => {
                        m.attempts.push(attempt);
                        m.state = state;
                        m.next_attempt_at = next;
                    }
                    None => record.messages.push(Message {
                        about: d.about.clone(),
                        kind: d.kind,
                        recipient: o.recipient.clone(),
                        transport: d.transport,
                        message_id: d.message_id.clone(),
                        state,
                        next_attempt_at: next,
                        attempts: vec![attempt],
                    }),
                }
            }
            effect_writes.push((rid.id.clone(), record));
        }
        let [delivered, retrying, failed] = counts;
        let mut effect = Effect::new(format!(
            "communication: deliver {} message(s): {delivered} delivered, {retrying} retrying, {failed} failed",
            input.outcomes.len()
        ));
        for (id, record) in &effect_writes {
            effect = effect.action(AuditAction::Notify, "incident", id);
            for m in &record.messages {
                if input
                    .outcomes
                    .iter()
                    .any(|o| o.incident_id == *id && o.about == m.about && o.recipient == m.recipient)
                {
                    effect =
                        effect.line(format!("{} {} -> {}: {} <{}>", id, m.about, m.recipient, m.state, m.message_id));
                }
            }
        }
        effect = effect.fields(&["deliveries"]);
        for (id, record) in &effect_writes {
            effect.write(&delivery::path(id), record)?;
        }
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind as ErrKind;
    use crate::model::enums::{Channel, Recipients, Status};
    use crate::procedures::config::set::{ConfigSet, ConfigSetInput};
    use crate::procedures::incident::notify::{self, Notify};
    use crate::procedures::testing::*;

    const COM: &str = "COM-20261126-0000000009";

    /// A repository with notifications set through `config.set` (which stamps the start
    /// at [`now`]) and one communication to IT staff by email.
    fn configured(max_attempts: u32) -> MemSnapshot {
        let mut inc = incident(Status::InProgress);
        inc.assignee = Some("l1@x.test".into());
        let mut snap = snapshot(Some(&inc));
        let value = serde_json::json!({
            "from": "ims@x.test",
            "smtp": {"host": "localhost", "port": 2525, "security": "none"},
            "chat": {"ops": {"kind": "slack", "url_env": "IMS_OPS"}},
            "recipients": {"IT_staff": {"email": ["it@x.test", "oncall@x.test"], "chat": ["ops"]}},
            "retry": {"max_attempts": max_attempts, "backoff": "1m"}
        });
        let set = ConfigSetInput { key: "notifications".into(), value, proposal_id: "PRP-20261126-0000000001".into() };
        step::<ConfigSet>(&mut snap, &as_role(Role::IncidentManager), &set);
        let note = notify::Input {
            id: ID.into(),
            to: Recipients::ItStaff,
            message: "DB failover in progress".into(),
            channel: Channel::Email,
            communication_id: COM.into(),
        };
        step::<Notify>(&mut snap, &as_role(Role::L1), &note);
        snap
    }

    fn outcome(recipient: &str, result: AttemptResult, at: DateTime<Utc>) -> Outcome {
        Outcome {
            incident_id: ID.into(),
            about: COM.into(),
            recipient: recipient.into(),
            at,
            result,
            code: Some(if result == AttemptResult::Sent { 250 } else { 451 }),
            answer: "250 OK queued".into(),
        }
    }

    fn record(e: &Effect) -> DeliveryRecord {
        let bytes = e.writes[&delivery::path(ID)].clone().unwrap();
        crate::yaml::from_str(std::str::from_utf8(&bytes).unwrap(), "delivery").unwrap()
    }

    #[test]
    fn config_set_stamps_the_start() {
        let snap = configured(3);
        let n = crate::model::config(&snap).unwrap().notifications.unwrap();
        assert_eq!(n.since, Some(now()));
    }

    #[test]
    fn records_each_message_with_its_message_id_and_state() {
        let snap = configured(3);
        let input = Input {
            outcomes: vec![
                outcome("email:it@x.test", AttemptResult::Sent, now()),
                outcome("email:oncall@x.test", AttemptResult::Temporary, now()),
            ],
        };
        let e = try_apply::<Deliver>(&snap, &as_role(Role::Automation), &input).unwrap();
        let r = record(&e);
        assert_eq!(r.messages.len(), 2);
        assert_eq!(r.messages[0].state, State::Delivered);
        assert_eq!(r.messages[0].transport, Transport::Smtp);
        assert!(r.messages[0].message_id.starts_with(&format!("{COM}.")), "{}", r.messages[0].message_id);
        assert_eq!(r.messages[1].state, State::Retrying);
        assert_eq!(r.messages[1].next_attempt_at, Some(now() + chrono::Duration::minutes(1)));
        assert!(e.subject.contains("1 delivered, 1 retrying, 0 failed"), "{}", e.subject);
    }

    #[test]
    fn step1_only_automation_or_the_incident_manager() {
        let snap = configured(3);
        let input = Input { outcomes: vec![outcome("email:it@x.test", AttemptResult::Sent, now())] };
        halts_at(
            try_apply::<Deliver>(&snap, &as_role(Role::L1), &input),
            ErrKind::Forbidden,
            "deliver",
            Deliver::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step2_notifications_configured_and_times_in_range() {
        let snap = snapshot(Some(&incident(Status::InProgress)));
        let input = Input { outcomes: vec![outcome("email:it@x.test", AttemptResult::Sent, now())] };
        halts_at(
            try_apply::<Deliver>(&snap, &as_role(Role::Automation), &input),
            ErrKind::Precondition,
            "not configured",
            Deliver::step(2),
            Some("notifications"),
        );
        let snap = configured(3);
        halts_at(
            try_apply::<Deliver>(&snap, &as_role(Role::Automation), &Input { outcomes: vec![] }),
            ErrKind::Invalid,
            "nothing",
            Deliver::step(2),
            Some("outcomes"),
        );
        let late = Input {
            outcomes: vec![outcome("email:it@x.test", AttemptResult::Sent, now() + chrono::Duration::hours(1))],
        };
        halts_at(
            try_apply::<Deliver>(&snap, &as_role(Role::Automation), &late),
            ErrKind::Invalid,
            "not between",
            Deliver::step(2),
            Some("outcomes"),
        );
    }

    #[test]
    fn step3_only_recipients_the_settings_name() {
        let snap = configured(3);
        let input = Input { outcomes: vec![outcome("email:mallory@x.test", AttemptResult::Sent, now())] };
        halts_at(
            try_apply::<Deliver>(&snap, &as_role(Role::Automation), &input),
            ErrKind::Invalid,
            "not a message owed",
            Deliver::step(3),
            Some("about"),
        );
        // An email communication does not go to the chat target.
        let input = Input { outcomes: vec![outcome("chat:ops", AttemptResult::Sent, now())] };
        halts(try_apply::<Deliver>(&snap, &as_role(Role::Automation), &input), ErrKind::Invalid, "not a message owed");
    }

    #[test]
    fn step4_once_delivered_never_again_and_retries_wait() {
        let mut snap = configured(3);
        let first = Input {
            outcomes: vec![
                outcome("email:it@x.test", AttemptResult::Sent, now()),
                outcome("email:oncall@x.test", AttemptResult::Temporary, now()),
            ],
        };
        step::<Deliver>(&mut snap, &as_role(Role::Automation), &first);
        let again = Input { outcomes: vec![outcome("email:it@x.test", AttemptResult::Sent, now())] };
        halts_at(
            try_apply::<Deliver>(&snap, &as_role(Role::Automation), &again),
            ErrKind::Conflict,
            "delivered already",
            Deliver::step(4),
            Some("about"),
        );
        let early = Input { outcomes: vec![outcome("email:oncall@x.test", AttemptResult::Sent, now())] };
        halts_at(
            try_apply::<Deliver>(&snap, &as_role(Role::Automation), &early),
            ErrKind::Precondition,
            "not due again",
            Deliver::step(4),
            Some("about"),
        );
        let twice = Input {
            outcomes: vec![
                outcome("email:oncall@x.test", AttemptResult::Sent, now()),
                outcome("email:oncall@x.test", AttemptResult::Sent, now()),
            ],
        };
        halts(try_apply::<Deliver>(&snap, &as_role(Role::Automation), &twice), ErrKind::Invalid, "given twice");
    }

    #[test]
    fn step5_temporary_failures_end_failed_after_the_attempts() {
        let mut snap = configured(2);
        let at1 = now();
        let mut input = Input { outcomes: vec![outcome("email:oncall@x.test", AttemptResult::Temporary, at1)] };
        step_at::<Deliver>(&mut snap, &as_role(Role::Automation), at1, &input);
        let at2 = now() + chrono::Duration::minutes(2);
        input.outcomes[0].at = at2;
        let e = step_at::<Deliver>(&mut snap, &as_role(Role::Automation), at2, &input);
        let m = record(&e).messages.into_iter().find(|m| m.recipient == "email:oncall@x.test").unwrap();
        assert_eq!((m.state, m.attempts.len(), m.next_attempt_at), (State::Failed, 2, None));
        // A permanent refusal fails at once.
        let perm = Input { outcomes: vec![outcome("email:it@x.test", AttemptResult::Permanent, at2)] };
        let e = try_apply_at::<Deliver>(&snap, &as_role(Role::Automation), at2, &perm).unwrap();
        assert_eq!(record(&e).messages.iter().find(|m| m.recipient == "email:it@x.test").unwrap().state, State::Failed);
    }

    #[test]
    fn reminds_the_assignee_once_the_update_cadence_passed() {
        let snap = configured(3);
        let inc: Incident = stored(&snap, crate::ids::RecordKind::Incident, ID);
        let n = crate::model::config(&snap).unwrap().notifications.unwrap();
        // No SLA targets on this incident: no update clock, no reminder.
        assert_eq!(reminder(&n, &inc, now() + chrono::Duration::days(2), 0.75).unwrap(), None);
        let mut with_sla = inc.clone();
        with_sla.timeline.push(crate::model::incident::TimelineEntry {
            at: now(),
            by: "x".into(),
            field: "sla".into(),
            from: None,
            to: Some(crate::sla::Targets::spec("15m", "4h", "1h", &[], "24x7")),
        });
        let later = now() + chrono::Duration::hours(2);
        let (key, to) = reminder(&n, &with_sla, later, 0.75).unwrap().unwrap();
        assert_eq!(key, reminder_key(ID, COM));
        assert_eq!(to, Recipient::Email("l1@x.test".into()));
        assert_eq!(reminder(&n, &with_sla, now() + chrono::Duration::minutes(30), 0.75).unwrap(), None);
    }
}
