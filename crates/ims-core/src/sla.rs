//! Service-level clocks, computed from an incident record alone: its `timeline` (status
//! changes, pauses, SLA target changes) and the targets it carries. So a change of
//! priority keeps the time already spent and paused, `--at` answers for any past
//! moment, and a shallow clone gives the same answer as a full one.
//!
//! A clock runs while the incident is in a running status (not paused, not resolved,
//! not closed), and only inside its calendar's working hours. A target is *met* when
//! the elapsed time is at most the target: a breach is strictly over it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::model::config::parse_duration;
use crate::model::enums::Status;
use crate::model::incident::Incident;

pub use crate::calendar::Calendar;

/// The targets an incident is measured against, as the record carries them.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    pub acknowledge: i64,
    pub resolve: i64,
    pub update: i64,
    pub paused: Vec<Status>,
    pub calendar: Calendar,
}

impl Targets {
    /// The text kept in the timeline when the targets are set (`key=value;…`).
    pub fn spec(acknowledge: &str, resolve: &str, update: &str, paused: &[Status], calendar: &str) -> String {
        let paused: Vec<&str> = paused.iter().map(|s| s.as_str()).collect();
        format!(
            "acknowledge={acknowledge};resolve={resolve};update={update};paused={};calendar={calendar}",
            paused.join(",")
        )
    }

    pub fn parse(spec: &str) -> Result<Targets> {
        let mut t = Targets { acknowledge: 0, resolve: 0, update: 0, paused: vec![], calendar: Calendar::Always };
        for part in spec.split(';') {
            let (k, v) = part.split_once('=').ok_or_else(|| Error::invalid(format!("sla spec `{spec}`")))?;
            match k {
                "acknowledge" => t.acknowledge = parse_duration(v)?,
                "resolve" => t.resolve = parse_duration(v)?,
                "update" => t.update = parse_duration(v)?,
                "paused" => t.paused = crate::model::enums::parse_list(v)?,
                "calendar" => t.calendar = Calendar::parse(v)?,
                _ => return Err(Error::invalid(format!("sla spec `{spec}`: unknown `{k}`"))),
            }
        }
        Ok(t)
    }
}

/// The targets in force at `at`: the last `sla` timeline entry up to then.
pub fn targets_at(incident: &Incident, at: DateTime<Utc>) -> Result<Option<Targets>> {
    let spec = incident.timeline.iter().rev().filter(|e| e.field == "sla" && e.at <= at).find_map(|e| e.to.as_deref());
    spec.map(Targets::parse).transpose()
}

/// The incident's status intervals up to `at`: `(from, to, status)`.
fn intervals(incident: &Incident, at: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>, Status)> {
    let mut changes: Vec<(DateTime<Utc>, Status)> = incident
        .timeline
        .iter()
        .filter(|e| e.field == "status" && e.at <= at)
        .filter_map(|e| Some((e.at, e.to.as_deref()?.parse().ok()?)))
        .collect();
    if changes.is_empty() {
        changes.push((incident.created_at, Status::Open));
    }
    let mut out = Vec::new();
    for (i, (t, s)) in changes.iter().enumerate() {
        let end = changes.get(i + 1).map(|(n, _)| *n).unwrap_or(at);
        if *t < end {
            out.push((*t, end, *s));
        }
    }
    out
}

/// The incident's status at `at`, from its timeline.
pub fn status_at(incident: &Incident, at: DateTime<Utc>) -> Status {
    incident
        .timeline
        .iter()
        .rev()
        .filter(|e| e.field == "status" && e.at <= at)
        .find_map(|e| e.to.as_deref()?.parse().ok())
        .unwrap_or(Status::Open)
}

/// Working seconds in `[from, to)` during which the clock runs.
fn running_seconds(incident: &Incident, targets: &Targets, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    if to <= from {
        return 0;
    }
    let mut total = 0;
    for (a, b, status) in intervals(incident, to) {
        if targets.paused.contains(&status) || status.is_done() {
            continue;
        }
        let (a, b) = (a.max(from), b.min(to));
        if a >= b {
            continue;
        }
        for (x, y) in targets.calendar.windows(a, b) {
            total += (y - x).num_seconds();
        }
    }
    total
}

/// One clock's standing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clock {
    /// `acknowledge`, `resolve` or `update`.
    pub clock: &'static str,
    pub state: ClockState,
    pub elapsed_seconds: i64,
    pub target_seconds: i64,
    /// Negative when over.
    pub remaining_seconds: i64,
    /// For the update cadence: the communication the clock counts from.
    pub since: Option<String>,
    /// The acknowledge clock of an incident not yet prioritized ([`untriaged`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub untriaged: bool,
}

/// Where a clock stands: `ok`, `at_risk`, `breached` while it runs; `met` or `missed`
/// once it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Ok,
    AtRisk,
    Breached,
    Met,
    Missed,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Ok => "ok",
            ClockState::AtRisk => "at_risk",
            ClockState::Breached => "breached",
            ClockState::Met => "met",
            ClockState::Missed => "missed",
        }
    }

    /// Running and past, or near, its target: what a responder must look at.
    pub fn needs_attention(self) -> bool {
        matches!(self, ClockState::AtRisk | ClockState::Breached)
    }
}

impl std::fmt::Display for ClockState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so `{:<9}` lines columns up as the strings did.
        f.pad(self.as_str())
    }
}

fn state(elapsed: i64, target: i64, done: bool, warning: f64) -> ClockState {
    match (done, elapsed > target) {
        (true, false) => ClockState::Met,
        (true, true) => ClockState::Missed,
        (false, true) => ClockState::Breached,
        (false, false) if elapsed as f64 >= warning * target as f64 => ClockState::AtRisk,
        _ => ClockState::Ok,
    }
}

/// The incident's clocks as they stood at `at`; empty when it had no SLA targets then.
pub fn clocks(incident: &Incident, at: DateTime<Utc>, warning: f64) -> Result<Vec<Clock>> {
    let Some(t) = targets_at(incident, at)? else { return Ok(vec![]) };
    let mut out = Vec::new();
    let acked = incident.acknowledged_at.filter(|a| *a <= at);
    let ack_elapsed = running_seconds(incident, &t, incident.created_at, acked.unwrap_or(at));
    out.push(Clock {
        clock: "acknowledge",
        state: state(ack_elapsed, t.acknowledge, acked.is_some(), warning),
        elapsed_seconds: ack_elapsed,
        target_seconds: t.acknowledge,
        remaining_seconds: t.acknowledge - ack_elapsed,
        since: None,
        untriaged: false,
    });
    let status_now = status_at(incident, at);
    let done = status_now.is_done();
    let res_elapsed = running_seconds(incident, &t, incident.created_at, at);
    out.push(Clock {
        clock: "resolve",
        state: state(res_elapsed, t.resolve, done, warning),
        elapsed_seconds: res_elapsed,
        target_seconds: t.resolve,
        remaining_seconds: t.resolve - res_elapsed,
        since: None,
        untriaged: false,
    });
    if !done {
        let last = incident.communications.iter().rev().find(|c| c.at <= at);
        let from = last.map(|c| c.at).or(acked).unwrap_or(incident.created_at);
        let elapsed = running_seconds(incident, &t, from, at);
        out.push(Clock {
            clock: "update",
            state: state(elapsed, t.update, false, warning),
            elapsed_seconds: elapsed,
            target_seconds: t.update,
            remaining_seconds: t.update - elapsed,
            since: Some(last.map(|c| c.communication_id.clone()).unwrap_or_else(|| "acknowledgement".into())),
            untriaged: false,
        });
    }
    Ok(out)
}

/// The acknowledge clock of an incident that had no SLA targets at `at` (never
/// prioritized), against the `sla.untriaged` target (a duration): it runs around the
/// clock from creation, stops when the incident is acknowledged (met or missed), and
/// ends when the incident is prioritized (its own clocks take over) or done. `None` when
/// the incident has targets at `at` or is resolved or closed.
pub fn untriaged(incident: &Incident, at: DateTime<Utc>, warning: f64, target: &str) -> Result<Option<Clock>> {
    if targets_at(incident, at)?.is_some() || status_at(incident, at).is_done() || incident.created_at > at {
        return Ok(None);
    }
    let target = parse_duration(target).map_err(|e| e.context("sla.untriaged"))?;
    Ok(Some(untriaged_clock(incident.created_at, incident.acknowledged_at, at, warning, target)))
}

/// The untriaged acknowledge clock at `at` of an incident created at `created_at` and
/// acknowledged at `acknowledged_at`, against `target` seconds: what [`untriaged`] gives
/// for an incident that has one, from the only facts it reads (so a reader that keeps
/// those facts, as the site does, need not parse the record).
pub fn untriaged_clock(
    created_at: DateTime<Utc>,
    acknowledged_at: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
    warning: f64,
    target: i64,
) -> Clock {
    let acked = acknowledged_at.filter(|a| *a <= at);
    let elapsed = (acked.unwrap_or(at) - created_at).num_seconds().max(0);
    Clock {
        clock: "acknowledge",
        state: state(elapsed, target, acked.is_some(), warning),
        elapsed_seconds: elapsed,
        target_seconds: target,
        remaining_seconds: target - elapsed,
        since: None,
        untriaged: true,
    }
}

/// Whether the incident met both its acknowledge and resolve targets (for a resolved one).
pub fn met_both(incident: &Incident) -> Result<Option<bool>> {
    let Some(resolved) = incident.resolved_at else { return Ok(None) };
    let clocks = clocks(incident, resolved, 1.0)?;
    if clocks.is_empty() {
        return Ok(None);
    }
    Ok(Some(clocks.iter().filter(|c| c.clock != "update").all(|c| c.state == ClockState::Met)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::incident::TimelineEntry;

    const BUSINESS: &str = "tz=UTC days=mon,tue,wed,thu,fri hours=09:00-17:00 holidays=2026-12-25";

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn entry(at: &str, field: &str, to: &str) -> TimelineEntry {
        TimelineEntry { at: t(at), by: "x".into(), field: field.into(), from: None, to: Some(to.into()) }
    }

    fn sla(resolve: &str, calendar: &str) -> String {
        Targets::spec("15m", resolve, "1h", &[Status::PendingVendor], calendar)
    }

    fn incident(created: &str, events: &[(&str, &str, &str)]) -> Incident {
        let mut i = crate::procedures::incident::testing::incident(Status::Open);
        i.created_at = t(created);
        i.timeline = vec![entry(created, "status", "open")];
        for (at, field, to) in events {
            i.timeline.push(entry(at, field, to));
            if *field == "status" && *to == "in_progress" && i.acknowledged_at.is_none() {
                i.acknowledged_at = Some(t(at));
            }
        }
        i
    }

    #[test]
    fn an_untriaged_incident_has_an_acknowledge_clock_until_it_is_prioritized() {
        let i = incident("2026-11-02T10:00:00Z", &[]);
        let at = |s: &str| untriaged(&i, t(s), 0.75, "1h").unwrap().unwrap();
        assert_eq!(at("2026-11-02T10:30:00Z").state, ClockState::Ok);
        assert_eq!(at("2026-11-02T10:50:00Z").state, ClockState::AtRisk);
        let late = at("2026-11-02T11:00:01Z");
        assert_eq!(
            (late.clock, late.state, late.remaining_seconds, late.untriaged),
            ("acknowledge", ClockState::Breached, -1, true)
        );
        // Acknowledged in time, still unprioritized: met.
        let acked = incident("2026-11-02T10:00:00Z", &[("2026-11-02T10:20:00Z", "status", "in_progress")]);
        assert_eq!(untriaged(&acked, t("2026-11-02T12:00:00Z"), 0.75, "1h").unwrap().unwrap().state, ClockState::Met);
        // Once prioritized, the incident's own clocks count instead.
        let mut p = incident("2026-11-02T10:00:00Z", &[]);
        p.timeline.push(TimelineEntry {
            at: t("2026-11-02T10:10:00Z"),
            by: "x".into(),
            field: "sla".into(),
            from: None,
            to: Some(sla("4h", "24x7")),
        });
        assert_eq!(untriaged(&p, t("2026-11-02T10:05:00Z"), 0.75, "1h").unwrap().unwrap().state, ClockState::Ok);
        assert_eq!(untriaged(&p, t("2026-11-02T12:00:00Z"), 0.75, "1h").unwrap(), None);
        // Done: no clock.
        let closed = incident("2026-11-02T10:00:00Z", &[("2026-11-02T10:20:00Z", "status", "resolved")]);
        assert_eq!(untriaged(&closed, t("2026-11-02T12:00:00Z"), 0.75, "1h").unwrap(), None);
    }

    fn clock(i: &Incident, at: &str, name: &str) -> Clock {
        clocks(i, t(at), 0.75).unwrap().into_iter().find(|c| c.clock == name).unwrap()
    }

    #[test]
    fn a_vendor_pause_across_a_weekend_in_business_hours() {
        // Friday 2026-11-27 16:00 to Monday 2026-11-30 12:00, paused from Friday 16:30
        // to Monday 10:00: 30 minutes on Friday, 2 hours on Monday.
        let i = incident(
            "2026-11-27T16:00:00Z",
            &[
                ("2026-11-27T16:00:00Z", "sla", &sla("8h", BUSINESS)),
                ("2026-11-27T16:00:00Z", "status", "in_progress"),
                ("2026-11-27T16:30:00Z", "status", "pending_vendor"),
                ("2026-11-30T10:00:00Z", "status", "in_progress"),
                ("2026-11-30T12:00:00Z", "status", "resolved"),
            ],
        );
        let c = clock(&i, "2026-11-30T15:00:00Z", "resolve");
        assert_eq!(c.elapsed_seconds, 2 * 3600 + 30 * 60);
        assert_eq!(c.state, ClockState::Met);
    }

    #[test]
    fn a_holiday_does_not_count() {
        // Thursday 24 December 16:00; Friday 25 is a holiday; Monday 28 at 10:00:
        // 1 hour on Thursday and 1 hour on Monday.
        let i = incident(
            "2026-12-24T16:00:00Z",
            &[("2026-12-24T16:00:00Z", "sla", &sla("2h", BUSINESS)), ("2026-12-24T16:00:00Z", "status", "in_progress")],
        );
        let c = clock(&i, "2026-12-28T10:00:00Z", "resolve");
        assert_eq!(c.elapsed_seconds, 2 * 3600);
        assert_eq!(c.state, ClockState::AtRisk, "exactly at the target is not a breach");
        assert_eq!(clock(&i, "2026-12-28T10:00:01Z", "resolve").state, ClockState::Breached);
    }

    #[test]
    fn a_priority_change_mid_pause_keeps_the_time_spent() {
        // Low (5d) at 10:00, paused 11:00–13:00, raised to high (4h) at 12:00 while
        // paused; at 15:00: 1h before the pause + 2h after it = 3h of 4h.
        let i = incident(
            "2026-11-26T10:00:00Z",
            &[
                ("2026-11-26T10:00:00Z", "sla", &sla("5d", "24x7")),
                ("2026-11-26T10:00:00Z", "status", "in_progress"),
                ("2026-11-26T11:00:00Z", "status", "pending_vendor"),
                ("2026-11-26T12:00:00Z", "sla", &sla("4h", "24x7")),
                ("2026-11-26T13:00:00Z", "status", "in_progress"),
            ],
        );
        let c = clock(&i, "2026-11-26T15:00:00Z", "resolve");
        assert_eq!((c.elapsed_seconds, c.target_seconds, c.remaining_seconds), (3 * 3600, 4 * 3600, 3600));
        assert_eq!(c.state, ClockState::AtRisk);
        // Asked about 11:30, the answer uses the targets of 11:30.
        assert_eq!(clock(&i, "2026-11-26T11:30:00Z", "resolve").target_seconds, 5 * 86_400);
    }

    #[test]
    fn a_breach_exactly_at_the_boundary() {
        let i = incident("2026-11-26T10:00:00Z", &[("2026-11-26T10:00:00Z", "sla", &sla("4h", "24x7"))]);
        assert_eq!(clock(&i, "2026-11-26T14:00:00Z", "resolve").state, ClockState::AtRisk);
        assert_eq!(clock(&i, "2026-11-26T14:00:01Z", "resolve").state, ClockState::Breached);
        let mut done = i.clone();
        done.timeline.push(entry("2026-11-26T14:00:00Z", "status", "resolved"));
        done.resolved_at = Some(t("2026-11-26T14:00:00Z"));
        assert_eq!(clock(&done, "2026-11-27T00:00:00Z", "resolve").state, ClockState::Met);
        // Asked at the very moment of resolution, the clock has stopped.
        assert_eq!(clock(&done, "2026-11-26T14:00:00Z", "resolve").state, ClockState::Met);
        assert_eq!(met_both(&done).unwrap(), Some(false), "acknowledge (15m) was missed");
    }

    #[test]
    fn an_incident_opened_outside_business_hours() {
        // Saturday evening; acknowledged Monday 09:10: 10 working minutes.
        let i = incident(
            "2026-11-28T20:00:00Z",
            &[("2026-11-28T20:00:00Z", "sla", &sla("8h", BUSINESS)), ("2026-11-30T09:10:00Z", "status", "in_progress")],
        );
        let c = clock(&i, "2026-11-30T12:00:00Z", "acknowledge");
        assert_eq!((c.elapsed_seconds, c.state), (600, ClockState::Met));
    }
}
