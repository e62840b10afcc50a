//! `event.ingest/1` — policy procedure 16, Monitoring & Alert Intake.
//!
//! Policy steps:
//! 1. Validate the actor (automation or staff) and every event (service, type,
//!    severity, summary checked like all text, time, labels).
//! 2. Skip events already recorded: an event's id is a function of its identity, so
//!    ingesting the same payload twice records nothing the second time.
//! 3. Qualify each firing event against the intake rules of `ims.yaml`.
//! 4. A qualifying event whose fingerprint has no open incident opens one (category,
//!    priority, severity from the rule, SLA targets fixed) and notifies the service
//!    desk; the fingerprint's key file names the incident. A repeat is attached to the
//!    open incident; a resolved alert is recorded on it.
//! 5. All events of one ingest are recorded in one commit. Audit: `create` (source
//!    monitoring) and `notify`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::hygiene::{self, Shape};
use crate::ids::{record_path, RecordId, RecordKind};
use crate::model::enums::{AuditAction, Recipients, Role, Source, Status};
use crate::model::event::{self, AlertSeverity, AlertStatus, Event, EventSource};
use crate::model::keys::{self, KeyFile};
use crate::model::Incident;

pub struct Ingest;

pub const KEYS: &str = "alerts";
/// Recent firings of each alert, kept for rules with `count` and `window`.
pub const FIRINGS: &str = "alert-firings";

/// When an alert fired recently, for counting rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Firings {
    pub key: String,
    pub times: Vec<DateTime<Utc>>,
}

impl Firings {
    /// Adds a firing and forgets those too old to count for any rule.
    fn add(&mut self, at: DateTime<Utc>, window: i64) {
        if let Err(i) = self.times.binary_search(&at) {
            self.times.insert(i, at);
        }
        let newest = *self.times.last().expect("just added");
        self.times.retain(|t| (newest - *t).num_seconds() <= window);
        let excess = self.times.len().saturating_sub(1000);
        self.times.drain(..excess);
    }

    /// Firings in the `window` seconds up to and including `at`.
    fn within(&self, at: DateTime<Utc>, window: i64) -> usize {
        self.times.iter().filter(|t| **t <= at && (at - **t).num_seconds() <= window).count()
    }
}

/// One event as parsed from a payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventInput {
    pub service: String,
    pub source: EventSource,
    pub alert_type: String,
    pub severity: AlertSeverity,
    pub status: AlertStatus,
    pub summary: String,
    pub occurred_at: DateTime<Utc>,
    pub fingerprint: String,
    pub labels: BTreeMap<String, String>,
}

/// Ids the shell made for incidents this ingest may open, by fingerprint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewIds {
    pub incident_id: String,
    pub communication_id: String,
    pub escalation_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub events: Vec<EventInput>,
    pub new_ids: BTreeMap<String, NewIds>,
}

/// The input checks of one event (also run by the payload readers, so a payload the
/// procedure would refuse is rejected on its own, never blocking the others).
pub fn check(rules: hygiene::Rules, e: &EventInput) -> Result<()> {
    hygiene::text(rules, "service", &e.service, Shape::Line)?;
    hygiene::text(rules, "alert_type", &e.alert_type, Shape::Line)?;
    hygiene::text(rules, "summary", &e.summary, Shape::Text)?;
    hygiene::text(rules, "fingerprint", &e.fingerprint, Shape::Line)?;
    if e.labels.len() > 64 {
        return Err(Error::invalid("labels: more than 64").field("labels"));
    }
    for (k, v) in &e.labels {
        hygiene::text(rules, "label name", k, Shape::Line)?;
        hygiene::optional(rules, &format!("label {k}"), Some(v), Shape::Line)?;
    }
    Ok(())
}

/// The service allowlist of `ims.yaml`, as `incident identify` applies it: when the list is
/// not empty, an event naming another service is refused with the service and the list,
/// so a monitoring set-up that drifted from the catalogue is seen at once instead of
/// opening incidents for services nobody registered. Checked on new input only
/// (`hygiene::Rules::Screening`): `event.ingest/1` commits recorded before the check replay as
/// they were, and a refused ingest writes nothing, so no commit can differ.
pub fn check_service(rules: hygiene::Rules, config: &crate::model::Config, e: &EventInput) -> Result<()> {
    if rules.screening() && !config.services.is_empty() && !config.services.contains(&e.service) {
        return Err(Error::invalid(format!(
            "service: `{}` (alert {}) is not one of the services in ims.yaml ({}); nothing was ingested",
            e.service,
            e.alert_type,
            config.services.join(", ")
        ))
        .field("service"));
    }
    Ok(())
}

/// The first intake rule whose label matchers all match (the event's severity counts
/// as the label `severity` when the event has none).
fn rule<'a>(config: &'a crate::model::Config, e: &EventInput) -> Option<&'a crate::model::config::IntakeRule> {
    config.intake.rules.iter().find(|r| {
        r.matches.iter().all(|(k, v)| match e.labels.get(k) {
            Some(have) => have == v,
            None => k == "severity" && e.severity.as_str() == v,
        })
    })
}

impl Procedure for Ingest {
    const ID: &'static str = "event.ingest/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        let roles: Vec<Role> = Role::STAFF.iter().copied().chain([Role::Automation]).collect();
        ctx.require(&roles, "event ingest").at(Self::step(1))?;
        let config = crate::model::config(ctx.snap)?;
        for e in &input.events {
            check(ctx.rules, e).at(Self::step(1))?;
            check_service(ctx.rules, &config, e).at(Self::step(1))?;
        }
        // Incidents touched by this ingest, by id; fingerprints opened here.
        let mut touched: BTreeMap<String, Incident> = BTreeMap::new();
        let mut holders: BTreeMap<String, String> = BTreeMap::new();
        let mut effect = Effect::new(String::new());
        let (mut recorded, mut opened, mut attached) = (0, 0, 0);
        // Recent firings per fingerprint, kept only while some rule counts them.
        let counting = config.intake.rules.iter().filter_map(|r| r.count_window().ok().flatten()).max_by_key(|c| c.1);
        let mut firings: BTreeMap<String, Firings> = BTreeMap::new();
        for e in &input.events {
            let eid = event::event_id(&e.fingerprint, &e.occurred_at, e.status);
            let epath = record_path(RecordKind::Event, &eid);
            if effect.writes.contains_key(&epath) {
                continue; // the same event twice in one payload
            }
            // Already recorded: idempotent by identity, decided with one path read. Only
            // an alert that was too young for its rule's `for` is looked at again, as it
            // may qualify now.
            let matched = rule(&config, e);
            let may_wait = e.status == AlertStatus::Firing && matched.is_some_and(|r| r.firing_for.is_some());
            let recorded_before: Option<Event> = match ctx.snap.read(&epath)? {
                None => None,
                Some(_) if !may_wait => continue,
                Some(_) => crate::model::load(ctx.snap, &epath)?,
            };
            if recorded_before.as_ref().is_some_and(|b| b.qualified || b.incident_id.is_some()) {
                continue;
            }
            // The fingerprint's open incident, if any.
            let holder = match holders.get(&e.fingerprint) {
                Some(id) => Some(id.clone()),
                None => keys::holder(ctx.snap, KEYS, &e.fingerprint)?.map(|k| k.record),
            };
            let mut open_incident = None;
            if let Some(id) = holder {
                if !touched.contains_key(&id) {
                    let rid = RecordId::parse(&id, "incident")?;
                    let inc: Incident = crate::model::record(ctx.snap, &rid)?;
                    touched.insert(id.clone(), inc);
                }
                if !touched[&id].status.is_done() {
                    open_incident = Some(id);
                }
            }
            if recorded_before.is_some() {
                if open_incident.is_some() {
                    continue;
                }
            } else if let (Some((_, window)), AlertStatus::Firing) = (counting, e.status) {
                let tally = match firings.entry(e.fingerprint.clone()) {
                    std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::btree_map::Entry::Vacant(v) => v.insert(
                        crate::model::load(ctx.snap, &keys::path(FIRINGS, &e.fingerprint))?
                            .unwrap_or_else(|| Firings { key: e.fingerprint.clone(), times: vec![] }),
                    ),
                };
                tally.add(e.occurred_at, window);
            }
            let qualifies = match matched {
                None => false,
                Some(r) => {
                    let old_enough = match r.firing_for_secs()? {
                        0 => true,
                        secs => (ctx.now - e.occurred_at).num_seconds() >= secs,
                    };
                    let often_enough = match r.count_window()? {
                        None => true,
                        Some((n, window)) => {
                            firings.get(&e.fingerprint).map_or(1, |f| f.within(e.occurred_at, window)) >= n as usize
                        }
                    };
                    old_enough && often_enough
                }
            };
            if recorded_before.is_some() && !qualifies {
                continue; // still waiting for its `for`
            }
            let mut incident_id = None;
            match (e.status, open_incident) {
                (AlertStatus::Firing, Some(id)) => {
                    let inc = touched.get_mut(&id).expect("loaded above");
                    inc.track(ctx.now, ctx.actor, "alert", None, Some(format!("repeat {eid}")));
                    inc.updated_at = ctx.now;
                    incident_id = Some(id);
                    attached += 1;
                }
                (AlertStatus::Firing, None) if qualifies => {
                    let r = matched.expect("matched");
                    let ids = input
                        .new_ids
                        .get(&e.fingerprint)
                        .ok_or_else(|| Error::invalid(format!("no new incident id for fingerprint {}", e.fingerprint)))
                        .at(Self::step(4))
                        .field("new_ids")?;
                    let rid = crate::procedures::new_id(ctx, &ids.incident_id, RecordKind::Incident)
                        .at(Self::step(4))
                        .field("new_ids")?;
                    let mut inc = Incident {
                        incident_id: rid.id.clone(),
                        title: hygiene::text(
                            ctx.rules,
                            "title",
                            &format!("{}: {}", e.alert_type, e.summary.lines().next().unwrap_or("")),
                            Shape::Line,
                        )
                        .unwrap_or_else(|_| e.alert_type.clone()),
                        description: Some(e.summary.clone()),
                        service: e.service.clone(),
                        source: match e.source {
                            EventSource::MonitoringTool => Source::MonitoringTool,
                            EventSource::AutomatedAlert => Source::AutomatedAlert,
                        },
                        category: Some(r.category),
                        reporter: ctx.actor.into(),
                        reported_by: ctx.actor.into(),
                        created_at: ctx.now,
                        updated_at: ctx.now,
                        ..crate::model::Incident::blank()
                    };
                    inc.track(ctx.now, ctx.actor, "status", None, Some(Status::Open.to_string()));
                    inc.track(ctx.now, ctx.actor, "category", None, Some(r.category.to_string()));
                    let why = format!("intake rule for {}", crate::engine::canonical_json(&r.matches)?);
                    crate::procedures::incident::prioritize::classify(
                        &mut inc, &config, r.priority, r.severity, &why, ctx.now, ctx.actor,
                    )
                    .at(Self::step(4))?;
                    let message =
                        format!("New incident {} from alert {} on {}: {}", rid.id, e.alert_type, e.service, e.summary);
                    crate::procedures::incident::communicate(
                        &mut inc,
                        &ids.communication_id,
                        Recipients::ItStaff,
                        message,
                        ctx.actor,
                        crate::model::enums::Channel::Ims,
                        ctx.now,
                    )
                    .at(Self::step(4))?;
                    if let (crate::model::enums::Level::High, Some(target)) =
                        (r.priority, config.escalation.on_high_priority)
                    {
                        let message = format!("Automatic escalation to {target}: {} opened at high priority", rid.id);
                        crate::procedures::incident::escalate_to(
                            &mut inc,
                            ctx.now,
                            ctx.actor,
                            target.as_str(),
                            &ids.escalation_id,
                            message,
                        )
                        .at(Self::step(4))?;
                    }
                    effect.write(
                        &keys::path(KEYS, &e.fingerprint),
                        &KeyFile { key: e.fingerprint.clone(), record: rid.id.clone() },
                    )?;
                    holders.insert(e.fingerprint.clone(), rid.id.clone());
                    effect = effect.action(AuditAction::Create, "incident", &rid.id).action(
                        AuditAction::Notify,
                        "incident",
                        &rid.id,
                    );
                    touched.insert(rid.id.clone(), inc);
                    incident_id = Some(rid.id);
                    opened += 1;
                }
                (AlertStatus::Resolved, Some(id)) => {
                    let inc = touched.get_mut(&id).expect("loaded above");
                    inc.track(ctx.now, ctx.actor, "alert", None, Some(format!("resolved {eid}")));
                    inc.updated_at = ctx.now;
                    incident_id = Some(id);
                }
                _ => {}
            }
            if let Some(mut before) = recorded_before {
                before.qualified = true;
                before.incident_id = incident_id;
                effect.write(&epath, &before)?;
                effect = effect.action(AuditAction::Update, "event", &eid);
                recorded += 1;
                continue;
            }
            let record = Event {
                schema: event::SCHEMA.into(),
                event_id: eid.clone(),
                service: e.service.clone(),
                source: e.source,
                alert_type: e.alert_type.clone(),
                severity: e.severity,
                status: e.status,
                summary: e.summary.clone(),
                fingerprint: e.fingerprint.clone(),
                labels: e.labels.clone(),
                occurred_at: e.occurred_at,
                ingested_at: ctx.now,
                ingested_by: ctx.actor.into(),
                incident_id,
                qualified: qualifies,
            };
            effect.write(&epath, &record)?;
            effect = effect.action(AuditAction::Create, "event", &eid);
            recorded += 1;
        }
        if recorded == 0 {
            return Err(Error::nothing_new("event ingest: nothing new (every event is already recorded)")
                .at(Self::step(2))
                .field("events"));
        }
        for (fingerprint, tally) in &firings {
            effect.write(&keys::path(FIRINGS, fingerprint), tally)?;
        }
        for (id, inc) in &touched {
            if inc.updated_at == ctx.now {
                effect.write(&RecordId::parse(id, "incident")?.path(), inc)?;
            }
        }
        effect.subject =
            format!("event: ingest {recorded} events ({opened} incidents opened, {attached} repeats attached)");
        effect = effect.fields(&["events", "incidents"]);
        effect.id = touched.keys().next().cloned();
        Ok(effect)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use crate::procedures::testing::*;

    const FP: &str = "checkout-latency";

    fn event(severity: AlertSeverity, minutes_ago: i64) -> EventInput {
        EventInput {
            service: "shop".into(),
            source: EventSource::MonitoringTool,
            alert_type: "HighLatency".into(),
            severity,
            status: AlertStatus::Firing,
            summary: "p99 above 2s".into(),
            occurred_at: now() - chrono::Duration::minutes(minutes_ago),
            fingerprint: FP.into(),
            labels: BTreeMap::new(),
        }
    }

    fn input(events: Vec<EventInput>) -> Input {
        let ids = NewIds {
            incident_id: ID.into(),
            communication_id: "COM-20261126-0000000001".into(),
            escalation_id: "COM-20261126-0000000002".into(),
        };
        Input { events, new_ids: BTreeMap::from([(FP.to_string(), ids)]) }
    }

    fn automation() -> String {
        as_role(Role::Automation)
    }

    #[test]
    fn a_qualifying_alert_opens_an_incident_and_a_repeat_attaches_to_it() {
        let mut snap = snapshot(None);
        let e = step::<Ingest>(&mut snap, &automation(), &input(vec![event(AlertSeverity::Warning, 10)]));
        let inc: Incident = wrote(&e, RecordKind::Incident, ID);
        assert_eq!((inc.status, inc.source, inc.service.as_str()), (Status::Open, Source::MonitoringTool, "shop"));
        assert_eq!(inc.priority, Some(crate::model::enums::Level::Medium));
        assert_eq!(inc.communications[0].recipients, Recipients::ItStaff);
        let eid = event::event_id(FP, &(now() - chrono::Duration::minutes(10)), AlertStatus::Firing);
        let ev: Event = wrote(&e, RecordKind::Event, &eid);
        assert_eq!((ev.qualified, ev.incident_id.as_deref()), (true, Some(ID)));
        assert!(e.writes.contains_key(&keys::path(KEYS, FP)));
        let later = now() + chrono::Duration::minutes(5);
        let e = step_at::<Ingest>(&mut snap, &automation(), later, &input(vec![event(AlertSeverity::Warning, 1)]));
        assert_eq!(e.subject, "event: ingest 1 events (0 incidents opened, 1 repeats attached)");
        let inc: Incident = wrote(&e, RecordKind::Incident, ID);
        assert!(inc
            .timeline
            .iter()
            .any(|t| t.field == "alert" && t.to.as_deref().is_some_and(|s| s.starts_with("repeat "))));
    }

    #[test]
    fn step1_only_staff_or_automation() {
        halts_at(
            try_apply::<Ingest>(&snapshot(None), "user@x.test", &input(vec![event(AlertSeverity::Warning, 10)])),
            Kind::Forbidden,
            "event ingest",
            Ingest::step(1),
            Some("roles"),
        );
    }

    #[test]
    fn step1_every_event_is_checked() {
        let snap = snapshot(None);
        let bad = EventInput { service: " ".into(), ..event(AlertSeverity::Warning, 10) };
        halts_at(
            try_apply::<Ingest>(&snap, &automation(), &input(vec![bad])),
            Kind::Invalid,
            "service",
            Ingest::step(1),
            Some("service"),
        );
        let mut many = event(AlertSeverity::Warning, 10);
        many.labels = (0..65).map(|i| (format!("l{i}"), "v".to_string())).collect();
        halts_at(
            try_apply::<Ingest>(&snap, &automation(), &input(vec![many])),
            Kind::Invalid,
            "labels: more than 64",
            Ingest::step(1),
            Some("labels"),
        );
        let mut broken = event(AlertSeverity::Warning, 10);
        broken.labels.insert("team".into(), "a\nb".into());
        halts_at(
            try_apply::<Ingest>(&snap, &automation(), &input(vec![broken])),
            Kind::Invalid,
            "label team",
            Ingest::step(1),
            Some("label team"),
        );
    }

    #[test]
    fn step2_the_same_payload_twice_is_nothing_new() {
        let mut snap = snapshot(None);
        let payload = input(vec![event(AlertSeverity::Warning, 10)]);
        step::<Ingest>(&mut snap, &automation(), &payload);
        halts_at(
            try_apply::<Ingest>(&snap, &automation(), &payload),
            Kind::NothingNew,
            "nothing new",
            Ingest::step(2),
            Some("events"),
        );
    }

    #[test]
    fn step3_an_event_no_rule_matches_is_recorded_unqualified() {
        let e =
            try_apply::<Ingest>(&snapshot(None), &automation(), &input(vec![event(AlertSeverity::Info, 10)])).unwrap();
        let eid = event::event_id(FP, &(now() - chrono::Duration::minutes(10)), AlertStatus::Firing);
        let ev: Event = wrote(&e, RecordKind::Event, &eid);
        assert_eq!((ev.qualified, ev.incident_id), (false, None));
        assert!(!e.writes.contains_key(&record_path(RecordKind::Incident, ID)));
    }

    #[test]
    fn step4_an_opened_incident_needs_a_free_id_from_the_shell() {
        let payload = Input { new_ids: BTreeMap::new(), ..input(vec![event(AlertSeverity::Warning, 10)]) };
        halts(
            try_apply::<Ingest>(&snapshot(None), &automation(), &payload),
            Kind::Invalid,
            "no new incident id for fingerprint checkout-latency",
        );
        let taken = snapshot(Some(&incident(Status::Closed)));
        halts(
            try_apply::<Ingest>(&taken, &automation(), &input(vec![event(AlertSeverity::Warning, 10)])),
            Kind::Conflict,
            "exists",
        );
    }

    #[test]
    fn step1_the_service_is_in_the_allowlist() {
        let mut snap = snapshot(None);
        let mut config = crate::model::config(&snap).unwrap();
        config.services = vec!["db".into()];
        snap.files.insert(crate::model::config::PATH.into(), crate::yaml::to_canonical(&config).unwrap().into_bytes());
        halts(
            try_apply::<Ingest>(&snap, &automation(), &input(vec![event(AlertSeverity::Warning, 10)])),
            Kind::Invalid,
            "service: `shop` (alert HighLatency) is not one of the services in ims.yaml (db)",
        );
    }
}
