//! CSV exports mapped to incidents by a mapping file: one row per incident (`tickets`),
//! or one row per state change of an incident (`events`, as ServiceNow's incident audit
//! export and process-mining logs are).
//!
//! The archive keeps only the columns the mapping uses (data minimization).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{incident_id, lenient_time, Imported, Read, Skipped, UNKNOWN};
use crate::error::{Error, Result};
use crate::hygiene::{self, Shape};
use crate::model::enums::{Category, Level, Source, Status, Team};

/// What a row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rows {
    /// One row per incident.
    Tickets,
    /// One row per state change of an incident.
    Events,
}

/// Which column holds what. Only `id` is always required; `time` for events, `opened`
/// for tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub id: String,
    pub time: Option<String>,
    pub opened: Option<String>,
    pub acknowledged: Option<String>,
    pub resolved: Option<String>,
    pub closed: Option<String>,
    pub state: Option<String>,
    pub priority: Option<String>,
    pub category: Option<String>,
    pub group: Option<String>,
    pub level: Option<String>,
    pub reassignments: Option<String>,
    pub reporter: Option<String>,
    pub assignee: Option<String>,
    pub actor: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub service: Option<String>,
    pub source: Option<String>,
}

impl Columns {
    /// The columns the mapping uses, in a fixed order.
    pub fn used(&self) -> Vec<&str> {
        let mut out = vec![self.id.as_str()];
        for c in [
            &self.time,
            &self.opened,
            &self.acknowledged,
            &self.resolved,
            &self.closed,
            &self.state,
            &self.priority,
            &self.category,
            &self.group,
            &self.level,
            &self.reassignments,
            &self.reporter,
            &self.assignee,
            &self.actor,
            &self.title,
            &self.description,
            &self.service,
            &self.source,
        ]
        .into_iter()
        .flatten()
        {
            if !out.contains(&c.as_str()) {
                out.push(c);
            }
        }
        out
    }
}

/// A mapping file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub rows: Rows,
    pub columns: Columns,
    /// `rfc3339` (lenient: a space for `T`, no offset) or a chrono format such as
    /// `%d/%m/%Y %H:%M:%S`.
    #[serde(default = "rfc3339")]
    pub time_format: String,
    /// The zone of times written without an offset.
    #[serde(default = "utc")]
    pub timezone: String,
    /// Source state → ims status; a state not listed rejects its incident.
    pub states: BTreeMap<String, Status>,
    #[serde(default)]
    pub priorities: BTreeMap<String, Level>,
    #[serde(default)]
    pub categories: BTreeMap<String, Category>,
    /// Assignment group or support level → ims team (others are kept by name in the
    /// timeline, with no team on the record).
    #[serde(default)]
    pub teams: BTreeMap<String, Team>,
    #[serde(default)]
    pub sources: BTreeMap<String, Source>,
    /// The service of incidents whose row names none.
    pub default_service: Option<String>,
}

fn rfc3339() -> String {
    "rfc3339".into()
}

fn utc() -> String {
    "UTC".into()
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Mapping> {
        let m: Mapping = crate::yaml::from_str(text, "mapping")?;
        m.check()?;
        Ok(m)
    }

    pub fn check(&self) -> Result<()> {
        match self.rows {
            Rows::Events if self.columns.time.is_none() => {
                return Err(Error::invalid("mapping: rows: events needs columns.time"));
            }
            Rows::Tickets if self.columns.opened.is_none() => {
                return Err(Error::invalid("mapping: rows: tickets needs columns.opened"));
            }
            _ => {}
        }
        if self.columns.state.is_some() && self.states.is_empty() {
            return Err(Error::invalid("mapping: columns.state needs `states` (source value → ims status)"));
        }
        self.zone()?;
        Ok(())
    }

    fn zone(&self) -> Result<chrono_tz::Tz> {
        self.timezone.parse().map_err(|_| Error::invalid(format!("mapping: timezone `{}` is unknown", self.timezone)))
    }

    fn time(&self, zone: chrono_tz::Tz, text: &str) -> std::result::Result<DateTime<Utc>, String> {
        if self.time_format == "rfc3339" {
            return lenient_time(text, zone).map(|t| t.0).map_err(|e| e.message);
        }
        let naive = NaiveDateTime::parse_from_str(text.trim(), &self.time_format)
            .map_err(|e| format!("`{text}` does not match the time format `{}`: {e}", self.time_format))?;
        zone.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| format!("`{text}` does not exist in {zone}"))
    }
}

/// One row, by column name.
struct Row<'a> {
    line: usize,
    cells: &'a HashMap<&'a str, usize>,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    fn get(&self, column: &Option<String>) -> Option<&str> {
        let i = *self.cells.get(column.as_deref()?)?;
        self.record.get(i).map(str::trim).filter(|v| !v.is_empty())
    }
}

fn mapped<T: Copy>(
    table: &BTreeMap<String, T>,
    what: &str,
    value: Option<&str>,
) -> std::result::Result<Option<T>, String> {
    match value {
        None => Ok(None),
        Some(v) => table.get(v).copied().map(Some).ok_or_else(|| format!("{what} `{v}` is not in the mapping")),
    }
}

/// Writes the minimized source: the columns the mapping uses, in the order the mapping
/// lists them. Rows whose used cells fail the input checks (control characters,
/// secrets, size) are left out and reported.
pub fn minimize(source: &[u8], mapping: &Mapping) -> Result<(Vec<u8>, Vec<Skipped>)> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(source);
    let headers = reader.headers().map_err(|e| Error::invalid(format!("csv: {e}")))?.clone();
    let used = mapping.columns.used();
    let mut index = Vec::new();
    for c in &used {
        let i = headers.iter().position(|h| h.trim() == *c).ok_or_else(|| {
            Error::invalid(format!(
                "csv: the mapping's column `{c}` is not in the header ({})",
                headers.iter().collect::<Vec<_>>().join(", ")
            ))
        })?;
        index.push(i);
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(&used).map_err(|e| Error::internal(format!("csv: {e}")))?;
    let mut skipped = Vec::new();
    let text_columns = [&mapping.columns.description];
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| Error::invalid(format!("csv line {line}: {e}")))?;
        let cells: Vec<&str> = index.iter().map(|i| record.get(*i).unwrap_or("")).collect();
        let bad = used.iter().zip(&cells).find_map(|(c, v)| {
            let shape = if text_columns.iter().any(|t| t.as_deref() == Some(*c)) { Shape::Text } else { Shape::Line };
            hygiene::optional(c, Some(v), shape).err()
        });
        match bad {
            Some(e) => skipped.push(Skipped { item: format!("line {line}"), reason: e.message }),
            None => out.write_record(&cells).map_err(|e| Error::internal(format!("csv: {e}")))?,
        }
    }
    Ok((out.into_inner().map_err(|e| Error::internal(format!("csv: {e}")))?, skipped))
}

/// Reads a minimized source with its mapping.
pub fn read(source: &[u8], mapping: &Mapping, actor: &str, now: DateTime<Utc>) -> Result<Read> {
    let zone = mapping.zone()?;
    let mut reader = csv::ReaderBuilder::new().from_reader(source);
    let headers = reader.headers().map_err(|e| Error::invalid(format!("csv: {e}")))?.clone();
    let cells: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    let records: Vec<csv::StringRecord> =
        reader.records().collect::<std::result::Result<_, _>>().map_err(|e| Error::invalid(format!("csv: {e}")))?;
    // Rows by incident, in file order.
    let mut order: Vec<&str> = Vec::new();
    let mut rows: HashMap<&str, Vec<Row>> = HashMap::new();
    let mut read = Read::default();
    for (n, record) in records.iter().enumerate() {
        let row = Row { line: n + 2, cells: &cells, record };
        let id = cells
            .get(mapping.columns.id.as_str())
            .and_then(|i| record.get(*i))
            .map(str::trim)
            .filter(|v| !v.is_empty());
        let Some(id) = id else {
            read.rejected.push(Skipped { item: format!("line {}", n + 2), reason: "no incident id".into() });
            continue;
        };
        if !rows.contains_key(id) {
            order.push(id);
        }
        rows.entry(id).or_default().push(row);
    }
    for id in order {
        let group = rows.remove(id).unwrap_or_default();
        match incident(id, group, mapping, zone, actor, now) {
            Ok(i) => read.imported.push(i),
            Err(reason) => read.rejected.push(Skipped { item: id.to_string(), reason }),
        }
    }
    Ok(read)
}

fn incident(
    id: &str,
    rows: Vec<Row>,
    m: &Mapping,
    zone: chrono_tz::Tz,
    actor: &str,
    now: DateTime<Utc>,
) -> std::result::Result<Imported, String> {
    let c = &m.columns;
    let time = |row: &Row, column: &Option<String>| -> std::result::Result<Option<DateTime<Utc>>, String> {
        row.get(column).map(|t| m.time(zone, t).map_err(|e| format!("line {}: {e}", row.line))).transpose()
    };
    // Events in time order (stable: rows at the same time keep file order).
    let mut timed = Vec::with_capacity(rows.len());
    for row in rows {
        let t = match m.rows {
            Rows::Events => time(&row, &c.time)?.ok_or(format!("line {}: no time", row.line))?,
            Rows::Tickets => time(&row, &c.opened)?.ok_or(format!("line {}: no opened time", row.line))?,
        };
        if t > now {
            return Err(format!("line {}: {} is in the future", row.line, t.to_rfc3339()));
        }
        timed.push((t, row));
    }
    timed.sort_by_key(|(t, _)| *t);
    if m.rows == Rows::Tickets && timed.len() > 1 {
        return Err(format!("{} rows for one incident in a `tickets` export", timed.len()));
    }
    let (first_time, first) = &timed[0];
    let created = match c.opened.as_ref().and_then(|_| first.get(&c.opened)) {
        Some(_) => time(first, &c.opened)?.unwrap_or(*first_time),
        None => *first_time,
    };
    let key = format!("csv:{id}");
    let iid = incident_id(&key, created);
    let mut inc = crate::model::Incident {
        incident_id: iid,
        reporter: UNKNOWN.into(),
        reported_by: actor.into(),
        created_at: created,
        updated_at: created,
        ..crate::procedures::incident::blank()
    };
    let text = |field: &str, v: &str, shape| hygiene::text(field, v, shape).map_err(|e| e.message);
    let mut state: Option<Status> = None;
    let mut team_name: Option<String> = None;
    let mut level_name: Option<String> = None;
    let mut service = None;
    for (t, row) in &timed {
        let t = (*t).max(created);
        let by = row.get(&c.actor).unwrap_or(UNKNOWN).to_string();
        if let Some(v) = row.get(&c.title) {
            inc.title = text("title", v, Shape::Line)?;
        }
        if let Some(v) = row.get(&c.description) {
            inc.description = Some(text("description", v, Shape::Text)?);
        }
        if let Some(v) = row.get(&c.service) {
            service = Some(text("service", v, Shape::Line)?);
        }
        if let Some(v) = row.get(&c.reporter) {
            inc.reporter = text("reporter", v, Shape::Line)?;
        }
        if let Some(v) = row.get(&c.assignee) {
            let v = text("assignee", v, Shape::Line)?;
            inc.track(t, &by, "assignee", inc.assignee.clone(), Some(v.clone()));
            inc.assignee = Some(v);
        }
        if let Some(s) = mapped(&m.sources, "source", row.get(&c.source))? {
            inc.source = s;
        }
        if let Some(cat) = mapped(&m.categories, "category", row.get(&c.category))? {
            inc.track(t, &by, "category", inc.category.map(|x| x.to_string()), Some(cat.to_string()));
            inc.category = Some(cat);
        }
        if let Some(p) = mapped(&m.priorities, "priority", row.get(&c.priority))? {
            inc.track(t, &by, "priority", inc.priority.map(|x| x.to_string()), Some(p.to_string()));
            inc.priority = Some(p);
            inc.severity = Some(p);
            inc.priority_justification = Some(format!("imported priority {}", row.get(&c.priority).unwrap_or("")));
        }
        // Reassignment to another group, or another support level: an escalation.
        let mut escalated = false;
        for (column, current) in [(&c.group, &mut team_name), (&c.level, &mut level_name)] {
            let Some(v) = row.get(column) else { continue };
            if current.as_deref() != Some(v) {
                inc.track(t, &by, "assigned_team", current.clone(), Some(v.to_string()));
                escalated |= current.is_some();
                *current = Some(v.to_string());
                if let Some(team) = m.teams.get(v) {
                    inc.assigned_team = Some(team.to_string());
                }
            }
        }
        let open = !inc.status.is_done();
        if escalated && open && !inc.timeline.is_empty() && inc.status != Status::Escalated {
            inc.set_status(t, &by, Status::Escalated);
        }
        // The state the source gives this row.
        let row_state = mapped(&m.states, "state", row.get(&c.state))?;
        let mut steps: Vec<(DateTime<Utc>, Status)> = Vec::new();
        if m.rows == Rows::Tickets {
            steps.push((created, Status::Open));
            for (column, status) in
                [(&c.acknowledged, Status::InProgress), (&c.resolved, Status::Resolved), (&c.closed, Status::Closed)]
            {
                if let Some(at) = time(row, column)? {
                    if at < created {
                        return Err(format!(
                            "line {}: {} {} is before it was opened",
                            row.line,
                            status,
                            at.to_rfc3339()
                        ));
                    }
                    if at > now {
                        return Err(format!("line {}: {} is in the future", row.line, at.to_rfc3339()));
                    }
                    steps.push((at, status));
                }
            }
            steps.sort_by_key(|s| s.0);
            if let Some(st) = row_state {
                if steps.last().map(|s| s.1) != Some(st) {
                    let at = steps.last().map_or(created, |s| s.0);
                    steps.push((at, st));
                }
            }
            let count: u32 = row.get(&c.reassignments).map(|v| v.parse().unwrap_or(0)).unwrap_or(0);
            if count > 0 {
                // The export says it was reassigned, not when: at acknowledgement.
                let at = steps.iter().find(|s| s.1 != Status::Open).map_or(created, |s| s.0);
                steps.push((at, Status::Escalated));
                steps.sort_by_key(|s| (s.0, s.1 != Status::Escalated));
            }
        } else if let Some(st) = row_state {
            if state != Some(st) {
                steps.push((t, st));
            }
            state = Some(st);
        }
        for (at, st) in steps {
            if inc.timeline.iter().all(|e| e.field != "status") {
                inc.status = st;
                inc.track(at, &by, "status", None, Some(st.to_string()));
            } else if st != inc.status {
                let was_done = inc.status.is_done();
                inc.set_status(at, &by, st);
                if was_done && !st.is_done() {
                    // Reopened: the resolution that counts is the final one.
                    inc.resolved_at = None;
                    inc.closed_at = None;
                }
            }
            if st != Status::Open && inc.acknowledged_at.is_none() {
                inc.acknowledged_at = Some(at);
            }
            match st {
                Status::Resolved => inc.resolved_at = Some(at),
                Status::Closed => {
                    inc.closed_at = Some(at);
                    inc.resolved_at.get_or_insert(at);
                }
                _ => {}
            }
            inc.updated_at = inc.updated_at.max(at);
        }
        inc.updated_at = inc.updated_at.max(t);
    }
    if inc.title.is_empty() {
        inc.title = format!("Imported incident {id}");
    }
    inc.service = match service.or_else(|| m.default_service.clone()) {
        Some(s) => s,
        None => return Err("no service (no service column value, no default_service)".into()),
    };
    if inc.timeline.iter().all(|e| e.field != "status") {
        return Err("no state: the mapping's states do not cover any of its rows".into());
    }
    Ok(Imported { key, incident: inc })
}
