//! Reading monitoring payloads: the native event format of CLI.md and Prometheus
//! Alertmanager's webhook (version 4), into the events `event.ingest` records. Only
//! what the policy needs is kept: labels, summary, fingerprint, times.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::event::{derived_fingerprint, AlertSeverity, AlertStatus, EventSource};
use crate::procedures::event::ingest::EventInput;

fn text(v: &Value, field: &str) -> Result<String> {
    v.get(field)
        .and_then(Value::as_str)
        .map(String::from)
        .ok_or_else(|| Error::invalid(format!("event: `{field}` is missing or not text")))
}

fn time(s: &str, field: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::invalid(format!("event: `{field}` is not an RFC 3339 time: {s}")))
}

fn labels(v: Option<&Value>) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    if let Some(map) = v {
        let map = map.as_object().ok_or_else(|| Error::invalid("event: labels must be a map of strings"))?;
        for (k, v) in map {
            let v = v.as_str().ok_or_else(|| Error::invalid(format!("event: label `{k}` is not a string")))?;
            out.insert(k.clone(), v.to_string());
        }
    }
    Ok(out)
}

/// Parses a payload: Alertmanager's webhook, or native events (one or a list), each
/// passing the input checks of `event.ingest`.
pub fn parse(bytes: &[u8], service_labels: &[String]) -> Result<Vec<EventInput>> {
    let events = read(bytes, service_labels)?;
    for e in &events {
        crate::procedures::event::ingest::check(crate::hygiene::Rules::Screening, e)?;
    }
    Ok(events)
}

fn read(bytes: &[u8], service_labels: &[String]) -> Result<Vec<EventInput>> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Error::invalid(format!("payload: not JSON: {e}")))?;
    if value.get("alerts").is_some() {
        return alertmanager(&value, service_labels);
    }
    let items = match value {
        Value::Array(items) => items,
        obj @ Value::Object(_) => vec![obj],
        _ => return Err(Error::invalid("payload: expected an event object or a list of them")),
    };
    if items.is_empty() {
        return Err(Error::invalid("payload: no events"));
    }
    items.iter().map(native).collect()
}

fn native(v: &Value) -> Result<EventInput> {
    let service = text(v, "service")?;
    let alert_type = text(v, "alert_type")?;
    let status = match v.get("status").and_then(Value::as_str) {
        Some(s) => s.parse()?,
        None => AlertStatus::Firing,
    };
    Ok(EventInput {
        fingerprint: match v.get("fingerprint").and_then(Value::as_str) {
            Some(f) => f.to_string(),
            None => derived_fingerprint(&service, &alert_type),
        },
        source: text(v, "source")?.parse()?,
        severity: text(v, "severity")?.parse()?,
        summary: text(v, "summary")?,
        occurred_at: time(&text(v, "occurred_at")?, "occurred_at")?,
        labels: labels(v.get("labels"))?,
        service,
        alert_type,
        status,
    })
}

fn alertmanager(v: &Value, service_labels: &[String]) -> Result<Vec<EventInput>> {
    match v.get("version").and_then(Value::as_str) {
        Some("4") => {}
        other => return Err(Error::invalid(format!("alertmanager payload: version {other:?} is not 4"))),
    }
    let alerts = v
        .get("alerts")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::invalid("alertmanager payload: `alerts` is not a list"))?;
    if alerts.is_empty() {
        return Err(Error::invalid("alertmanager payload: no alerts"));
    }
    let common = labels(v.get("commonLabels"))?;
    alerts
        .iter()
        .map(|a| {
            let mut l = common.clone();
            l.extend(labels(a.get("labels"))?);
            let status: AlertStatus = text(a, "status")?.parse()?;
            let alert_type =
                l.get("alertname").cloned().ok_or_else(|| Error::invalid("alert: no `alertname` label"))?;
            let service = service_labels.iter().find_map(|k| l.get(k).cloned()).ok_or_else(|| {
                Error::invalid(format!("alert {alert_type}: none of the labels {service_labels:?} names its service"))
            })?;
            let annotations = a.get("annotations");
            let summary = ["summary", "description"]
                .iter()
                .find_map(|k| annotations.and_then(|n| n.get(*k)).and_then(Value::as_str))
                .map(String::from)
                .unwrap_or_else(|| alert_type.clone());
            let severity = match l.get("severity").map(String::as_str) {
                Some("critical") => AlertSeverity::Critical,
                Some("warning") => AlertSeverity::Warning,
                _ => AlertSeverity::Info,
            };
            let at = match status {
                AlertStatus::Firing => text(a, "startsAt")?,
                AlertStatus::Resolved => text(a, "endsAt")?,
            };
            Ok(EventInput {
                fingerprint: a
                    .get("fingerprint")
                    .and_then(Value::as_str)
                    .map(String::from)
                    .unwrap_or_else(|| derived_fingerprint(&service, &alert_type)),
                source: EventSource::MonitoringTool,
                occurred_at: time(&at, "startsAt/endsAt")?,
                severity,
                status,
                summary,
                labels: l,
                service,
                alert_type,
            })
        })
        .collect()
}
