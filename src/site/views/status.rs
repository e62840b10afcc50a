//! The status page's view model: each service's state now, its last 90 days, the active
//! incidents with their latest update, and the incident history by day — the page the
//! public site opens on (Statuspage, cState, Upptime).
//!
//! It is built from the incidents this audience may see (for the public, those
//! [`crate::site::audience::is_public`] allows) and their updates as the audience's
//! [`crate::site::View`] filters them: it shows nothing the other public pages withhold.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::model::enums::Level;
use crate::site::incidents::Summary;

/// Days of history per service.
pub const DAYS: usize = 90;
/// The order of a day's list: higher priority first, then by id.
fn worse_first(a: &Input, b: &Input) -> std::cmp::Ordering {
    rank(b.summary.priority).cmp(&rank(a.summary.priority)).then(a.summary.id.cmp(&b.summary.id))
}

/// Incidents named in a day's bar (the rest are counted).
const SHOWN: usize = 5;
/// Days of the incident history listed under the services.
pub const HISTORY_DAYS: usize = 14;

/// How a service stands, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Operational,
    Degraded,
    Outage,
}

impl State {
    /// An open incident's effect on its service: a high-priority one is an outage, any
    /// other (or one not yet prioritized) a degradation.
    pub fn of(priority: Option<Level>) -> State {
        match priority {
            Some(Level::High) => State::Outage,
            _ => State::Degraded,
        }
    }

    fn label(self) -> &'static str {
        match self {
            State::Operational => "Operational",
            State::Degraded => "Degraded",
            State::Outage => "Outage",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct StatusPage {
    pub as_of: String,
    /// The worst state of any service, and what the banner says.
    pub overall: State,
    pub headline: String,
    pub active: Vec<Active>,
    /// How many active incidents are not listed in the banner.
    pub active_more: usize,
    pub services: Vec<Service>,
    pub first_day: String,
    pub history: Vec<HistoryDay>,
}

/// An active incident in the banner.
#[derive(Debug, Serialize)]
pub struct Active {
    pub id: String,
    pub title: String,
    pub service: String,
    pub state: State,
    pub state_label: &'static str,
    pub status: String,
    pub started: String,
    pub update: Option<Update>,
}

#[derive(Debug, Serialize)]
pub struct Update {
    pub at: String,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Service {
    pub name: String,
    pub state: State,
    pub state_label: &'static str,
    /// Days without an incident, of [`DAYS`], as "88 of 90 days without incidents".
    pub clear_days: usize,
    pub days: Vec<Day>,
}

/// One day of a service's history, coloured by its worst incident.
#[derive(Debug, Serialize)]
pub struct Day {
    pub date: String,
    /// `none`, or the worst incident's priority (`low`, `medium`, `high`, `unset`).
    pub level: &'static str,
    /// The worst incident of the day (the bar links to it).
    pub href: Option<String>,
    /// What the bar says on hover, focus and to a screen reader.
    pub text: String,
}

#[derive(Debug, Serialize)]
pub struct HistoryDay {
    pub date: String,
    pub label: String,
    pub incidents: Vec<HistoryIncident>,
}

#[derive(Debug, Serialize)]
pub struct HistoryIncident {
    pub id: String,
    pub title: String,
    pub service: String,
    pub priority: String,
    pub status: String,
    pub resolved: Option<String>,
}

/// One incident as the status page needs it: its summary as the audience may read it,
/// and when it ended (resolved or closed), if it did.
pub struct Input<'a> {
    pub summary: &'a Summary,
    pub title: &'a str,
    pub service: &'a str,
    pub ended: Option<DateTime<Utc>>,
}

fn rank(p: Option<Level>) -> u8 {
    match p {
        Some(Level::High) => 4,
        Some(Level::Medium) => 3,
        Some(Level::Low) => 1,
        None => 2,
    }
}

fn level_name(p: Option<Level>) -> &'static str {
    match p {
        Some(Level::High) => "high",
        Some(Level::Medium) => "medium",
        Some(Level::Low) => "low",
        None => "unset",
    }
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Builds the page. `services` are the configured services (as the audience may read
/// their names); `updates` gives an active incident's latest update the audience may see.
pub fn build(
    inputs: &[Input],
    services: &[String],
    now: DateTime<Utc>,
    tz: chrono_tz::Tz,
    updates: &mut dyn FnMut(&Summary) -> crate::error::Result<Option<Update>>,
) -> crate::error::Result<StatusPage> {
    const BANNER: usize = 20;
    let today = now.with_timezone(&tz).date_naive();
    let first = today - Duration::days(DAYS as i64 - 1);
    let local = |t: DateTime<Utc>| t.with_timezone(&tz).date_naive();
    let mut names: Vec<String> = services.to_vec();
    let mut state: std::collections::HashMap<&str, State> = Default::default();
    // Per service and day: how many incidents it had, and its worst few (highest priority,
    // then id), kept as they come: an incident open for months is on every day of the bars.
    let mut days: std::collections::HashMap<&str, Vec<(usize, Vec<&Input>)>> = Default::default();
    let mut active: Vec<&Input> = Vec::new();
    // (incident, first day, last day) of each incident on the bars.
    let mut spans: Vec<(&Input, usize, usize)> = Vec::new();
    // The bars' first and last instants: most incidents of a large repository are
    // outside them, and need no time-zone arithmetic.
    let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).and_then(|t| t.and_local_timezone(tz).earliest());
    let (bars_from, bars_to) = (start(first), start(today + Duration::days(1)));
    for i in inputs {
        let end = i.ended.unwrap_or(now);
        if i.summary.open() {
            active.push(i);
            let s = state.entry(i.service).or_insert(State::Operational);
            *s = (*s).max(State::of(i.summary.priority));
        }
        let before = bars_from.is_some_and(|f| end < f);
        let after = bars_to.is_some_and(|t| i.summary.created_at >= t);
        if before || after {
            continue;
        }
        let (from, to) = (local(i.summary.created_at), local(end));
        if to < first || from > today {
            continue;
        }
        if !names.iter().any(|n| n == i.service) {
            names.push(i.service.to_string());
        }
        let (a, b) = ((from - first).num_days().max(0) as usize, ((to - first).num_days() as usize).min(DAYS - 1));
        spans.push((i, a, b));
    }
    // Worst first, so a day's first few incidents are its worst: no comparisons per day.
    spans.sort_by(|x, y| worse_first(x.0, y.0));
    for (i, a, b) in spans {
        let row = days.entry(i.service).or_insert_with(|| vec![(0, Vec::new()); DAYS]);
        for (count, worst) in &mut row[a..=b] {
            *count += 1;
            if worst.len() < SHOWN {
                worst.push(i);
            }
        }
    }
    for name in state.keys() {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    }
    let mut out_services = Vec::new();
    for name in names {
        let st = state.get(name.as_str()).copied().unwrap_or(State::Operational);
        let row = days.remove(name.as_str()).unwrap_or_else(|| vec![(0, Vec::new()); DAYS]);
        let mut bars = Vec::with_capacity(DAYS);
        let mut clear = 0;
        for (n, (count, day)) in row.into_iter().enumerate() {
            let date: NaiveDate = first + Duration::days(n as i64);
            let label = date.format("%-d %b %Y").to_string();
            match day.first() {
                None => {
                    clear += 1;
                    bars.push(Day {
                        date: date.to_string(),
                        level: "none",
                        href: None,
                        text: format!("{label}: no incidents"),
                    });
                }
                Some(worst) => {
                    let list: Vec<String> = day
                        .iter()
                        .map(|i| format!("{} ({} priority) {}", i.summary.id, level_name(i.summary.priority), i.title))
                        .collect();
                    let more = if count > SHOWN { format!(" and {} more", count - SHOWN) } else { String::new() };
                    bars.push(Day {
                        date: date.to_string(),
                        level: level_name(worst.summary.priority),
                        href: Some(format!("incidents/{}.html", worst.summary.id)),
                        text: format!("{label}: {}{more}", list.join("; ")),
                    });
                }
            }
        }
        out_services.push(Service { name, state: st, state_label: st.label(), clear_days: clear, days: bars });
    }
    let overall = out_services.iter().map(|s| s.state).max().unwrap_or(State::Operational);
    let headline = match overall {
        State::Operational => "All systems operational".to_string(),
        State::Degraded => "Some services are degraded".to_string(),
        State::Outage => "Service outage".to_string(),
    };
    active.sort_by(|a, b| {
        rank(b.summary.priority).cmp(&rank(a.summary.priority)).then(b.summary.created_at.cmp(&a.summary.created_at))
    });
    let active_more = active.len().saturating_sub(BANNER);
    let mut banner = Vec::new();
    for i in active.into_iter().take(BANNER) {
        let st = State::of(i.summary.priority);
        banner.push(Active {
            id: i.summary.id.clone(),
            title: i.title.to_string(),
            service: i.service.to_string(),
            state: st,
            state_label: st.label(),
            status: i.summary.status.as_str().replace('_', " "),
            started: ts(i.summary.created_at),
            update: updates(i.summary)?,
        });
    }
    // The history: the last days, newest first, each with the incidents opened on it.
    let since = today - Duration::days(HISTORY_DAYS as i64 - 1);
    let mut history: Vec<HistoryDay> = (0..HISTORY_DAYS)
        .map(|n| {
            let date = today - Duration::days(n as i64);
            HistoryDay { date: date.to_string(), label: date.format("%A %-d %B %Y").to_string(), incidents: vec![] }
        })
        .collect();
    let since_at = start(since);
    let recent =
        |i: &&Input| since_at.is_none_or(|s| i.summary.created_at >= s) && local(i.summary.created_at) >= since;
    let mut recent: Vec<&Input> = inputs.iter().filter(recent).collect();
    recent.sort_by(|a, b| b.summary.created_at.cmp(&a.summary.created_at).then(a.summary.id.cmp(&b.summary.id)));
    for i in recent {
        let n = (today - local(i.summary.created_at)).num_days();
        if let Some(day) = usize::try_from(n).ok().and_then(|n| history.get_mut(n)) {
            day.incidents.push(HistoryIncident {
                id: i.summary.id.clone(),
                title: i.title.to_string(),
                service: i.service.to_string(),
                priority: level_name(i.summary.priority).to_string(),
                status: i.summary.status.as_str().replace('_', " "),
                resolved: i.ended.map(ts),
            });
        }
    }
    Ok(StatusPage {
        as_of: ts(now),
        overall,
        headline,
        active: banner,
        active_more,
        services: out_services,
        first_day: first.format("%-d %b %Y").to_string(),
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_high_priority_incident_is_an_outage_and_the_worst_state_wins() {
        assert_eq!(State::of(Some(Level::High)), State::Outage);
        assert_eq!(State::of(Some(Level::Low)), State::Degraded);
        assert_eq!(State::of(None), State::Degraded);
        assert!(State::Outage > State::Degraded && State::Degraded > State::Operational);
    }
}
