//! Working calendars: when an SLA clock runs. A leaf of the pure layer (chrono and the
//! error type only), so the settings can check a calendar and the SLA arithmetic can use
//! one without depending on each other.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, Result};

/// When the clock runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Calendar {
    /// Around the clock.
    Always,
    /// Working hours in a time zone, on some weekdays, except holidays.
    Business { tz: Tz, days: [bool; 7], start: NaiveTime, end: NaiveTime, holidays: HashSet<NaiveDate> },
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Calendar {
    /// Parses the spec text a record carries: `24x7`, or
    /// `tz=Europe/Paris days=mon,tue,wed,thu,fri hours=09:00-17:00 holidays=2026-12-25`
    /// (see `model::config::Calendar::spec`).
    pub fn parse(spec: &str) -> Result<Calendar> {
        let spec = spec.trim();
        if spec == "24x7" {
            return Ok(Calendar::Always);
        }
        let bad = |what: &str| Error::invalid(format!("calendar `{spec}`: {what}"));
        let mut tz = None;
        let mut days = [false; 7];
        let mut hours = None;
        let mut holidays = HashSet::new();
        for part in spec.split_whitespace() {
            let (k, v) = part.split_once('=').ok_or_else(|| bad("expected key=value parts"))?;
            match k {
                "tz" => tz = Some(v.parse::<Tz>().map_err(|_| bad(&format!("unknown time zone `{v}`")))?),
                "days" => {
                    for d in v.split(',').filter(|d| !d.is_empty()) {
                        let i = DAYS.iter().position(|x| *x == d).ok_or_else(|| bad(&format!("unknown day `{d}`")))?;
                        days[i] = true;
                    }
                }
                "hours" => {
                    let (a, b) = v.split_once('-').ok_or_else(|| bad("hours must be HH:MM-HH:MM"))?;
                    let t =
                        |x: &str| NaiveTime::parse_from_str(x, "%H:%M").map_err(|_| bad("hours must be HH:MM-HH:MM"));
                    let (a, b) = (t(a)?, t(b)?);
                    if a >= b {
                        return Err(bad("working hours must end after they start"));
                    }
                    hours = Some((a, b));
                }
                "holidays" => {
                    for d in v.split(',').filter(|d| !d.is_empty()) {
                        holidays.insert(
                            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                                .map_err(|_| bad(&format!("holiday `{d}` is not a date")))?,
                        );
                    }
                }
                other => return Err(bad(&format!("unknown part `{other}`"))),
            }
        }
        let (start, end) = hours.ok_or_else(|| bad("no hours"))?;
        if !days.iter().any(|d| *d) {
            return Err(bad("no working days"));
        }
        Ok(Calendar::Business { tz: tz.ok_or_else(|| bad("no tz"))?, days, start, end, holidays })
    }

    /// The working intervals (UTC) that overlap `[from, to)`.
    pub(crate) fn windows(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        match self {
            Calendar::Always => vec![(from, to)],
            Calendar::Business { tz, days, start, end, holidays } => {
                let mut out = Vec::new();
                let first = from.with_timezone(tz).date_naive() - Duration::days(1);
                let last = to.with_timezone(tz).date_naive() + Duration::days(1);
                let mut day = first;
                while day <= last {
                    let weekday = day.weekday().num_days_from_monday() as usize;
                    if days[weekday] && !holidays.contains(&day) {
                        let local = |t: NaiveTime| tz.from_local_datetime(&day.and_time(t)).earliest();
                        if let (Some(a), Some(b)) = (local(*start), local(*end)) {
                            let (a, b) = (a.with_timezone(&Utc).max(from), b.with_timezone(&Utc).min(to));
                            if a < b {
                                out.push((a, b));
                            }
                        }
                    }
                    day += Duration::days(1);
                }
                out
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("a test time").with_timezone(&Utc)
    }

    #[test]
    fn time_zones_and_bad_calendars() {
        let paris = Calendar::parse("tz=Europe/Paris days=mon hours=09:00-10:00 holidays=").unwrap();
        // Monday 30 November 2026, 09:00 in Paris is 08:00 UTC.
        let w = paris.windows(t("2026-11-30T00:00:00Z"), t("2026-11-30T23:00:00Z"));
        assert_eq!(w, vec![(t("2026-11-30T08:00:00Z"), t("2026-11-30T09:00:00Z"))]);
        for bad in [
            "tz=Mars/Base days=mon hours=09:00-10:00",
            "tz=UTC days=funday hours=09:00-10:00",
            "tz=UTC days=mon hours=10:00-09:00",
        ] {
            assert!(Calendar::parse(bad).is_err(), "{bad}");
        }
    }
}
