//! KPIs of the policy, computed from records only (never history), exactly as CLI.md
//! defines them, over a reporting period in the configured time zone, with the
//! previous period beside them, outliers, and the state of post-incident reviews.
//!
//! Each incident is reduced to its [`Facts`]; facts are cached by blob id, so a warm
//! report reads no record it has seen before.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::enums::Status;
use crate::model::incident::Incident;

/// The version of the [`Facts`] cache-line format: part of every cache file's name, so a
/// cache written by an older ims is never read as this one.
pub const FACTS_FORMAT: u32 = 3;

/// What a KPI needs from one incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Facts {
    pub id: String,
    pub title: String,
    pub high_priority: bool,
    pub closed: Option<i64>,
    pub created: i64,
    pub acked: Option<i64>,
    pub resolved: Option<i64>,
    /// Its status became `escalated` at least once.
    pub escalated: bool,
    /// Its assigned team or assignee changed after the first assignment.
    pub reassigned: bool,
    /// Resolved by the first team assigned: never escalated, reassigned or reopened.
    pub first_contact: bool,
    pub sla_met: Option<bool>,
    /// The SLA verdict is the source system's own, as an import recorded it.
    pub sla_from_source: bool,
    pub feedback: Option<(u8, i64)>,
    pub problem_ids: Vec<String>,
    pub kb_ids: Vec<String>,
    /// The groups of `ims report --by`: the service, the team holding it now (for a
    /// resolved incident, the team that resolved it), the priority and the category.
    pub service: String,
    pub team: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
}

impl Facts {
    pub fn of(inc: &Incident) -> Result<Facts> {
        let status_changes = || inc.timeline.iter().filter(|e| e.field == "status");
        let escalated = status_changes().any(|e| e.to.as_deref() == Some(Status::Escalated.as_str()));
        // Reopening is resolved → in progress; resolved → closed is the closure, not a reopen.
        let reopened = status_changes().any(|e| {
            e.from.as_deref() == Some(Status::Resolved.as_str()) && e.to.as_deref() != Some(Status::Closed.as_str())
        });
        // The first assignment sets the team (and the assignee) from nothing; any later
        // change of either — assign again, escalate, an SLA escalation — is a reassignment.
        let reassigned = inc
            .timeline
            .iter()
            .any(|e| matches!(e.field.as_str(), "assigned_team" | "assignee") && e.from.is_some() && e.from != e.to);
        Ok(Facts {
            id: inc.incident_id.clone(),
            title: inc.title.clone(),
            high_priority: inc.priority == Some(crate::model::enums::Level::High),
            closed: inc.closed_at.map(|t| t.timestamp()),
            created: inc.created_at.timestamp(),
            acked: inc.acknowledged_at.map(|t| t.timestamp()),
            resolved: inc.resolved_at.map(|t| t.timestamp()),
            escalated,
            reassigned,
            first_contact: inc.resolved_at.is_some() && !escalated && !reopened && !reassigned,
            // An imported incident's SLA verdict as reported by its source, if it gave one.
            sla_met: match inc.source_sla_met {
                Some(met) => Some(met),
                None => crate::sla::met_both(inc)?,
            },
            sla_from_source: inc.source_sla_met.is_some(),
            feedback: inc.feedback.as_ref().map(|f| (f.score, f.at.timestamp())),
            problem_ids: inc.problem_ids.clone(),
            kb_ids: inc.kb_ids.clone(),
            service: inc.service.clone(),
            team: inc.assigned_team.clone(),
            priority: inc.priority.map(|p| p.to_string()),
            category: inc.category.map(|c| c.to_string()),
        })
    }
}

/// Escapes a text for a tab-separated cache line.
pub fn tsv_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\t', "\\t").replace('\n', "\\n")
}

pub fn tsv_unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Facts {
    /// One tab-separated cache line (no newline): fast to write and to read back.
    pub fn to_cache_line(&self) -> Result<String> {
        let opt = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
        let flag = |b: bool| if b { "1" } else { "0" };
        Ok([
            tsv_escape(&self.id),
            tsv_escape(&self.title),
            flag(self.high_priority).into(),
            opt(self.closed),
            self.created.to_string(),
            opt(self.acked),
            opt(self.resolved),
            flag(self.escalated).into(),
            flag(self.reassigned).into(),
            flag(self.first_contact).into(),
            self.sla_met
                .map(|b| format!("{}{}", flag(b), if self.sla_from_source { "s" } else { "" }))
                .unwrap_or_default(),
            self.feedback.map(|(s, at)| format!("{s}@{at}")).unwrap_or_default(),
            self.problem_ids.join(","),
            self.kb_ids.join(","),
            tsv_escape(&self.service),
            tsv_escape(self.team.as_deref().unwrap_or("")),
            self.priority.clone().unwrap_or_default(),
            self.category.clone().unwrap_or_default(),
        ]
        .join("\t"))
    }

    pub fn from_cache_line(text: &str) -> Result<Facts> {
        let bad = || Error::invalid("report cache: a malformed line");
        // Eighteen fields exactly, split without collecting them first.
        let mut cells = text.split('\t');
        let mut f = [""; 18];
        for cell in f.iter_mut() {
            *cell = cells.next().ok_or_else(bad)?;
        }
        if cells.next().is_some() {
            return Err(bad());
        }
        let int = |s: &str| s.parse::<i64>().map_err(|_| bad());
        let opt = |s: &str| if s.is_empty() { Ok(None) } else { int(s).map(Some) };
        let list = |s: &str| if s.is_empty() { vec![] } else { s.split(',').map(String::from).collect() };
        Ok(Facts {
            id: tsv_unescape(f[0]),
            title: tsv_unescape(f[1]),
            high_priority: f[2] == "1",
            closed: opt(f[3])?,
            created: int(f[4])?,
            acked: opt(f[5])?,
            resolved: opt(f[6])?,
            escalated: f[7] == "1",
            reassigned: f[8] == "1",
            first_contact: f[9] == "1",
            sla_met: if f[10].is_empty() { None } else { Some(f[10].starts_with('1')) },
            sla_from_source: f[10].ends_with('s'),
            feedback: match f[11].split_once('@') {
                Some((s, at)) => Some((s.parse().map_err(|_| bad())?, int(at)?)),
                None => None,
            },
            problem_ids: list(f[12]),
            kb_ids: list(f[13]),
            service: tsv_unescape(f[14]),
            team: if f[15].is_empty() { None } else { Some(tsv_unescape(f[15])) },
            priority: if f[16].is_empty() { None } else { Some(f[16].to_string()) },
            category: if f[17].is_empty() { None } else { Some(f[17].to_string()) },
        })
    }

    /// The facts of a record's text: a fast line reader for the canonical form ims
    /// writes, falling back to the full YAML parser for anything else.
    pub fn from_text(text: &str, what: &str) -> Result<Facts> {
        match lite(text) {
            Some(inc) => Facts::of(&inc),
            None => Facts::of(&crate::yaml::from_str::<Incident>(text, what)?),
        }
    }
}

/// Reads the fields facts need from canonical incident YAML; `None` on anything it
/// does not recognise (the caller then parses it fully).
fn lite(text: &str) -> Option<Incident> {
    use crate::model::incident::{Feedback, TimelineEntry};
    fn scalar(v: &str) -> Option<Option<String>> {
        match v {
            "null" => Some(None),
            v if v.starts_with('"') => serde_json::from_str::<String>(v).ok().map(Some),
            v if v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty() => Some(Some(v.to_string())),
            _ => None,
        }
    }
    fn time(v: Option<String>) -> Option<Option<DateTime<Utc>>> {
        match v {
            None => Some(None),
            Some(t) => DateTime::parse_from_rfc3339(&t).ok().map(|t| Some(t.with_timezone(&Utc))),
        }
    }
    let mut inc = crate::model::Incident::blank();
    let mut section = "";
    let mut entry: Option<TimelineEntry> = None;
    let mut feedback: (Option<u8>, Option<DateTime<Utc>>) = (None, None);
    let mut created = None;
    let flush = |entry: &mut Option<TimelineEntry>, inc: &mut Incident| {
        if let Some(e) = entry.take() {
            inc.timeline.push(e);
        }
    };
    for line in text.lines() {
        if line.is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            flush(&mut entry, &mut inc);
            let (key, value) = line.split_once(':')?;
            let value = value.trim_start();
            section = "";
            if value.is_empty() {
                section = match key {
                    "timeline" | "problem_ids" | "kb_ids" | "feedback" => key,
                    _ => "skip",
                };
                continue;
            }
            if value.starts_with('|') {
                section = "skip";
                continue;
            }
            match key {
                "incident_id" => inc.incident_id = scalar(value)??,
                "title" => inc.title = scalar(value)??,
                "priority" => inc.priority = scalar(value)?.and_then(|p| p.parse().ok()),
                "category" => inc.category = scalar(value)?.and_then(|c| c.parse().ok()),
                "service" => inc.service = scalar(value)??,
                "assigned_team" => inc.assigned_team = scalar(value)?,
                "created_at" => created = time(scalar(value)?)?,
                "acknowledged_at" => inc.acknowledged_at = time(scalar(value)?)?,
                "resolved_at" => inc.resolved_at = time(scalar(value)?)?,
                "closed_at" => inc.closed_at = time(scalar(value)?)?,
                "source_sla_met" => inc.source_sla_met = Some(value.parse().ok()?),
                _ => {}
            }
            continue;
        }
        match section {
            "problem_ids" | "kb_ids" => {
                let id = scalar(line.trim_start().strip_prefix("- ")?)??;
                if section == "problem_ids" {
                    inc.problem_ids.push(id)
                } else {
                    inc.kb_ids.push(id)
                }
            }
            "timeline" => {
                let (item_start, rest) = match line.strip_prefix("  - ") {
                    Some(rest) => (true, rest),
                    None => (false, line.strip_prefix("    ")?),
                };
                if item_start {
                    flush(&mut entry, &mut inc);
                    entry = Some(TimelineEntry {
                        at: DateTime::<Utc>::MIN_UTC,
                        by: String::new(),
                        field: String::new(),
                        from: None,
                        to: None,
                    });
                }
                let e = entry.as_mut()?;
                let (key, value) = rest.split_once(": ")?;
                match key {
                    "at" => e.at = time(scalar(value)?)??,
                    "by" => e.by = scalar(value)??,
                    "field" => e.field = scalar(value)??,
                    "from" => e.from = scalar(value)?,
                    "to" => e.to = scalar(value)?,
                    _ => return None,
                }
            }
            "feedback" => {
                let (key, value) = line.trim_start().split_once(": ")?;
                match key {
                    "score" => feedback.0 = value.parse().ok(),
                    "at" => feedback.1 = time(scalar(value)?)?,
                    _ => {}
                }
            }
            _ => {}
        }
    }
    flush(&mut entry, &mut inc);
    inc.created_at = created?;
    if let (Some(score), Some(at)) = feedback {
        inc.feedback = Some(Feedback { score, comment: None, by: String::new(), at });
    }
    if inc.incident_id.is_empty() || inc.timeline.iter().any(|e| e.at == DateTime::<Utc>::MIN_UTC || e.field.is_empty())
    {
        return None;
    }
    Some(inc)
}

/// The length of a reporting period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Daily,
    Weekly,
    Monthly,
}

impl std::str::FromStr for Period {
    type Err = Error;
    fn from_str(s: &str) -> Result<Period> {
        match s {
            "daily" => Ok(Period::Daily),
            "weekly" => Ok(Period::Weekly),
            "monthly" => Ok(Period::Monthly),
            other => Err(Error::invalid(format!("period: `{other}` is not one of daily, weekly, monthly"))),
        }
    }
}

/// A `[start, end)` interval.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// `[start, end)` of the period containing `at`, in `tz`, and of the one before.
pub fn bounds(period: Period, at: DateTime<Utc>, tz: Tz) -> (Span, Span) {
    let day = at.with_timezone(&tz).date_naive();
    let start = match period {
        Period::Daily => day,
        Period::Weekly => day - Duration::days(day.weekday().num_days_from_monday() as i64),
        Period::Monthly => NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("the first exists"),
    };
    let next = |d: NaiveDate| match period {
        Period::Daily => d + Duration::days(1),
        Period::Weekly => d + Duration::days(7),
        Period::Monthly => d.checked_add_months(chrono::Months::new(1)).expect("in range"),
    };
    let prev = match period {
        Period::Daily => start - Duration::days(1),
        Period::Weekly => start - Duration::days(7),
        Period::Monthly => start.checked_sub_months(chrono::Months::new(1)).expect("in range"),
    };
    let utc = |d: NaiveDate| {
        tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .expect("a midnight")
            .with_timezone(&Utc)
    };
    ((utc(start), utc(next(start))), (utc(prev), utc(start)))
}

/// The span a KPI figure is computed over: `[start, end)`, either end open for the whole
/// history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
}

impl Window {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Window {
        Window { start: Some(start), end: Some(end) }
    }

    /// The whole history.
    pub const ALL: Window = Window { start: None, end: None };

    fn bounds(&self) -> (i64, i64) {
        (self.start.map_or(i64::MIN, |t| t.timestamp()), self.end.map_or(i64::MAX, |t| t.timestamp()))
    }
}

/// What one report is about: its window, and the one its figures are compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// `monthly`, `weekly`, `daily`, `range` or `all`.
    pub kind: &'static str,
    pub current: Window,
    pub previous: Option<Window>,
}

impl Selection {
    /// The calendar period containing `at` in `tz`, and the calendar period before it
    /// (February is compared with January, whatever their lengths).
    pub fn calendar(period: Period, at: DateTime<Utc>, tz: Tz) -> Selection {
        let ((s, e), (ps, pe)) = bounds(period, at, tz);
        let kind = match period {
            Period::Daily => "daily",
            Period::Weekly => "weekly",
            Period::Monthly => "monthly",
        };
        Selection { kind, current: Window::new(s, e), previous: Some(Window::new(ps, pe)) }
    }

    /// `[since, until)`, and the span of the same length just before it.
    pub fn range(since: DateTime<Utc>, until: DateTime<Utc>) -> Result<Selection> {
        if until <= since {
            return Err(Error::invalid(format!(
                "--until {}: must be after --since {} (the span is [since, until))",
                until.to_rfc3339(),
                since.to_rfc3339()
            )));
        }
        let len = until - since;
        Ok(Selection {
            kind: "range",
            current: Window::new(since, until),
            previous: Some(Window::new(since - len, since)),
        })
    }

    /// The whole history, compared with nothing.
    pub fn all() -> Selection {
        Selection { kind: "all", current: Window::ALL, previous: None }
    }
}

/// The KPIs of one window. Times in minutes; rates as fractions from 0 to 1; `None`
/// (JSON null) when nothing was counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    /// The window, RFC 3339; null for an open end (`--all`).
    pub start: Option<String>,
    pub end: Option<String>,
    pub incidents_opened: usize,
    pub incidents_resolved: usize,
    pub mtta_minutes: Option<f64>,
    pub mtta_median_minutes: Option<f64>,
    pub mtta_p90_minutes: Option<f64>,
    pub mtta_p95_minutes: Option<f64>,
    pub mttr_minutes: Option<f64>,
    pub mttr_median_minutes: Option<f64>,
    pub mttr_p90_minutes: Option<f64>,
    pub mttr_p95_minutes: Option<f64>,
    pub escalation_rate: Option<f64>,
    pub reassignment_rate: Option<f64>,
    pub sla_compliance: Option<f64>,
    /// How many of the SLA verdicts behind `sla_compliance` are the source system's
    /// own, as reported on import.
    pub sla_verdicts_from_source: usize,
    pub known_error_reuse_rate: Option<f64>,
    pub change_success_rate: Option<f64>,
    pub first_contact_resolution_rate: Option<f64>,
    pub stakeholder_satisfaction: Option<f64>,
}

/// Every KPI key, in the order the text, CSV and site tables show them.
pub const KPI_KEYS: &[&str] = &[
    "incidents_opened",
    "incidents_resolved",
    "mtta_minutes",
    "mtta_median_minutes",
    "mtta_p90_minutes",
    "mtta_p95_minutes",
    "mttr_minutes",
    "mttr_median_minutes",
    "mttr_p90_minutes",
    "mttr_p95_minutes",
    "escalation_rate",
    "reassignment_rate",
    "sla_compliance",
    "known_error_reuse_rate",
    "change_success_rate",
    "first_contact_resolution_rate",
    "stakeholder_satisfaction",
];

/// What the other records contribute.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Problem id → when it became a known error.
    pub known_errors: HashMap<String, i64>,
    /// KB id → when it was first published.
    pub published: HashMap<String, i64>,
    /// Changes reviewed: (when, successful).
    pub change_reviews: Vec<(i64, bool)>,
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The median of sorted values: the middle one, or the mean of the two middle ones.
fn median(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The `p`th percentile of sorted values by the nearest-rank method: the value at rank
/// ⌈p/100 × n⌉ (1-based), so always one of the values.
fn percentile(sorted: &[f64], p: u32) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // Integer arithmetic: ⌈p·n/100⌉ without floating-point rounding at exact ranks.
    let rank = (p as usize * n).div_ceil(100).clamp(1, n);
    Some(sorted[rank - 1])
}

fn rate(hits: usize, of: usize) -> Option<f64> {
    (of > 0).then(|| hits as f64 / of as f64)
}

/// Rounds to 4 decimals so JSON stays readable and stable.
fn round(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 10_000.0).round() / 10_000.0)
}

/// Mean, median, 90th and 95th percentile.
fn spread(mut v: Vec<f64>) -> [Option<f64>; 4] {
    v.sort_by(|a, b| a.total_cmp(b));
    [round(mean(&v)), round(median(&v)), round(percentile(&v, 90)), round(percentile(&v, 95))]
}

/// The KPIs over `window`: the one engine behind `ims report` (text, JSON, CSV) and
/// every KPI the site shows.
pub fn kpis(facts: &[Facts], ctx: &Context, window: Window) -> Kpis {
    let refs: Vec<&Facts> = facts.iter().collect();
    kpis_of(&refs, ctx, window, true)
}

/// [`kpis`] of facts held elsewhere (the site keeps them in its incident summaries).
pub fn kpis_of_refs(facts: &[&Facts], ctx: &Context, window: Window) -> Kpis {
    kpis_of(facts, ctx, window, true)
}

fn kpis_of(facts: &[&Facts], ctx: &Context, window: Window, with_changes: bool) -> Kpis {
    let (s, e) = window.bounds();
    let within = |t: i64| t >= s && t < e;
    let opened: Vec<&Facts> = facts.iter().copied().filter(|f| within(f.created)).collect();
    let acked: Vec<f64> =
        facts.iter().filter_map(|f| f.acked.filter(|a| within(*a)).map(|a| (a - f.created) as f64 / 60.0)).collect();
    let resolved: Vec<(&Facts, i64)> =
        facts.iter().filter_map(|f| f.resolved.filter(|r| within(*r)).map(|r| (*f, r))).collect();
    let ttr: Vec<f64> = resolved.iter().map(|(f, r)| (r - f.created) as f64 / 60.0).collect();
    let with_sla: Vec<bool> = resolved.iter().filter_map(|(f, _)| f.sla_met).collect();
    let sla_from_source = resolved.iter().filter(|(f, _)| f.sla_met.is_some() && f.sla_from_source).count();
    let reused = resolved
        .iter()
        .filter(|(f, at)| {
            f.problem_ids.iter().any(|p| ctx.known_errors.get(p).is_some_and(|k| k <= at))
                || f.kb_ids.iter().any(|k| ctx.published.get(k).is_some_and(|p| p <= at))
        })
        .count();
    let reviews: Vec<bool> = if with_changes {
        ctx.change_reviews.iter().filter(|(t, _)| within(*t)).map(|(_, ok)| *ok).collect()
    } else {
        vec![]
    };
    let scores: Vec<f64> =
        facts.iter().filter_map(|f| f.feedback.filter(|(_, at)| within(*at)).map(|(s, _)| s as f64)).collect();
    let fmt = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let [mtta, mtta_median, mtta_p90, mtta_p95] = spread(acked);
    let [mttr, mttr_median, mttr_p90, mttr_p95] = spread(ttr);
    let count = |pred: fn(&Facts) -> bool| resolved.iter().filter(|(f, _)| pred(f)).count();
    Kpis {
        start: fmt(window.start),
        end: fmt(window.end),
        incidents_opened: opened.len(),
        incidents_resolved: resolved.len(),
        mtta_minutes: mtta,
        mtta_median_minutes: mtta_median,
        mtta_p90_minutes: mtta_p90,
        mtta_p95_minutes: mtta_p95,
        mttr_minutes: mttr,
        mttr_median_minutes: mttr_median,
        mttr_p90_minutes: mttr_p90,
        mttr_p95_minutes: mttr_p95,
        escalation_rate: round(rate(opened.iter().filter(|f| f.escalated).count(), opened.len())),
        reassignment_rate: round(rate(count(|f| f.reassigned), resolved.len())),
        sla_compliance: round(rate(with_sla.iter().filter(|m| **m).count(), with_sla.len())),
        sla_verdicts_from_source: sla_from_source,
        known_error_reuse_rate: round(rate(reused, resolved.len())),
        change_success_rate: round(rate(reviews.iter().filter(|ok| **ok).count(), reviews.len())),
        first_contact_resolution_rate: round(rate(count(|f| f.first_contact), resolved.len())),
        stakeholder_satisfaction: round(mean(&scores)),
    }
}

/// What `ims report --by` groups incidents by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    Service,
    Team,
    Priority,
    Category,
}

impl std::str::FromStr for By {
    type Err = Error;
    fn from_str(s: &str) -> Result<By> {
        match s {
            "service" => Ok(By::Service),
            "team" => Ok(By::Team),
            "priority" => Ok(By::Priority),
            "category" => Ok(By::Category),
            other => Err(Error::invalid(format!("--by: `{other}` is not one of service, team, priority, category"))),
        }
    }
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Service => "service",
            By::Team => "team",
            By::Priority => "priority",
            By::Category => "category",
        }
    }

    /// The group an incident belongs to: exactly one, `unset` when it has none.
    pub fn group_of(self, f: &Facts) -> String {
        let v = match self {
            By::Service => Some(f.service.as_str()),
            By::Team => f.team.as_deref(),
            By::Priority => f.priority.as_deref(),
            By::Category => f.category.as_deref(),
        };
        v.filter(|v| !v.is_empty()).unwrap_or("unset").to_string()
    }
}

/// One row of KPIs per group that has anything in `window` (an incident opened,
/// acknowledged, resolved or given feedback in it), sorted by group name. Each incident
/// is in exactly one group, so the counts of the rows add up to the total; changes
/// belong to no incident group, so `change_success_rate` is only in the total.
pub fn by_group(facts: &[Facts], ctx: &Context, by: By, window: Window) -> Vec<(String, Kpis)> {
    let (s, e) = window.bounds();
    let within = |t: i64| t >= s && t < e;
    let mut groups: std::collections::BTreeMap<String, Vec<&Facts>> = std::collections::BTreeMap::new();
    for f in facts {
        let touched = within(f.created)
            || f.acked.is_some_and(within)
            || f.resolved.is_some_and(within)
            || f.feedback.is_some_and(|(_, at)| within(at));
        if touched {
            groups.entry(by.group_of(f)).or_default().push(f);
        }
    }
    groups.into_iter().map(|(g, members)| (g, kpis_of(&members, ctx, window, false))).collect()
}

/// Incidents resolved in the window whose resolution took longer than the window's
/// 95th percentile (nearest rank).
pub fn outliers(facts: &[Facts], window: Window) -> Vec<(String, f64)> {
    let (s, e) = window.bounds();
    let mut ttr: Vec<(String, f64)> = facts
        .iter()
        .filter_map(|f| f.resolved.filter(|r| *r >= s && *r < e).map(|r| (f.id.clone(), (r - f.created) as f64 / 60.0)))
        .collect();
    if ttr.len() < 2 {
        return vec![];
    }
    let mut sorted: Vec<f64> = ttr.iter().map(|x| x.1).collect();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let p95 = percentile(&sorted, 95).unwrap_or(f64::MAX);
    ttr.retain(|(_, m)| *m > p95);
    ttr
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn periods_follow_the_time_zone() {
        let tz: Tz = "Europe/Paris".parse().unwrap();
        let ((s, e), (ps, pe)) = bounds(Period::Monthly, t("2026-11-30T23:30:00Z"), tz);
        // 00:30 on 1 December in Paris: December.
        assert_eq!((s, e), (t("2026-11-30T23:00:00Z"), t("2026-12-31T23:00:00Z")));
        assert_eq!((ps, pe), (t("2026-10-31T23:00:00Z"), t("2026-11-30T23:00:00Z")));
        let ((s, _), _) = bounds(Period::Weekly, t("2026-11-26T12:00:00Z"), chrono_tz::UTC);
        assert_eq!(s, t("2026-11-23T00:00:00Z"), "weeks start on Monday");
    }

    #[test]
    fn the_fast_reader_agrees_with_the_yaml_parser() {
        let text = include_str!("../../../tests/schemas/valid/incident-closed-high.yaml");
        let full = Facts::of(&crate::yaml::from_str::<Incident>(text, "t").unwrap()).unwrap();
        assert!(lite(text).is_some(), "canonical records take the fast path");
        assert_eq!(Facts::from_text(text, "t").unwrap(), full);
        // Anything unexpected falls back to the full parser.
        let odd = text.replace("title: \"", "title:   \"");
        assert_eq!(Facts::from_text(&odd, "t").unwrap(), full);
    }

    #[test]
    fn cache_lines_round_trip() {
        let text = include_str!("../../../tests/schemas/valid/incident-closed-high.yaml");
        let mut f = Facts::from_text(text, "t").unwrap();
        f.title = "tab\there, newline\nthere, back\\slash".into();
        assert_eq!(Facts::from_cache_line(&f.to_cache_line().unwrap()).unwrap(), f);
    }

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&[1.0, 2.0, 3.0]), Some(2.0));
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        assert_eq!(rate(0, 0), None);
        // Nearest rank: ⌈p·n/100⌉. 10 values: p90 is the 9th, p95 the 10th.
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!((percentile(&ten, 90), percentile(&ten, 95)), (Some(9.0), Some(10.0)));
        // 20 values: exactly at rank 18 and 19, no rounding up past them.
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!((percentile(&twenty, 90), percentile(&twenty, 95)), (Some(18.0), Some(19.0)));
        assert_eq!(percentile(&[7.0], 95), Some(7.0));
        assert_eq!(percentile(&[], 90), None);
    }
}
