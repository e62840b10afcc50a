//! `incident.import/2` — bringing history from another tool: cState status pages and
//! CSV exports become incidents, with their original times, in one commit.
//! `incident.import/1` replays exactly as released; /2 reads CSV with the mapping's
//! missing markers, the source's resolved/closed/SLA columns in both row modes, one team
//! change for a group and a level given together, and refuses an ambiguous day/month
//! order the mapping does not settle. `incident.import_redo/1` (below) re-derives an
//! import's incidents from its archive with a corrected mapping.
//!
//! Steps:
//! 1. Validate the actor: an incident manager.
//! 2. Read the archived source by its blob id (the commit writes it, so a replay reads
//!    the very bytes) with the reader of its format and, for CSV, the mapping.
//! 3. Skip what an earlier import brought (each item's source key is a key file under
//!    `records/keys/imports/`); halt when nothing is new.
//! 4. Write each new incident (its id derived from its source key), its key file, the
//!    archived source and the import record (counts; what was rejected, left out or
//!    assumed, and why). Audit: `create` per incident.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::engine::{Ctx, Effect, Procedure};
use crate::error::{Error, HaltAt, Result};
use crate::ids::{record_path, RecordKind};
use crate::import::{self, csv::Mapping, Read, Reading, Skipped};
use crate::model::enums::{AuditAction, Role};
use crate::model::keys::{self, KeyFile};

pub struct Import;

pub struct Import2;

pub const KEYS: &str = "imports";
pub const SCHEMA: &str = "import/1";
/// The reader version new imports use.
pub const VERSION: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Cstate,
    Csv,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Input {
    pub format: Format,
    /// What the user named (a folder or file name), for the record.
    pub source_name: String,
    /// The git blob id of the archived source.
    pub source: String,
    pub mapping: Option<Mapping>,
    /// The zone of cState times written without an offset.
    pub timezone: String,
    /// Items the shell left out of the archive (they failed the input checks), and why.
    pub excluded: Vec<Skipped>,
}

/// `records/imports/<id>/import.yaml`: what one import did.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportRecord {
    pub schema: String,
    pub import_id: String,
    pub format: Format,
    pub source_name: String,
    pub source_blob: String,
    pub source_file: String,
    pub mapping: Option<Mapping>,
    pub timezone: String,
    pub imported_at: chrono::DateTime<chrono::Utc>,
    pub imported_by: String,
    pub imported: usize,
    pub already_imported: usize,
    pub rejected: Vec<Skipped>,
    pub excluded: Vec<Skipped>,
    pub notes: Vec<Skipped>,
    pub incident_ids: Vec<String>,
    /// The version of `incident.import` whose reader made the incidents (absent: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// Each `ims import redo`, oldest first: the mapping and incidents it replaced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redone: Vec<Redone>,
}

/// One correction of an import.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redone {
    pub redone_at: chrono::DateTime<chrono::Utc>,
    pub redone_by: String,
    pub previous_mapping: Mapping,
    pub previous_incident_ids: Vec<String>,
}

/// The import's folder name: a digest of the source and how it is read.
pub fn import_id(input: &Input) -> Result<String> {
    let how = crate::engine::canonical_json(&(&input.format, &input.mapping, &input.timezone))?;
    let digest = Sha256::digest(format!("{}|{how}", input.source).as_bytes());
    Ok(format!("IMP-{}", digest.iter().take(10).map(|b| format!("{b:02x}")).collect::<String>()))
}

/// What an import would do on a snapshot: what the reader made of the source, which
/// of its incidents are new, and how many an earlier import already brought.
pub struct Plan {
    pub import_id: String,
    pub read: Read,
    /// Indexes into `read.imported` of the incidents to write.
    pub new: Vec<usize>,
    pub already: usize,
    pub bytes: Vec<u8>,
    pub extension: &'static str,
}

impl Plan {
    /// Every item of the source was rejected or left out: none could be imported.
    pub fn all_rejected(&self, excluded: usize) -> bool {
        self.read.imported.is_empty() && self.read.rejected.len() + excluded > 0
    }
}

/// The service allowlist applies to imported incidents as to every other way an
/// incident opens: an import naming a service outside it is refused, each such item
/// named with its service. New input only (`Rules::Screening`): an import recorded
/// before the check replays as it was.
fn allowed_services(ctx: &Ctx, read: &Read) -> Result<()> {
    let services = crate::model::config(ctx.snap)?.services;
    if ctx.rules.screening() && !services.is_empty() {
        let outside: Vec<String> = read
            .imported
            .iter()
            .filter(|i| !services.contains(&i.incident.service))
            .map(|i| format!("{}: service `{}`", i.key, i.incident.service))
            .collect();
        if !outside.is_empty() {
            return Err(Error::invalid(format!(
                "import: {} incident(s) name a service that is not one of the services in ims.yaml ({}): {}; nothing was imported",
                outside.len(),
                services.join(", "),
                outside.join("; ")
            )));
        }
    }
    Ok(())
}

/// Step `n` of `incident.import/<version>` (the two versions share their steps).
fn step(version: u8, n: u8) -> crate::error::Step {
    if version == 1 {
        Import::step(n)
    } else {
        Import2::step(n)
    }
}

/// Steps 1–3 of the procedure, shared by `--dry-run`.
pub fn plan(ctx: &Ctx, input: &Input, version: u8) -> Result<Plan> {
    // 1. The actor.
    ctx.require(&[Role::IncidentManager], "import").at(step(version, 1))?;
    // 2. The source, as archived.
    let bytes = ctx
        .snap
        .blob(&input.source)?
        .ok_or_else(|| Error::invalid(format!("source: blob {} is not in the repository", input.source)))
        .at(step(version, 2))
        .field("source")?;
    let zone: chrono_tz::Tz = input
        .timezone
        .parse()
        .map_err(|_| Error::invalid(format!("timezone: `{}` is unknown", input.timezone)))
        .at(step(version, 2))
        .field("timezone")?;
    let reading = Reading { actor: ctx.actor, now: ctx.now, rules: ctx.rules };
    let (read, extension) = match (input.format, &input.mapping) {
        (Format::Cstate, None) => {
            (import::cstate::read(&bytes, zone, reading).at(step(version, 2)).field("source")?, "json")
        }
        (Format::Csv, Some(m)) => {
            m.check(version).at(step(version, 2)).field("mapping")?;
            (import::csv::read(&bytes, m, reading, version).at(step(version, 2)).field("source")?, "csv")
        }
        (Format::Csv, None) => {
            return Err(Error::invalid("a CSV import needs a mapping").at(step(version, 2)).field("mapping"))
        }
        (Format::Cstate, Some(_)) => {
            return Err(Error::invalid("a cState import takes no mapping").at(step(version, 2)).field("mapping"))
        }
    };
    allowed_services(ctx, &read).at(step(version, 2)).field("source")?;
    // 3. What is new.
    let mut seen = std::collections::BTreeSet::new();
    let (mut new, mut already) = (Vec::new(), 0);
    for (n, item) in read.imported.iter().enumerate() {
        let key_path = keys::path(KEYS, &item.key);
        let path = record_path(RecordKind::Incident, &item.incident.incident_id);
        if ctx.snap.read(&key_path)?.is_some() || ctx.snap.read(&path)?.is_some() {
            already += 1;
            continue;
        }
        if !seen.insert(key_path) {
            return Err(Error::invalid(format!("source: `{}` appears twice", item.key))
                .at(step(version, 3))
                .field("source"));
        }
        new.push(n);
    }
    Ok(Plan { import_id: import_id(input)?, read, new, already, bytes, extension })
}

fn apply(ctx: &Ctx, input: &Input, version: u8) -> Result<Effect> {
    let plan = plan(ctx, input, version)?;
    let id = plan.import_id.clone();
    let mut effect = Effect::new(String::new());
    // 4. Each incident and its key.
    let mut new = Vec::new();
    for n in &plan.new {
        let item = &plan.read.imported[*n];
        let path = record_path(RecordKind::Incident, &item.incident.incident_id);
        effect.write(&path, &item.incident)?;
        effect.write(
            &keys::path(KEYS, &item.key),
            &KeyFile { key: item.key.clone(), record: item.incident.incident_id.clone() },
        )?;
        new.push(item.incident.incident_id.clone());
    }
    if new.is_empty() {
        return Err(Error::nothing_new(format!(
            "import: nothing new ({} already imported, {} rejected)",
            plan.already,
            plan.read.rejected.len()
        ))
        .at(step(version, 3))
        .field("source"));
    }
    let folder = format!("records/imports/{id}");
    let source_file = format!("{folder}/source.{}", plan.extension);
    effect.write_raw(&source_file, plan.bytes);
    let record = ImportRecord {
        schema: SCHEMA.into(),
        import_id: id.clone(),
        format: input.format,
        source_name: input.source_name.clone(),
        source_blob: input.source.clone(),
        source_file,
        mapping: input.mapping.clone(),
        timezone: input.timezone.clone(),
        imported_at: ctx.now,
        imported_by: ctx.actor.into(),
        imported: new.len(),
        already_imported: plan.already,
        rejected: plan.read.rejected,
        excluded: input.excluded.clone(),
        notes: plan.read.notes,
        incident_ids: new.clone(),
        version: (version > 1).then_some(version),
        redone: vec![],
    };
    effect.write_main(&format!("{folder}/import.yaml"), &id, &record)?;
    for i in &new {
        effect = effect.action(AuditAction::Create, "incident", i);
    }
    effect.subject = format!(
        "incident: import {} incidents from {} ({}; {} rejected)",
        new.len(),
        input.source_name,
        match input.format {
            Format::Cstate => "cstate",
            Format::Csv => "csv",
        },
        record.rejected.len() + record.excluded.len()
    );
    Ok(effect.fields(&["incidents"]))
}

impl Procedure for Import {
    const ID: &'static str = "incident.import/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        apply(ctx, input, 1)
    }
}

impl Procedure for Import2 {
    const ID: &'static str = "incident.import/2";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        apply(ctx, input, 2)
    }
}

/// `incident.import_redo/1` — correcting an import: its incidents re-derived from its
/// archived source with a corrected mapping, in one commit.
///
/// Steps:
/// 1. Validate the actor: an incident manager.
/// 2. Read the import record and its archived source (a CSV import's; a cState import
///    has no mapping to correct); the corrected mapping may name only archived columns.
/// 3. Re-derive what the import wrote (its reader version, mapping and time) and refuse,
///    naming them, incidents whose record differs: a later procedure touched them.
/// 4. Derive the incidents with the corrected mapping: rewrite each of the import's
///    (moved when its date, and so its id, changed; its key file follows), add those the
///    old mapping rejected and no other import brought; refuse if the corrected mapping
///    rejects one the import made. Update the import record (the previous mapping and
///    incidents kept under `redone`). Audit: `update` per rewritten incident, `create`
///    per new one.
pub struct Redo;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RedoInput {
    pub import_id: String,
    pub mapping: Mapping,
}

impl Procedure for Redo {
    const ID: &'static str = "incident.import_redo/1";
    type Input = RedoInput;

    fn apply(ctx: &Ctx, input: &RedoInput) -> Result<Effect> {
        // 1. The actor.
        ctx.require(&[Role::IncidentManager], "redo an import").at(Self::step(1))?;
        // 2. The import and its archive.
        let id = &input.import_id;
        let well_formed = id.len() == 24
            && id.starts_with("IMP-")
            && id[4..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !well_formed {
            return Err(Error::invalid(format!("import: `{id}` is not an import id (IMP- and 20 hex digits)"))
                .at(Self::step(2))
                .field("import_id"));
        }
        let folder = format!("records/imports/{id}");
        let record_path_ = format!("{folder}/import.yaml");
        let mut record: ImportRecord = crate::model::load(ctx.snap, &record_path_)?
            .ok_or_else(|| Error::invalid(format!("import: {id} is not in the repository")))
            .at(Self::step(2))
            .field("import_id")?;
        let Some(old_mapping) = record.mapping.clone().filter(|_| record.format == Format::Csv) else {
            return Err(Error::invalid(format!("import: {id} is a cState import; it has no mapping to correct"))
                .at(Self::step(2))
                .field("import_id"));
        };
        input.mapping.check(VERSION).at(Self::step(2)).field("mapping")?;
        let bytes = ctx
            .snap
            .read(&record.source_file)?
            .ok_or_else(|| Error::invalid(format!("import: {} is missing", record.source_file)))
            .at(Self::step(2))
            .field("import_id")?;
        let header: Vec<String> = ::csv::ReaderBuilder::new()
            .from_reader(bytes.as_slice())
            .headers()
            .map_err(|e| Error::invalid(format!("{}: {e}", record.source_file)))
            .at(Self::step(2))
            .field("import_id")?
            .iter()
            .map(String::from)
            .collect();
        for c in input.mapping.columns.used() {
            if !header.iter().any(|h| h == c) {
                return Err(Error::invalid(format!(
                    "mapping: the column `{c}` is not in the archived source of {id} (it keeps only the columns \
                     the import's mapping used: {})",
                    header.join(", ")
                ))
                .at(Self::step(2))
                .field("mapping"));
            }
        }
        // 3. What the import wrote, and which of it is still as written.
        let derived_at = record.redone.last().map_or(record.imported_at, |r| r.redone_at);
        let old_version = record.version.unwrap_or(1);
        let old = import::csv::read(
            &bytes,
            &old_mapping,
            Reading { actor: &record.imported_by, now: derived_at, rules: ctx.rules },
            old_version,
        )
        .at(Self::step(3))?;
        let mine: std::collections::BTreeSet<&str> = record.incident_ids.iter().map(String::as_str).collect();
        let mut old_by_key = std::collections::BTreeMap::new();
        let mut touched = Vec::new();
        for item in &old.imported {
            let iid = item.incident.incident_id.as_str();
            if !mine.contains(iid) {
                continue;
            }
            let path = record_path(RecordKind::Incident, iid);
            let written = crate::yaml::to_canonical(&item.incident)?;
            if ctx.snap.read(&path)?.as_deref() != Some(written.as_bytes()) {
                touched.push(iid.to_string());
            }
            old_by_key.insert(item.key.clone(), item.incident.incident_id.clone());
        }
        if let Some(lost) = record.incident_ids.iter().find(|i| !old_by_key.values().any(|v| v == *i)) {
            return Err(Error::precondition(format!(
                "import: {lost} of {id} is not what its archive and mapping make; it cannot be re-derived"
            ))
            .at(Self::step(3)));
        }
        if !touched.is_empty() {
            return Err(Error::precondition(format!(
                "import redo: {} changed since {id} imported {}: later procedures touched them, so they \
                 cannot be re-derived",
                touched.join(", "),
                if touched.len() == 1 { "it" } else { "them" }
            ))
            .at(Self::step(3)));
        }
        // 4. The corrected derivation.
        let new = import::csv::read(
            &bytes,
            &input.mapping,
            Reading { actor: &record.imported_by, now: ctx.now, rules: ctx.rules },
            VERSION,
        )
        .at(Self::step(4))
        .field("mapping")?;
        allowed_services(ctx, &new).at(Self::step(4)).field("mapping")?;
        let mut effect = Effect::new(String::new());
        let (mut ids, mut rewritten, mut created) = (Vec::new(), Vec::new(), Vec::new());
        for item in &new.imported {
            let iid = item.incident.incident_id.clone();
            let path = record_path(RecordKind::Incident, &iid);
            let key_path = keys::path(KEYS, &item.key);
            let bytes = crate::yaml::to_canonical(&item.incident)?;
            match old_by_key.get(&item.key) {
                Some(old_id) => {
                    let old_path = record_path(RecordKind::Incident, old_id);
                    if old_path != path {
                        if ctx.snap.read(&path)?.is_some() {
                            return Err(Error::conflict(format!("import redo: {iid} already exists")).at(Self::step(4)));
                        }
                        effect.writes.insert(old_path, None);
                        effect.write(&key_path, &KeyFile { key: item.key.clone(), record: iid.clone() })?;
                    }
                    if ctx.snap.read(&path)?.as_deref() != Some(bytes.as_bytes()) {
                        effect.write(&path, &item.incident)?;
                        rewritten.push(iid.clone());
                    }
                }
                None => {
                    if ctx.snap.read(&key_path)?.is_some() || ctx.snap.read(&path)?.is_some() {
                        continue;
                    }
                    effect.write(&path, &item.incident)?;
                    effect.write(&key_path, &KeyFile { key: item.key.clone(), record: iid.clone() })?;
                    created.push(iid.clone());
                }
            }
            ids.push(iid);
        }
        let kept: std::collections::BTreeSet<&str> = new.imported.iter().map(|i| i.key.as_str()).collect();
        let dropped: Vec<String> = old_by_key
            .iter()
            .filter(|(k, _)| !kept.contains(k.as_str()))
            .map(|(k, i)| {
                let why = new
                    .rejected
                    .iter()
                    .find(|r| format!("csv:{}", r.item) == *k)
                    .map_or("not in the source".into(), |r| r.reason.clone());
                format!("{i} ({why})")
            })
            .collect();
        if !dropped.is_empty() {
            return Err(Error::invalid(format!(
                "import redo: the corrected mapping rejects what {id} imported: {}",
                dropped.join("; ")
            ))
            .at(Self::step(4))
            .field("mapping"));
        }
        if rewritten.is_empty() && created.is_empty() {
            return Err(Error::precondition(format!("import redo: the mapping changes none of {id}'s incidents"))
                .at(Self::step(4))
                .field("mapping"));
        }
        record.redone.push(Redone {
            redone_at: ctx.now,
            redone_by: ctx.actor.into(),
            previous_mapping: old_mapping,
            previous_incident_ids: std::mem::take(&mut record.incident_ids),
        });
        record.mapping = Some(input.mapping.clone());
        record.version = Some(VERSION);
        record.imported = ids.len();
        record.incident_ids = ids;
        record.rejected = new.rejected;
        record.notes = new.notes;
        effect.write_main(&record_path_, id, &record)?;
        for i in &rewritten {
            effect = effect.action(AuditAction::Update, "incident", i);
        }
        for i in &created {
            effect = effect.action(AuditAction::Create, "incident", i);
        }
        effect.subject =
            format!("incident: redo import {id} ({} incidents re-derived, {} new)", rewritten.len(), created.len());
        Ok(effect.fields(&["incidents"]))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::error::Kind;
    use crate::model::Incident;
    use crate::procedures::testing::*;

    const CSTATE_BLOB: &str = "0123456789abcdef0123456789abcdef01234567";
    const CSV_BLOB: &str = "89abcdef0123456789abcdef0123456789abcdef";
    const PAGE: &str = "---\ntitle: Disk full\ndate: 2022-03-04T18:00:00-00:00\nresolved: true\nresolvedWhen: 2022-03-07T10:45:00-00:00\nseverity: disrupted\naffected:\n  - repo\nsection: issue\n---\n\n[Final Message]\n\nCleaned up.\n\n[Initial Message]\nDisk is full.\n";
    /// A minimized CSV export, as `ims import` archives it: the mapping's columns only.
    const CSV: &str = "i,o,p,t,s\nA1,2022-03-04 10:00:00,P1,Disk full,repo\nA2,2022-03-05 11:00:00,P1,Cache cold,web\n";

    fn mapping(priority: &str) -> Mapping {
        Mapping::parse(&format!(
            "rows: tickets\ncolumns: {{id: i, opened: o, priority: p, title: t, service: s}}\nstates: {{}}\npriorities: {{{priority}}}\n"
        ))
        .unwrap()
    }

    /// The archived sources by blob id, as `ims import` hands them to the procedure.
    fn blobs(files: &[&str]) -> BTreeMap<String, Vec<u8>> {
        let bundle: Vec<serde_json::Value> =
            files.iter().map(|f| serde_json::json!({"file": f, "text": PAGE})).collect();
        BTreeMap::from([
            (CSTATE_BLOB.to_string(), serde_json::to_vec(&bundle).unwrap()),
            (CSV_BLOB.to_string(), CSV.as_bytes().to_vec()),
        ])
    }

    fn cstate() -> Input {
        Input {
            format: Format::Cstate,
            source_name: "status-page".into(),
            source: CSTATE_BLOB.into(),
            mapping: None,
            timezone: "UTC".into(),
            excluded: vec![],
        }
    }

    fn csv() -> Input {
        Input {
            format: Format::Csv,
            source_name: "export.csv".into(),
            source: CSV_BLOB.into(),
            mapping: Some(mapping("P1: low")),
            ..cstate()
        }
    }

    fn im() -> String {
        as_role(Role::IncidentManager)
    }

    fn record(effect: &Effect, id: &str) -> ImportRecord {
        let path = format!("records/imports/{id}/import.yaml");
        let bytes = effect.writes[&path].as_ref().expect("the import record is written");
        crate::yaml::from_str(std::str::from_utf8(bytes).unwrap(), &path).unwrap()
    }

    /// A CSV import laid over the test registry; its record.
    fn imported_csv(snap: &mut MemSnapshot) -> ImportRecord {
        let e = apply_over::<Import2>(snap, &blobs(&[]), &im(), &csv()).unwrap();
        lay(snap, &e);
        record(&e, &import_id(&csv()).unwrap())
    }

    #[test]
    fn a_status_page_becomes_incidents_with_the_archive_and_the_import_record() {
        let blobs = blobs(&["2022-03-04-disk.md"]);
        let e = apply_over::<Import>(&snapshot(None), &blobs, &im(), &cstate()).unwrap();
        let record = record(&e, &import_id(&cstate()).unwrap());
        assert_eq!(
            (record.imported, record.already_imported, record.imported_by.as_str(), record.version),
            (1, 0, "incident_manager@x.test", None)
        );
        assert_eq!(e.writes[&record.source_file].as_deref(), Some(blobs[CSTATE_BLOB].as_slice()));
        let inc: Incident = wrote(&e, RecordKind::Incident, &record.incident_ids[0]);
        assert_eq!((inc.title.as_str(), inc.service.as_str()), ("Disk full", "repo"));
        assert!(e.subject.contains("import 1 incidents from status-page (cstate; 0 rejected)"), "{}", e.subject);
    }

    #[test]
    fn step1_only_the_incident_manager() {
        let blobs = blobs(&["a.md"]);
        for role in [Role::ServiceDeskManager, Role::L2, Role::EndUser] {
            halts_at(
                apply_over::<Import>(&snapshot(None), &blobs, &as_role(role), &cstate()),
                Kind::Forbidden,
                "import",
                Import::step(1),
                Some("roles"),
            );
        }
    }

    #[test]
    fn step2_the_archive_its_zone_its_format_and_its_mapping() {
        let (snap, blobs) = (snapshot(None), blobs(&["a.md"]));
        let cases = [
            (Input { source: "ffff".into(), ..cstate() }, "source: blob ffff is not in the repository"),
            (Input { timezone: "Mars/Olympus".into(), ..cstate() }, "timezone: `Mars/Olympus` is unknown"),
            (Input { mapping: None, ..csv() }, "a CSV import needs a mapping"),
            (Input { mapping: Some(mapping("P1: low")), ..cstate() }, "a cState import takes no mapping"),
            (Input { source: CSV_BLOB.into(), ..cstate() }, "cstate bundle"),
        ];
        for (input, needle) in cases {
            halts(apply_over::<Import>(&snap, &blobs, &im(), &input), Kind::Invalid, needle);
        }
        // A mapping that only the /2 reader understands is refused by /1.
        let mut newer = mapping("P1: low");
        newer.missing = vec!["?".into()];
        let input = Input { mapping: Some(newer), ..csv() };
        halts_at(
            apply_over::<Import>(&snap, &blobs, &im(), &input),
            Kind::Invalid,
            "`missing` needs incident.import/2",
            Import::step(2),
            Some("mapping"),
        );
        assert!(apply_over::<Import2>(&snap, &blobs, &im(), &input).is_ok());
    }

    #[test]
    fn step2_the_service_allowlist_applies_to_imported_incidents() {
        let mut snap = snapshot(None);
        let mut config = crate::model::config(&snap).unwrap();
        config.services = vec!["repo".into()];
        snap.files.insert("ims.yaml".into(), crate::yaml::to_canonical(&config).unwrap().into_bytes());
        halts(
            apply_over::<Import2>(&snap, &blobs(&[]), &im(), &csv()),
            Kind::Invalid,
            "1 incident(s) name a service that is not one of the services in ims.yaml (repo): csv:A2: service `web`",
        );
        assert!(apply_over::<Import>(&snap, &blobs(&["a.md"]), &im(), &cstate()).is_ok(), "repo is allowed");
    }

    #[test]
    fn step3_an_item_twice_and_nothing_new() {
        halts_at(
            apply_over::<Import>(&snapshot(None), &blobs(&["a.md", "a.md"]), &im(), &cstate()),
            Kind::Invalid,
            "appears twice",
            Import::step(3),
            Some("source"),
        );
        let (mut snap, blobs) = (snapshot(None), blobs(&["a.md"]));
        let first = apply_over::<Import>(&snap, &blobs, &im(), &cstate()).unwrap();
        lay(&mut snap, &first);
        halts_at(
            apply_over::<Import>(&snap, &blobs, &im(), &cstate()),
            Kind::NothingNew,
            "nothing new (1 already imported, 0 rejected)",
            Import::step(3),
            Some("source"),
        );
    }

    #[test]
    fn step4_a_csv_import_writes_each_incident_its_key_and_the_version() {
        let mut snap = snapshot(None);
        let record = imported_csv(&mut snap);
        assert_eq!((record.imported, record.version, record.incident_ids.len()), (2, Some(2), 2));
        let inc: Incident = stored(&snap, RecordKind::Incident, &record.incident_ids[0]);
        assert_eq!((inc.title.as_str(), inc.priority), ("Disk full", Some(crate::model::enums::Level::Low)));
        let key: KeyFile =
            crate::yaml::from_str(std::str::from_utf8(&snap.files[&keys::path(KEYS, "csv:A1")]).unwrap(), "key")
                .unwrap();
        assert_eq!(key.record, record.incident_ids[0]);
    }

    // incident.import_redo/1 ------------------------------------------------------------

    fn redo(id: &str, priority: &str) -> RedoInput {
        RedoInput { import_id: id.into(), mapping: mapping(priority) }
    }

    #[test]
    fn redo_rewrites_the_incidents_with_the_corrected_mapping() {
        let mut snap = snapshot(None);
        let id = imported_csv(&mut snap).import_id;
        let e = apply_over::<Redo>(&snap, &BTreeMap::new(), &im(), &redo(&id, "P1: high")).unwrap();
        let record = record(&e, &id);
        assert_eq!(record.redone.len(), 1);
        assert_eq!(record.redone[0].previous_mapping, mapping("P1: low"));
        let inc: Incident = wrote(&e, RecordKind::Incident, &record.incident_ids[0]);
        assert_eq!(inc.priority, Some(crate::model::enums::Level::High));
        assert!(e.subject.contains("2 incidents re-derived, 0 new"), "{}", e.subject);
    }

    #[test]
    fn redo_step1_only_the_incident_manager() {
        let mut snap = snapshot(None);
        let id = imported_csv(&mut snap).import_id;
        halts(
            apply_over::<Redo>(&snap, &BTreeMap::new(), &as_role(Role::L2), &redo(&id, "P1: high")),
            Kind::Forbidden,
            "redo an import",
        );
    }

    #[test]
    fn redo_step2_the_import_its_kind_and_the_archived_columns() {
        let mut snap = snapshot(None);
        let id = imported_csv(&mut snap).import_id;
        let none = BTreeMap::new();
        halts(
            apply_over::<Redo>(&snap, &none, &im(), &redo("IMP-xyz", "P1: high")),
            Kind::Invalid,
            "is not an import id",
        );
        let unknown = "IMP-00000000000000000000";
        halts(
            apply_over::<Redo>(&snap, &none, &im(), &redo(unknown, "P1: high")),
            Kind::Invalid,
            "is not in the repository",
        );
        let e = apply_over::<Import>(&snap, &blobs(&["a.md"]), &im(), &cstate()).unwrap();
        lay(&mut snap, &e);
        let cstate_id = import_id(&cstate()).unwrap();
        halts(
            apply_over::<Redo>(&snap, &none, &im(), &redo(&cstate_id, "P1: high")),
            Kind::Invalid,
            "is a cState import; it has no mapping to correct",
        );
        let mut wider = mapping("P1: high");
        wider.columns.category = Some("cat".into());
        halts(
            apply_over::<Redo>(&snap, &none, &im(), &RedoInput { import_id: id, mapping: wider }),
            Kind::Invalid,
            "the column `cat` is not in the archived source",
        );
    }

    #[test]
    fn redo_step3_incidents_a_later_procedure_touched() {
        let mut snap = snapshot(None);
        let record = imported_csv(&mut snap);
        let touched = &record.incident_ids[1];
        let mut inc: Incident = stored(&snap, RecordKind::Incident, touched);
        inc.title = "Cache cold after deploy".into();
        put(&mut snap, RecordKind::Incident, touched, &inc);
        halts(
            apply_over::<Redo>(&snap, &BTreeMap::new(), &im(), &redo(&record.import_id, "P1: high")),
            Kind::Precondition,
            &format!("{touched} changed since {}", record.import_id),
        );
    }

    #[test]
    fn redo_step4_a_mapping_that_rejects_or_changes_nothing() {
        let mut snap = snapshot(None);
        let id = imported_csv(&mut snap).import_id;
        halts(
            apply_over::<Redo>(&snap, &BTreeMap::new(), &im(), &redo(&id, "P2: high")),
            Kind::Invalid,
            "the corrected mapping rejects what",
        );
        halts(
            apply_over::<Redo>(&snap, &BTreeMap::new(), &im(), &redo(&id, "P1: low")),
            Kind::Precondition,
            "the mapping changes none",
        );
    }
}
