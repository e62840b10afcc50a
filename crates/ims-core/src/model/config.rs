//! `ims.yaml`: every policy setting, written in full and commented by `ims init`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::enums::{Category, EscalationTarget, Level};
use crate::error::{Error, Result};

pub const SCHEMA: &str = "config/1";
pub const PATH: &str = "ims.yaml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub schema: String,
    pub organization: String,
    /// `real`, or `simulated` for tests, demos and training (`IMS_NOW` allowed).
    pub clock: Clock,
    pub services: Vec<String>,
    pub timezone: String,
    pub sla: Sla,
    pub escalation: Escalation,
    /// Impact → urgency → priority, for `prioritize --impact --urgency`; null: not used.
    pub priority_matrix: Option<BTreeMap<Level, BTreeMap<Level, Level>>>,
    pub problems: Problems,
    pub pir: Pir,
    pub changes: Changes,
    pub intake: Intake,
    /// Tracked paths ims never reads and never writes (CI files, READMEs, docs): a commit
    /// may change them without a procedure. Any other path outside the governed set is a
    /// verify violation. Absent (a repository made before this setting): [`DEFAULT_UNGOVERNED`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ungoverned: Option<Vec<String>>,
    /// Who receives communications, by which transport (`ims deliver`). Absent or empty:
    /// nothing is sent, as before this setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<super::notifications::Notifications>,
}

/// What a repository without an `ungoverned` list behaves as if it had: the CI recipes
/// and documents the README recommends keeping beside the records.
pub const DEFAULT_UNGOVERNED: &[&str] = &[".github/**", ".gitlab-ci.yml", "README*", "docs/**", ".gitignore"];

/// Settings added after `config/1` was first released, with the value `ims init` writes
/// (through `repo.init/2`'s input) and `ims migrate --settings` offers to add to a
/// repository that lacks them. A repository without one behaves as before.
pub fn new_settings() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("ungoverned", serde_json::json!(DEFAULT_UNGOVERNED)),
        ("intake.max_alerts_per_payload", serde_json::json!(MAX_ALERTS)),
        ("intake.max_incidents_per_payload", serde_json::json!(MAX_INCIDENTS)),
        ("notifications", serde_json::json!({})),
        // The medium priority's acknowledge target of the defaults.
        ("sla.untriaged", serde_json::json!(UNTRIAGED)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    Real,
    Simulated,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sla {
    pub targets: BTreeMap<Level, SlaTarget>,
    /// Severity tightens the targets: each is multiplied by its severity's factor.
    pub severity_factors: BTreeMap<Level, f64>,
    pub paused_statuses: Vec<super::enums::Status>,
    /// The default calendar: `24x7`, or a name from `calendars`.
    pub calendar: String,
    pub calendars: BTreeMap<String, Calendar>,
    /// Service → calendar name, for services on other hours.
    pub service_calendars: BTreeMap<String, String>,
    pub warning_threshold: f64,
    /// Where `ims sla check --escalate` escalates a breach.
    pub breach_escalation: EscalationTarget,
    /// An acknowledge target for an incident not yet prioritized, running from its
    /// creation (around the clock) until it is prioritized or acknowledged, so an
    /// untriaged incident shows at risk and in breach too. Absent (a repository made
    /// before this setting): an unprioritized incident has no clock, as before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub untriaged: Option<String>,
}

/// The `sla.untriaged` `ims init` writes: the default medium acknowledge target.
pub const UNTRIAGED: &str = "1h";

/// Business hours: a time zone, working days, daily hours and holidays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub timezone: String,
    /// `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM-HH:MM`.
    pub hours: String,
    /// `YYYY-MM-DD`, in the calendar's time zone.
    pub holidays: Vec<String>,
}

impl Calendar {
    /// The spec text a record carries (see [`crate::calendar::Calendar::parse`]):
    /// `tz=Europe/Paris days=mon,tue,wed,thu,fri hours=09:00-17:00 holidays=2026-12-25`.
    pub fn spec(&self) -> String {
        format!(
            "tz={} days={} hours={} holidays={}",
            self.timezone,
            self.days.join(","),
            self.hours,
            self.holidays.join(",")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    pub acknowledge: String,
    pub resolve: String,
    pub update: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// Where an incident prioritized `high` is escalated automatically; null for nowhere.
    pub on_high_priority: Option<EscalationTarget>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problems {
    pub stability_window: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pir {
    pub due_after_close: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Changes {
    /// Distinct approvals needed per risk.
    pub approvals: BTreeMap<Level, u32>,
    pub standard_catalogue: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intake {
    pub rules: Vec<IntakeRule>,
    /// Labels to take the service from, first present wins.
    pub service_labels: Vec<String>,
    /// Alerts one payload may carry at `ims intake serve` (absent: [`MAX_ALERTS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_alerts_per_payload: Option<u32>,
    /// Incidents one payload may open at `ims intake serve` (absent: [`MAX_INCIDENTS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_incidents_per_payload: Option<u32>,
}

/// The default of `intake.max_alerts_per_payload`.
pub const MAX_ALERTS: u32 = 1000;
/// The default of `intake.max_incidents_per_payload`.
pub const MAX_INCIDENTS: u32 = 50;

impl Intake {
    /// Alerts one payload may carry.
    pub fn max_alerts(&self) -> usize {
        self.max_alerts_per_payload.unwrap_or(MAX_ALERTS) as usize
    }

    /// Incidents one payload may open.
    pub fn max_incidents(&self) -> usize {
        self.max_incidents_per_payload.unwrap_or(MAX_INCIDENTS) as usize
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntakeRule {
    /// Label values an alert must carry.
    #[serde(rename = "match")]
    pub matches: BTreeMap<String, String>,
    pub priority: Level,
    pub severity: Level,
    pub category: Category,
    /// How long the alert must have been firing when it is ingested (`5m`); a shorter
    /// one is recorded unqualified and qualifies when it is sent again later.
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub firing_for: Option<String>,
    /// How many separate firings of the same alert must fall within `window` (ending at
    /// this one) before it qualifies: a flapping alert opens an incident, a blip does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<String>,
}

impl IntakeRule {
    /// `for`, in seconds (0 without one).
    pub fn firing_for_secs(&self) -> Result<i64> {
        self.firing_for.as_deref().map_or(Ok(0), parse_duration)
    }

    /// `(count, window in seconds)` when the rule counts firings.
    pub fn count_window(&self) -> Result<Option<(u32, i64)>> {
        match (self.count, &self.window) {
            (None, None) => Ok(None),
            (Some(n), Some(w)) if n >= 1 => Ok(Some((n, parse_duration(w)?))),
            _ => Err(Error::invalid("intake rule: `count` (at least 1) and `window` go together")),
        }
    }
}

impl Config {
    /// The defaults of CLI.md, written in full by `ims init`.
    pub fn defaults(organization: &str, clock: Clock) -> Config {
        let target =
            |a: &str, r: &str, u: &str| SlaTarget { acknowledge: a.into(), resolve: r.into(), update: u.into() };
        let rule = |sev: &str, level: Level| IntakeRule {
            matches: BTreeMap::from([("severity".to_string(), sev.to_string())]),
            priority: level,
            severity: level,
            category: Category::Performance,
            firing_for: None,
            count: None,
            window: None,
        };
        Config {
            schema: SCHEMA.into(),
            organization: organization.into(),
            clock,
            services: vec![],
            timezone: "UTC".into(),
            sla: Sla {
                targets: BTreeMap::from([
                    (Level::High, target("15m", "4h", "1h")),
                    (Level::Medium, target("1h", "1d", "4h")),
                    (Level::Low, target("4h", "5d", "1d")),
                ]),
                severity_factors: BTreeMap::from([(Level::High, 1.0), (Level::Medium, 1.0), (Level::Low, 1.0)]),
                paused_statuses: vec![super::enums::Status::PendingVendor],
                calendar: "24x7".into(),
                calendars: BTreeMap::from([(
                    "business".to_string(),
                    Calendar {
                        timezone: "UTC".into(),
                        days: ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec(),
                        hours: "09:00-17:00".into(),
                        holidays: vec![],
                    },
                )]),
                service_calendars: BTreeMap::new(),
                warning_threshold: 0.75,
                breach_escalation: EscalationTarget::IncidentManager,
                // Not written by `repo.init/1`, whose output is frozen; see `new_settings`.
                untriaged: None,
            },
            escalation: Escalation { on_high_priority: Some(EscalationTarget::IncidentManager) },
            priority_matrix: None,
            problems: Problems { stability_window: "7d".into() },
            pir: Pir { due_after_close: "5d".into() },
            changes: Changes {
                approvals: BTreeMap::from([(Level::Low, 1), (Level::Medium, 1), (Level::High, 2)]),
                standard_catalogue: vec![],
            },
            intake: Intake {
                rules: vec![rule("critical", Level::High), rule("warning", Level::Medium)],
                service_labels: vec!["service".into(), "job".into()],
                // Not written by `repo.init/1`, whose output is frozen; see `MAX_ALERTS`.
                max_alerts_per_payload: None,
                max_incidents_per_payload: None,
            },
            ungoverned: None,
            notifications: None,
        }
    }

    /// The ungoverned path patterns in force.
    pub fn ungoverned_patterns(&self) -> Vec<String> {
        match &self.ungoverned {
            Some(list) => list.clone(),
            None => DEFAULT_UNGOVERNED.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// The comments `ims init` and `ims config set` write above each top-level key.
    pub const COMMENTS: &'static [(&'static str, &'static str)] = &[
        ("schema", "ims.yaml: every policy setting of this records repository.\nWritten in full by `ims init`; change it only with `ims config set KEY VALUE`."),
        ("clock", "real, or simulated (tests, demos, training: IMS_NOW is honoured)."),
        ("services", "Service names incidents may name; empty means any."),
        ("timezone", "Time zone for report periods and business hours."),
        ("sla", "Acknowledge / resolve / update-cadence targets per priority (m, h, d), tightened by\nseverity (factor per severity); statuses that pause the clock; the default calendar\n(24x7 or a name from calendars: business hours with time zone, days, hours, holidays);\nper-service calendars; warning threshold (fraction of a target); where breaches escalate."),
        ("escalation", "Automatic escalation when an incident is prioritized high (null: none)."),
        ("priority_matrix", "Impact -> urgency -> priority for `prioritize --impact I --urgency U`,\ne.g. {high: {high: high, medium: high, low: medium}, ...}; null: priority is given directly."),
        ("problems", "Time a resolved problem must stay stable before it can be closed."),
        ("pir", "When a post-incident review of a high-priority incident falls due."),
        ("changes", "Distinct approvals a change needs per risk; pre-approved standard changes."),
        ("intake", "Which monitoring alerts open incidents, and as what."),
        ("ungoverned", "Tracked paths ims never reads (CI files, READMEs, docs), changed without a procedure.\nEvery other path is governed: ims.yaml, people/, allowed_signers, records/,\n.gitattributes and templates/ change only through signed procedures; a commit touching\na path that is neither is a verify violation. Patterns: * within a folder, ** any depth."),
        ("notifications", "Email and chat delivery of communications by `ims deliver` (README, Notifications):\nfrom, smtp (host, port, security, username, password_env/_file), chat targets\n(slack or signed webhook, url_env/_file, key_env/_file), recipients per group and\nservice, retry. Secrets are never written here. {}: nothing is sent."),
    ];

    /// Checks what the schema cannot: durations parse, thresholds are sane.
    pub fn check(&self) -> Result<()> {
        for (level, t) in &self.sla.targets {
            for (name, d) in [("acknowledge", &t.acknowledge), ("resolve", &t.resolve), ("update", &t.update)] {
                parse_duration(d).map_err(|e| e.context(format!("sla.targets.{level}.{name}")))?;
            }
        }
        parse_duration(&self.problems.stability_window).map_err(|e| e.context("problems.stability_window"))?;
        parse_duration(&self.pir.due_after_close).map_err(|e| e.context("pir.due_after_close"))?;
        for (i, rule) in self.intake.rules.iter().enumerate() {
            rule.firing_for_secs().map_err(|e| e.context(format!("intake.rules[{i}].for")))?;
            rule.count_window().map_err(|e| e.context(format!("intake.rules[{i}]")))?;
        }
        if let Some(u) = &self.sla.untriaged {
            parse_duration(u).map_err(|e| e.context("sla.untriaged"))?;
        }
        if !(0.0..=1.0).contains(&self.sla.warning_threshold) {
            return Err(Error::invalid("sla.warning_threshold: must be between 0 and 1"));
        }
        for (level, f) in &self.sla.severity_factors {
            if !(*f > 0.0 && *f <= 1.0) {
                return Err(Error::invalid(format!("sla.severity_factors.{level}: must be above 0 and at most 1")));
            }
        }
        for (name, cal) in &self.sla.calendars {
            crate::calendar::Calendar::parse(&cal.spec()).map_err(|e| e.context(format!("sla.calendars.{name}")))?;
        }
        let known = |c: &str| c == "24x7" || self.sla.calendars.contains_key(c);
        if !known(&self.sla.calendar) {
            return Err(Error::invalid(format!(
                "sla.calendar: `{}` is neither 24x7 nor a calendar in sla.calendars",
                self.sla.calendar
            )));
        }
        if let Some(list) = &self.ungoverned {
            for (i, pattern) in list.iter().enumerate() {
                crate::paths::check_ungoverned_pattern(pattern).map_err(|e| e.context(format!("ungoverned[{i}]")))?;
            }
        }
        if let Some(n) = &self.notifications {
            n.check()?;
        }
        for (service, c) in &self.sla.service_calendars {
            if !known(c) {
                return Err(Error::invalid(format!("sla.service_calendars.{service}: no calendar `{c}`")));
            }
        }
        Ok(())
    }
}

/// Parses `15m`, `4h`, `1d`, `2w` (and combinations like `1h30m`) into seconds.
pub fn parse_duration(text: &str) -> Result<i64> {
    let bad = || Error::invalid(format!("`{text}` is not a duration like 15m, 4h, 1d or 1h30m"));
    let mut total: i64 = 0;
    let mut number = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            'w' => 604_800,
            _ => return Err(bad()),
        };
        let n: i64 = number.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || total <= 0 {
        return Err(bad());
    }
    Ok(total)
}

impl Config {
    /// The calendar spec (see [`crate::calendar::Calendar`]) that applies to `service`.
    pub fn calendar_spec(&self, service: &str) -> String {
        let name = self.sla.service_calendars.get(service).unwrap_or(&self.sla.calendar);
        match self.sla.calendars.get(name) {
            Some(c) => c.spec(),
            None => "24x7".into(),
        }
    }
}

/// Formats seconds as the shortest duration text (`1h30m`, `45s`).
pub fn format_duration(mut secs: i64) -> String {
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    if out.is_empty() {
        "0s".into()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m").unwrap(), 900);
        assert_eq!(parse_duration("1h30m").unwrap(), 5400);
        assert_eq!(parse_duration("7d").unwrap(), 604_800);
        for bad in ["", "15", "m", "1x", "0m", "-1h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn defaults_pass_their_own_checks() {
        Config::defaults("Example", Clock::Real).check().unwrap();
    }
}
