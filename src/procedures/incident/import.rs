//! `incident.import/1` — bringing history from another tool: cState status pages and
//! CSV exports become incidents, with their original times, in one commit.
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
use crate::error::{Error, Result};
use crate::hygiene;
use crate::ids::{record_path, RecordKind};
use crate::import::{self, csv::Mapping, Skipped};
use crate::model::enums::{AuditAction, Role};
use crate::model::keys::{self, KeyFile};

pub struct Import;

pub const KEYS: &str = "imports";
pub const SCHEMA: &str = "import/1";

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
}

/// The import's folder name: a digest of the source and how it is read.
pub fn import_id(input: &Input) -> Result<String> {
    let how = crate::engine::canonical_json(&(&input.format, &input.mapping, &input.timezone))?;
    let digest = Sha256::digest(format!("{}|{how}", input.source).as_bytes());
    Ok(format!("IMP-{}", digest.iter().take(10).map(|b| format!("{b:02x}")).collect::<String>()))
}

impl Procedure for Import {
    const ID: &'static str = "incident.import/1";
    type Input = Input;

    fn apply(ctx: &Ctx, input: &Input) -> Result<Effect> {
        // 1. The actor.
        ctx.require(&[Role::IncidentManager], "import")?;
        // 2. The source, as archived.
        let bytes = ctx
            .snap
            .blob(&input.source)?
            .ok_or_else(|| Error::invalid(format!("source: blob {} is not in the repository", input.source)))?;
        let zone: chrono_tz::Tz =
            input.timezone.parse().map_err(|_| Error::invalid(format!("timezone: `{}` is unknown", input.timezone)))?;
        let (read, extension) = match (input.format, &input.mapping) {
            (Format::Cstate, None) => (import::cstate::read(&bytes, zone, ctx.actor, ctx.now)?, "json"),
            (Format::Csv, Some(m)) => {
                m.check()?;
                (import::csv::read(&bytes, m, ctx.actor, ctx.now)?, "csv")
            }
            (Format::Csv, None) => return Err(Error::invalid("a CSV import needs a mapping")),
            (Format::Cstate, Some(_)) => return Err(Error::invalid("a cState import takes no mapping")),
        };
        // The service allowlist applies to imported incidents as to every other way an
        // incident opens: an import naming a service outside it is refused, each such
        // item named with its service. New input only (hygiene::screening): an import
        // recorded before the check replays as it was.
        let services = crate::model::config(ctx.snap)?.services;
        if hygiene::screening() && !services.is_empty() {
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
        // 3. What is new.
        let id = import_id(input)?;
        let mut effect = Effect::new(String::new());
        let (mut new, mut already) = (Vec::new(), 0);
        for item in &read.imported {
            let key_path = keys::path(KEYS, &item.key);
            let path = record_path(RecordKind::Incident, &item.incident.incident_id);
            if ctx.snap.read(&key_path)?.is_some() || ctx.snap.read(&path)?.is_some() {
                already += 1;
                continue;
            }
            if effect.writes.contains_key(&key_path) {
                return Err(Error::invalid(format!("source: `{}` appears twice", item.key)));
            }
            // 4. The incident and its key.
            effect.write(&path, &item.incident)?;
            effect.write(&key_path, &KeyFile { key: item.key.clone(), record: item.incident.incident_id.clone() })?;
            new.push(item.incident.incident_id.clone());
        }
        if new.is_empty() {
            return Err(Error::precondition(format!(
                "import: nothing new ({already} already imported, {} rejected)",
                read.rejected.len()
            )));
        }
        let folder = format!("records/imports/{id}");
        let source_file = format!("{folder}/source.{extension}");
        effect.write_raw(&source_file, bytes);
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
            already_imported: already,
            rejected: read.rejected,
            excluded: input.excluded.clone(),
            notes: read.notes,
            incident_ids: new.clone(),
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
}
