//! The view model of a report page (`reports/2026-08.html`, `reports/week-….html`,
//! `reports/2026-08-03.html`): every KPI of `ims report --json` for one calendar period
//! beside the previous one, as people read it and exactly as the JSON prints it. The
//! dashboard shows the same rows for the current month.

use serde::Serialize;
use serde_json::Value;

use crate::report::Kpis;

#[derive(Debug, Serialize)]
pub struct ReportPage {
    /// The period: `2026-08`, `week-2026-W32` or `2026-08-03`.
    pub label: String,
    pub period_start: Option<String>,
    /// The end, excluded.
    pub period_end: Option<String>,
    pub kpi_rows: Vec<KpiRow>,
}

/// One KPI of a period, beside the previous period's.
#[derive(Debug, Clone, Serialize)]
pub struct KpiRow {
    /// The key of `ims report --json`.
    pub key: &'static str,
    pub label: &'static str,
    /// The value exactly as `ims report --json` prints it (for `data-value`), "—" when none.
    pub value: String,
    pub previous: String,
    /// As people read it: 14 h 42 m, 46 %, 3.6 / 5.
    pub human: String,
    pub previous_human: String,
    /// `better`, `worse`, `same`, or empty when the KPI has no better direction or a side has no value.
    pub trend: &'static str,
    /// `higher is better`, `lower is better`, or empty.
    pub direction: &'static str,
}

impl ReportPage {
    pub fn new(label: String, k: &Kpis, previous: Option<&Kpis>) -> ReportPage {
        ReportPage { label, period_start: k.start.clone(), period_end: k.end.clone(), kpi_rows: kpi_rows(k, previous) }
    }
}

/// How a KPI reads: `minutes` as a duration, `rate` as a percentage, `score` out of 5.
fn kpi_unit(key: &str) -> &'static str {
    match key {
        k if k.ends_with("_minutes") => "minutes",
        k if k.ends_with("_rate") || k == "sla_compliance" => "rate",
        "stakeholder_satisfaction" => "score",
        _ => "count",
    }
}

/// A KPI value as people read it: 14 h 42 m, 46 %, 3.6 / 5; "—" when there is no data.
fn kpi_human(key: &str, v: &Value) -> String {
    let Some(x) = v.as_f64() else { return "—".into() };
    match kpi_unit(key) {
        "minutes" => super::incident::human_duration((x * 60.0).round() as i64),
        "rate" => format!("{} %", (x * 100.0).round()),
        "score" => format!("{x:.1} / 5"),
        _ => super::dashboard::number(x),
    }
}

/// Whether a higher value of the KPI is better (`None`: neither, as for counts).
fn kpi_higher_is_better(key: &str) -> Option<bool> {
    match kpi_unit(key) {
        "minutes" => Some(false),
        "rate" if key == "escalation_rate" || key == "reassignment_rate" => Some(false),
        "rate" | "score" => Some(true),
        _ => None,
    }
}

/// The KPI table of a page: every key of `ims report --json`, its value as people read
/// it, with the value exactly as that JSON prints it in `data-value` (so a reader or a
/// test can compare them digit for digit), and whether it moved the better way.
pub fn kpi_rows(k: &Kpis, p: Option<&Kpis>) -> Vec<KpiRow> {
    let kv = serde_json::to_value(k).unwrap_or_default();
    let pv = p.map(|p| serde_json::to_value(p).unwrap_or_default()).unwrap_or_default();
    let cell = |v: &Value| if v.is_null() { "—".to_string() } else { v.to_string() };
    let label = |key: &'static str| -> &'static str {
        match key {
            "incidents_opened" => "Incidents opened",
            "incidents_resolved" => "Incidents resolved",
            "mtta_minutes" => "Time to acknowledge, mean",
            "mtta_median_minutes" => "Time to acknowledge, median",
            "mtta_p90_minutes" => "Time to acknowledge, 90th percentile",
            "mtta_p95_minutes" => "Time to acknowledge, 95th percentile",
            "mttr_minutes" => "Time to resolve (MTTR), mean",
            "mttr_median_minutes" => "Time to resolve, median",
            "mttr_p90_minutes" => "Time to resolve, 90th percentile",
            "mttr_p95_minutes" => "Time to resolve, 95th percentile",
            "escalation_rate" => "Escalation rate",
            "reassignment_rate" => "Reassignment rate",
            "sla_compliance" => "SLA compliance",
            "known_error_reuse_rate" => "Known-error reuse",
            "change_success_rate" => "Change success",
            "first_contact_resolution_rate" => "First contact resolution",
            "stakeholder_satisfaction" => "Stakeholder satisfaction",
            other => other,
        }
    };
    crate::report::KPI_KEYS
        .iter()
        .map(|key| {
            let (now, before) = (&kv[*key], &pv[*key]);
            let trend = match (now.as_f64(), before.as_f64(), kpi_higher_is_better(key)) {
                (Some(a), Some(b), Some(up)) if (a - b).abs() > f64::EPSILON => {
                    if (a > b) == up {
                        "better"
                    } else {
                        "worse"
                    }
                }
                (Some(_), Some(_), Some(_)) => "same",
                _ => "",
            };
            let direction = match kpi_higher_is_better(key) {
                Some(true) => "higher is better",
                Some(false) => "lower is better",
                None => "",
            };
            KpiRow {
                key,
                label: label(key),
                value: cell(now),
                previous: cell(before),
                human: kpi_human(key, now),
                previous_human: kpi_human(key, before),
                trend,
                direction,
            }
        })
        .collect()
}
