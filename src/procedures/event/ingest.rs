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
use crate::error::{Error, Result};
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
pub fn check(e: &EventInput) -> Result<()> {
    hygiene::text("service", &e.service, Shape::Line)?;
    hygiene::text("alert_type", &e.alert_type, Shape::Line)?;
    hygiene::text("summary", &e.summary, Shape::Text)?;
    hygiene::text("fingerprint", &e.fingerprint, Shape::Line)?;
    if e.labels.len() > 64 {
        return Err(Error::invalid("labels: more than 64"));
    }
    for (k, v) in &e.labels {
        hygiene::text("label name", k, Shape::Line)?;
        hygiene::optional(&format!("label {k}"), Some(v), Shape::Line)?;
    }
    Ok(())
}

/// The service allowlist of `ims.yaml`, as `incident identify` applies it: when the list is
/// not empty, an event naming another service is refused with the service and the list,
/// so a monitoring set-up that drifted from the catalogue is seen at once instead of
/// opening incidents for services nobody registered. Checked on new input only
/// (`hygiene::screening`): `event.ingest/1` commits recorded before the check replay as
/// they were, and a refused ingest writes nothing, so no commit can differ.
pub fn check_service(config: &crate::model::Config, e: &EventInput) -> Result<()> {
    if hygiene::screening() && !config.services.is_empty() && !config.services.contains(&e.service) {
        return Err(Error::invalid(format!(
            "service: `{}` (alert {}) is not one of the services in ims.yaml ({}); nothing was ingested",
            e.service,
            e.alert_type,
            config.services.join(", ")
        )));
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
        ctx.require(&roles, "event ingest")?;
        let config = crate::model::config(ctx.snap)?;
        for e in &input.events {
            check(e)?;
            check_service(&config, e)?;
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
                    let ids = input.new_ids.get(&e.fingerprint).ok_or_else(|| {
                        Error::invalid(format!("no new incident id for fingerprint {}", e.fingerprint))
                    })?;
                    let rid = crate::procedures::new_id(ctx, &ids.incident_id, RecordKind::Incident)?;
                    let mut inc = Incident {
                        incident_id: rid.id.clone(),
                        title: hygiene::text(
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
                        ..crate::procedures::incident::blank()
                    };
                    inc.track(ctx.now, ctx.actor, "status", None, Some(Status::Open.to_string()));
                    inc.track(ctx.now, ctx.actor, "category", None, Some(r.category.to_string()));
                    let why = format!("intake rule for {}", crate::engine::canonical_json(&r.matches)?);
                    crate::procedures::incident::prioritize::classify(
                        &mut inc, &config, r.priority, r.severity, &why, ctx.now, ctx.actor,
                    )?;
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
                    )?;
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
                        )?;
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
            return Err(Error::precondition("event ingest: nothing new (every event is already recorded)"));
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
