//! The view model of the dashboard (`index.html` on the internal site, `dashboard.html`
//! on the public one): this month's KPI cards and table beside the previous month, open
//! incidents by priority and team with the worst listed, the SLA clocks at risk "as of"
//! the build, and monthly charts as inline SVG made at build time.

use serde::Serialize;

use super::report::KpiRow;
use crate::report::Kpis;
use crate::site::escape;

#[derive(Debug, Serialize)]
pub struct Dashboard {
    /// This month's KPIs as `ims report --json` gives them.
    pub kpis: Kpis,
    /// The build's "now": the page depends on it.
    pub as_of: String,
    /// The month, in words (`August 2026`).
    pub period: String,
    pub period_start: Option<String>,
    pub period_end: Option<String>,
    pub kpi_rows: Vec<KpiRow>,
    /// (priority, open incidents), by priority name.
    pub open_by_priority: Vec<(String, usize)>,
    /// (team, open incidents), by team name.
    pub open_by_team: Vec<(String, usize)>,
    pub open_total: usize,
    /// The worst open incidents: highest priority, then newest.
    pub open_list: Vec<OpenIncident>,
    /// The running clocks at risk or in breach as of the build.
    pub sla: Vec<SlaClock>,
    pub charts: Vec<Chart>,
}

#[derive(Debug, Serialize)]
pub struct OpenIncident {
    pub id: String,
    pub title: String,
    pub priority: String,
    pub service: String,
    pub status: String,
}

#[derive(Debug, Serialize)]
pub struct SlaClock {
    pub id: String,
    /// `acknowledge`, `resolve`, `update`, or `acknowledge (untriaged)` for the
    /// `sla.untriaged` clock of an incident not yet prioritized.
    pub clock: String,
    /// `at_risk` or `breached`.
    pub state: crate::sla::ClockState,
    /// `2 h 5 m left` or `15 m over`.
    pub left: String,
}

#[derive(Debug, Serialize)]
pub struct Chart {
    pub title: String,
    /// Inline SVG made by [`bars`], every text in it escaped.
    pub svg: String,
}

/// (value, count) for each distinct value, by value.
pub fn count_by<'a>(items: impl Iterator<Item = &'a str>) -> Vec<(String, usize)> {
    let mut m: std::collections::BTreeMap<&str, usize> = Default::default();
    for i in items {
        *m.entry(i).or_default() += 1;
    }
    m.into_iter().map(|(k, n)| (k.to_string(), n)).collect()
}

/// A bar chart as inline SVG, made at build time: a y axis from 0 with gridlines, the
/// periods along the x axis, a dashed target line when there is one, and a period with
/// no data left as a gap marked "no data" — never drawn as 0. It scales to its box.
pub fn bars(title: &str, unit: &str, data: &[(String, Option<f64>)], target: Option<f64>) -> String {
    let (w, h, left, right, top, bottom) = (640.0, 220.0, 48.0, 12.0, 14.0, 34.0);
    let max = data.iter().filter_map(|d| d.1).chain(target).fold(0.0_f64, f64::max).max(1.0);
    // A round top for the axis: 1, 2 or 5 times a power of ten.
    let step = {
        let raw = max / 4.0;
        let p = 10f64.powf(raw.log10().floor());
        [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * p).find(|s| *s >= raw).unwrap_or(raw)
    };
    let top_value = (max / step).ceil() * step;
    let plot_h = h - top - bottom;
    let y = |v: f64| top + plot_h - plot_h * v / top_value;
    let bw = if data.is_empty() { 0.0 } else { (w - left - right) / data.len() as f64 };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    let mut v = 0.0;
    while v <= top_value + step / 2.0 {
        svg.push_str(&format!(
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - right,
            y(v),
            y(v),
            left - 6.0,
            y(v) + 4.0,
            number(v)
        ));
        v += step;
    }
    svg.push_str(&format!(
        "<text x=\"4\" y=\"10\">{}</text><line class=\"axis\" x1=\"{left}\" x2=\"{left}\" y1=\"{top}\" y2=\"{:.1}\"/><line class=\"axis\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
        escape(unit),
        y(0.0),
        w - right,
        y(0.0),
        y(0.0)
    ));
    // Label every period when they fit, else about eight of them.
    let every = data.len().div_ceil(8).max(1);
    for (i, (label, v)) in data.iter().enumerate() {
        let x = left + i as f64 * bw;
        let mid = x + bw / 2.0;
        match v {
            Some(v) => svg.push_str(&format!(
                "<rect class=\"bar\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"><title>{}: {}</title></rect>",
                x + bw * 0.15,
                y(*v),
                (bw * 0.7).max(1.0),
                y(0.0) - y(*v),
                escape(label),
                number(*v)
            )),
            None => svg.push_str(&format!(
                "<text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"gap\">no data</text>",
                y(0.0) - 6.0
            )),
        }
        if i % every == 0 {
            svg.push_str(&format!(
                "<text x=\"{mid:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                h - bottom + 16.0,
                escape(label)
            ));
        }
    }
    if let Some(t) = target {
        svg.push_str(&format!(
            "<line class=\"target\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">target {}</text>",
            w - right,
            y(t),
            y(t),
            w - right,
            y(t) - 4.0,
            number(t)
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A chart value as people read it: whole numbers plain, others to one decimal.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
