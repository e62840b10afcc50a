//! CSV exports mapped to incidents by a mapping file: one row per incident (`tickets`),
//! or one row per state change of an incident (`events`, as ServiceNow's incident audit
//! export and process-mining logs are).
//!
//! The archive keeps only the columns the mapping uses (data minimization).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::{incident_id, lenient_time, Imported, Read, Reading, Skipped, UNKNOWN};
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
    /// The source's own SLA verdict: a column whose value says the SLA was met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_met: Option<Verdict>,
    /// The same verdict from a column that says the SLA was breached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sla_breached: Option<Verdict>,
}

/// A yes/no column: its name alone (the words `true`, `yes`, `y`, `t`, `1`, `met` and
/// `false`, `no`, `n`, `f`, `0`, `breached`, `missed`, in any case), or `{column, true: [...], false: [...]}` with the source's
/// own words.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Verdict {
    Column(String),
    Words {
        column: String,
        #[serde(rename = "true")]
        yes: Vec<String>,
        #[serde(rename = "false")]
        no: Vec<String>,
    },
}

impl<'de> Deserialize<'de> for Verdict {
    /// By hand: in YAML the keys `true` and `false` are booleans, in the canonical JSON
    /// of a procedure's input they are strings; both mean the same.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Verdict, D::Error> {
        use serde::de::Error as _;
        use serde_yaml_ng::Value as Y;
        let words = |v: &Y, key: &str| -> std::result::Result<Vec<String>, D::Error> {
            let list = v.as_sequence().ok_or_else(|| D::Error::custom(format!("`{key}` must be a list of words")))?;
            list.iter()
                .map(|w| match w {
                    Y::String(s) => Ok(s.clone()),
                    Y::Bool(b) => Ok(b.to_string()),
                    Y::Number(n) => Ok(n.to_string()),
                    _ => Err(D::Error::custom(format!("`{key}` must be a list of words"))),
                })
                .collect()
        };
        match Y::deserialize(d)? {
            Y::String(column) => Ok(Verdict::Column(column)),
            Y::Mapping(map) => {
                let (mut column, mut yes, mut no) = (None, None, None);
                for (k, v) in &map {
                    match k {
                        Y::String(k) if k == "column" => {
                            column =
                                Some(v.as_str().ok_or_else(|| D::Error::custom("`column` must be a name"))?.to_string())
                        }
                        Y::Bool(true) => yes = Some(words(v, "true")?),
                        Y::String(k) if k == "true" => yes = Some(words(v, "true")?),
                        Y::Bool(false) => no = Some(words(v, "false")?),
                        Y::String(k) if k == "false" => no = Some(words(v, "false")?),
                        other => {
                            return Err(D::Error::custom(format!(
                                "unknown key {other:?}: expected `column`, `true` and `false`"
                            )))
                        }
                    }
                }
                match (column, yes, no) {
                    (Some(column), Some(yes), Some(no)) => Ok(Verdict::Words { column, yes, no }),
                    _ => Err(D::Error::custom("an SLA column needs `column`, `true` and `false`")),
                }
            }
            _ => Err(D::Error::custom("an SLA column is a column name or {column, true: [...], false: [...]}")),
        }
    }
}

impl Verdict {
    pub fn column(&self) -> &str {
        match self {
            Verdict::Column(c) | Verdict::Words { column: c, .. } => c,
        }
    }

    /// The value as a yes or a no; an error names the words it accepts.
    fn read(&self, what: &str, v: &str) -> std::result::Result<bool, String> {
        const YES: &[&str] = &["true", "yes", "y", "t", "1", "met"];
        const NO: &[&str] = &["false", "no", "n", "f", "0", "breached", "missed"];
        let (yes, no): (Vec<&str>, Vec<&str>) = match self {
            Verdict::Column(_) => (YES.to_vec(), NO.to_vec()),
            Verdict::Words { yes, no, .. } => {
                (yes.iter().map(String::as_str).collect(), no.iter().map(String::as_str).collect())
            }
        };
        let is = |words: &[&str]| match self {
            Verdict::Column(_) => words.iter().any(|w| w.eq_ignore_ascii_case(v)),
            Verdict::Words { .. } => words.contains(&v),
        };
        match (is(&yes), is(&no)) {
            (true, false) => Ok(true),
            (false, true) => Ok(false),
            _ => Err(format!(
                "{what} `{v}` is neither a true word ({}) nor a false word ({})",
                yes.join(", "),
                no.join(", ")
            )),
        }
    }
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
        .map(String::as_str)
        .chain([&self.sla_met, &self.sla_breached].into_iter().flatten().map(Verdict::column))
        {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The columns that hold times.
    fn times(&self) -> Vec<&str> {
        [&self.time, &self.opened, &self.acknowledged, &self.resolved, &self.closed]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
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
    /// Values that mean "no value" in any column (as an empty cell does): `?`, `NULL`,
    /// `-`… Such a value is never a service, an assignee or a team.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    /// The order of a numeric day and month before the year (`%d/%m/%Y` is day first,
    /// `%m/%d/%Y` month first): required when both orders would read every value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_first: Option<bool>,
}

/// Where a numeric day and a numeric month both come before the year in a time format:
/// `Some(day first?)` and the format with the two swapped; `None` when the format cannot
/// be read the other way round (`%Y-%m-%d`, `%d %b %Y`, RFC 3339).
pub fn day_month(format: &str) -> Option<(bool, String)> {
    fn find(format: &str, specs: &[&'static str]) -> Option<(usize, &'static str)> {
        specs.iter().filter_map(|s| format.find(s).map(|i| (i, *s))).min()
    }
    let (d, dspec) = find(format, &["%d", "%e", "%-d"])?;
    let (m, mspec) = find(format, &["%m", "%-m"])?;
    let (y, _) = find(format, &["%Y", "%y"])?;
    if d > y || m > y {
        return None;
    }
    let (first, second) = if d < m { ((d, dspec), (m, mspec)) } else { ((m, mspec), (d, dspec)) };
    let mut swapped = String::new();
    swapped.push_str(&format[..first.0]);
    swapped.push_str(second.1);
    swapped.push_str(&format[first.0 + first.1.len()..second.0]);
    swapped.push_str(first.1);
    swapped.push_str(&format[second.0 + second.1.len()..]);
    Some((d < m, swapped))
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
        m.check(crate::procedures::incident::import::VERSION)?;
        Ok(m)
    }

    /// The mapping is one the reader of `version` (the procedure's) understands.
    pub fn check(&self, version: u8) -> Result<()> {
        let newer = [
            ("missing", !self.missing.is_empty()),
            ("day_first", self.day_first.is_some()),
            ("columns.sla_met", self.columns.sla_met.is_some()),
            ("columns.sla_breached", self.columns.sla_breached.is_some()),
        ];
        if version < 2 {
            if let Some((key, _)) = newer.iter().find(|(_, used)| *used) {
                return Err(Error::invalid(format!("mapping: `{key}` needs incident.import/2")));
            }
        }
        if self.columns.sla_met.is_some() && self.columns.sla_breached.is_some() {
            return Err(Error::invalid("mapping: give columns.sla_met or columns.sla_breached, not both"));
        }
        if let Some(Verdict::Words { yes, no, column }) =
            self.columns.sla_met.as_ref().or(self.columns.sla_breached.as_ref())
        {
            if yes.is_empty() || no.is_empty() || yes.iter().any(|w| no.contains(w)) {
                return Err(Error::invalid(format!(
                    "mapping: the SLA column `{column}` needs true and false words, none of them in both lists"
                )));
            }
        }
        if let (Some(first), Some((day, _))) = (self.day_first, day_month(&self.time_format)) {
            if first != day {
                return Err(Error::invalid(format!(
                    "mapping: day_first: {first}, but time_format `{}` puts the {} first",
                    self.time_format,
                    if day { "day" } else { "month" }
                )));
            }
        }
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
    /// The mapping's missing markers.
    missing: &'a [String],
}

impl<'a> Row<'a> {
    fn get(&self, column: &Option<String>) -> Option<&'a str> {
        self.cell(column.as_deref()?)
    }

    fn cell(&self, column: &str) -> Option<&'a str> {
        let i = *self.cells.get(column)?;
        let (record, missing): (&'a csv::StringRecord, &'a [String]) = (self.record, self.missing);
        record.get(i).map(str::trim).filter(|v| !v.is_empty() && !missing.iter().any(|m| m.trim() == *v))
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
            hygiene::optional(hygiene::Rules::Screening, c, Some(v), shape).err()
        });
        match bad {
            Some(e) => skipped.push(Skipped { item: format!("line {line}"), reason: e.message }),
            None => out.write_record(&cells).map_err(|e| Error::internal(format!("csv: {e}")))?,
        }
    }
    Ok((out.into_inner().map_err(|e| Error::internal(format!("csv: {e}")))?, skipped))
}

/// Reads a minimized source with its mapping, as the reader of `version` of
/// `incident.import` does (1: as first released; 2: missing markers, the source's
/// resolved/closed/SLA columns in both row modes, one team change per row, day/month
/// order checked).
pub fn read(source: &[u8], mapping: &Mapping, reading: Reading, version: u8) -> Result<Read> {
    let zone = mapping.zone()?;
    let mut reader = csv::ReaderBuilder::new().from_reader(source);
    let headers = reader.headers().map_err(|e| Error::invalid(format!("csv: {e}")))?.clone();
    let cells: HashMap<&str, usize> = headers.iter().enumerate().map(|(i, h)| (h, i)).collect();
    let records: Vec<csv::StringRecord> =
        reader.records().collect::<std::result::Result<_, _>>().map_err(|e| Error::invalid(format!("csv: {e}")))?;
    let missing: &[String] = if version >= 2 { &mapping.missing } else { &[] };
    let row = |n: usize, record| Row { line: n + 2, cells: &cells, record, missing };
    if version >= 2 {
        ambiguity(mapping, records.iter().enumerate().map(|(n, r)| row(n, r)))?;
    }
    // Rows by incident, in file order.
    let mut order: Vec<&str> = Vec::new();
    let mut rows: HashMap<&str, Vec<Row>> = HashMap::new();
    let mut read = Read::default();
    for (n, record) in records.iter().enumerate() {
        let row = row(n, record);
        let id = match version {
            1 => cells
                .get(mapping.columns.id.as_str())
                .and_then(|i| record.get(*i))
                .map(str::trim)
                .filter(|v| !v.is_empty()),
            _ => row.cell(&mapping.columns.id),
        };
        let Some(id) = id else {
            read.rejected.push(Skipped { item: format!("line {}", n + 2), reason: "no incident id".into() });
            continue;
        };
        if read.samples.len() < 3 {
            let column = if mapping.rows == Rows::Events { &mapping.columns.time } else { &mapping.columns.opened };
            if let Some(text) = row.get(column) {
                let parsed = mapping.time(zone, text).map_or_else(|e| e, |t| t.to_rfc3339());
                read.samples
                    .push(Skipped { item: format!("line {}", n + 2), reason: format!("`{text}` → {parsed}") });
            }
        }
        if !rows.contains_key(id) {
            order.push(id);
        }
        rows.entry(id).or_default().push(row);
    }
    for id in order {
        let group = rows.remove(id).unwrap_or_default();
        match incident(id, group, mapping, zone, reading, version) {
            Ok(i) => read.imported.push(i),
            Err(reason) => read.rejected.push(Skipped { item: id.to_string(), reason }),
        }
    }
    Ok(read)
}

/// Refuses a time format whose day and month could be either way round for this file
/// (every value of every time column reads both ways) unless the mapping says which.
fn ambiguity<'a>(m: &Mapping, rows: impl Iterator<Item = Row<'a>>) -> Result<()> {
    let Some((day, swapped)) = day_month(&m.time_format) else { return Ok(()) };
    if m.day_first.is_some() {
        return Ok(());
    }
    let columns = m.columns.times();
    let mut example = None;
    let mut values = 0;
    for row in rows {
        for c in &columns {
            let Some(v) = row.cell(c) else { continue };
            if NaiveDateTime::parse_from_str(v, &swapped).is_err() {
                return Ok(());
            }
            values += 1;
            example.get_or_insert_with(|| v.to_string());
        }
    }
    let Some(example) = example else { return Ok(()) };
    Err(Error::invalid(format!(
        "mapping: time_format `{}` is ambiguous for this file: all {values} times also read as `{swapped}` \
         (is `{example}` {} first?); say which with `day_first: true` (day/month) or `day_first: false` \
         (month/day)",
        m.time_format,
        if day { "day" } else { "month" },
    )))
}

fn incident(
    id: &str,
    rows: Vec<Row>,
    m: &Mapping,
    zone: chrono_tz::Tz,
    reading: Reading,
    version: u8,
) -> std::result::Result<Imported, String> {
    let Reading { actor, now, rules } = reading;
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
        ..crate::model::Incident::blank()
    };
    let text = |field: &str, v: &str, shape| hygiene::text(rules, field, v, shape).map_err(|e| e.message);
    let mut state: Option<Status> = None;
    let mut team_name: Option<String> = None;
    let mut level_name: Option<String> = None;
    let mut service = None;
    // The source's own resolution and closure times (`rows: events`, version 2).
    let (mut source_resolved, mut source_closed) = (None, None);
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
        if version == 1 {
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
        } else {
            // A group and a level given together are one assignment: one team change.
            let label = |g: &Option<String>, l: &Option<String>| {
                let parts: Vec<&str> = [g, l].into_iter().flatten().map(String::as_str).collect();
                (!parts.is_empty()).then(|| parts.join(" / "))
            };
            let before = label(&team_name, &level_name);
            let mut changed = false;
            for (column, current) in [(&c.group, &mut team_name), (&c.level, &mut level_name)] {
                let Some(v) = row.get(column) else { continue };
                if current.as_deref() != Some(v) {
                    changed = true;
                    *current = Some(v.to_string());
                    if let Some(team) = m.teams.get(v) {
                        inc.assigned_team = Some(team.to_string());
                    }
                }
            }
            if changed {
                escalated = before.is_some();
                inc.track(t, &by, "assigned_team", before, label(&team_name, &level_name));
            }
        }
        if version >= 2 {
            for (column, at) in [(&c.resolved, &mut source_resolved), (&c.closed, &mut source_closed)] {
                if let Some(v) = time(row, column)? {
                    *at = Some(v);
                }
            }
            if let Some(verdict) = c.sla_met.as_ref().or(c.sla_breached.as_ref()) {
                if let Some(v) = row.cell(verdict.column()) {
                    let yes = verdict.read(verdict.column(), v).map_err(|e| format!("line {}: {e}", row.line))?;
                    inc.source_sla_met = Some(if c.sla_met.is_some() { yes } else { !yes });
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
    if m.rows == Rows::Events && version >= 2 {
        // The times the source recorded, in preference to the rows' own.
        let check = |what: &str, at: DateTime<Utc>| {
            if at < created {
                Err(format!("{what} {} is before it was opened", at.to_rfc3339()))
            } else if at > now {
                Err(format!("{what} {} is in the future", at.to_rfc3339()))
            } else {
                Ok(at)
            }
        };
        if inc.status.is_done() {
            if let Some(at) = source_resolved {
                inc.resolved_at = Some(check("resolved", at)?);
            }
        }
        if inc.status == Status::Closed {
            if let Some(at) = source_closed {
                inc.closed_at = Some(check("closed", at)?);
            }
        }
        if let (Some(r), Some(c)) = (inc.resolved_at, inc.closed_at) {
            if r > c {
                return Err(format!("resolved {} is after closed {}", r.to_rfc3339(), c.to_rfc3339()));
            }
        }
        inc.updated_at = [inc.resolved_at, inc.closed_at].into_iter().flatten().fold(inc.updated_at, DateTime::max);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_and_month_before_the_year_can_be_swapped() {
        assert_eq!(day_month("%d/%m/%Y %H:%M"), Some((true, "%m/%d/%Y %H:%M".into())));
        assert_eq!(day_month("%m/%d/%Y"), Some((false, "%d/%m/%Y".into())));
        assert_eq!(day_month("%d.%m.%y %H:%M:%S"), Some((true, "%m.%d.%y %H:%M:%S".into())));
        assert_eq!(day_month("%Y-%m-%d %H:%M:%S"), None, "the year first is never ambiguous");
        assert_eq!(day_month("%d %b %Y"), None, "a month name is not a number");
        assert_eq!(day_month("rfc3339"), None);
    }

    #[test]
    fn sla_columns_take_a_name_or_the_sources_words() {
        let m = Mapping::parse(
            "rows: tickets\ncolumns: {id: i, opened: o, sla_breached: {column: made_sla, true: [\"false\"], false: [\"true\"]}}\nstates: {}\nmissing: [\"?\", NULL]\nday_first: true\n",
        )
        .unwrap();
        let v = m.columns.sla_breached.clone().unwrap();
        assert_eq!(v.column(), "made_sla");
        assert_eq!((v.read("x", "false"), v.read("x", "true")), (Ok(true), Ok(false)));
        assert!(v.read("x", "maybe").unwrap_err().contains("neither"));
        assert_eq!(m.missing, ["?", "NULL"]);
        assert!(m.columns.used().contains(&"made_sla"));
        let plain = Verdict::Column("c".into());
        assert_eq!((plain.read("c", "YES"), plain.read("c", "0")), (Ok(true), Ok(false)));
        // A day_first that contradicts the format is refused; /1 knows none of the new keys.
        let err = Mapping::parse(
            "rows: tickets\ncolumns: {id: i, opened: o}\nstates: {}\ntime_format: '%m/%d/%Y'\nday_first: true\n",
        )
        .unwrap_err();
        assert!(err.message.contains("puts the month first"), "{}", err.message);
        assert!(m.check(1).unwrap_err().message.contains("incident.import/2"));
    }
}
