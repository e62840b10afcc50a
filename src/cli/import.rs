//! `ims import cstate DIR` and `ims import csv FILE --mapping MAPPING.yaml`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::json;

use super::Env;
use crate::error::{Error, Kind, Result};
use crate::hygiene::{self, Shape};
use crate::import::{cstate, csv, Skipped};
use crate::procedures::incident::import::{Format, Import, Input};

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Status-page incidents in cState's format (Markdown files with front matter).
    Cstate {
        /// The folder of incident files (cState's `content/issues/`).
        #[arg(value_name = "DIR")]
        source: PathBuf,
        /// The time zone of times written without a UTC offset.
        #[arg(long, default_value = "UTC")]
        timezone: String,
    },
    /// A CSV export (one row per incident, or one per state change), read by a mapping.
    Csv {
        #[arg(value_name = "FILE")]
        source: PathBuf,
        /// The mapping file: which column holds what, and how values map (see README).
        #[arg(long, value_name = "MAPPING.yaml")]
        mapping: PathBuf,
    },
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::invalid(format!("{}: {e}", path.display())))
}

/// A mapping is a page of YAML; anything larger is not one.
const MAPPING_MAX: u64 = 1 << 20;

/// The cState files of a folder as a bundle, leaving out (with the reason) those that
/// fail the input checks, so nothing unsafe reaches the archive.
fn cstate_bundle(dir: &Path) -> Result<(Vec<u8>, Vec<Skipped>)> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::invalid(format!("{}: {e}", dir.display())))?;
    let mut names: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(Error::invalid(format!("{}: no .md files", dir.display())));
    }
    let (mut files, mut excluded) = (Vec::new(), Vec::new());
    for path in names {
        let file = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let checked = String::from_utf8(read(&path)?)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(|text| hygiene::text("file", &text, Shape::Document).map(|_| text).map_err(|e| e.message));
        match checked {
            Ok(text) => files.push(cstate::File { file, text }),
            Err(reason) => excluded.push(Skipped { item: file, reason }),
        }
    }
    Ok((serde_json::to_vec(&files)?, excluded))
}

pub fn import(env: &Env, command: ImportCommand) -> Result<()> {
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let (format, source, mapping, timezone) = match &command {
        ImportCommand::Cstate { source, timezone } => (Format::Cstate, source, None, timezone.clone()),
        ImportCommand::Csv { source, mapping } => {
            if std::fs::metadata(mapping).is_ok_and(|m| m.len() > MAPPING_MAX) {
                return Err(Error::invalid(format!("{}: over {MAPPING_MAX} bytes; not a mapping", mapping.display())));
            }
            let text = String::from_utf8(read(mapping)?)
                .map_err(|_| Error::invalid(format!("{}: not UTF-8", mapping.display())))?;
            let m = csv::Mapping::parse(&text)?;
            let zone = m.timezone.clone();
            (Format::Csv, source, Some(m), zone)
        }
    };
    let source = if source.is_absolute() { source.clone() } else { env.dir.join(source) };
    let (archive, excluded) = match (&mapping, format) {
        (Some(m), Format::Csv) => csv::minimize(&read(&source)?, m)?,
        _ => cstate_bundle(&source)?,
    };
    // The procedure reads the archive by id; it reaches the object database only with
    // the import's commit, so a refused import leaves nothing behind.
    let blob = crate::repo::stage_blob(archive)?;
    let input = Input {
        format,
        source_name: source.file_name().unwrap_or_default().to_string_lossy().into_owned(),
        source: blob.to_string(),
        mapping,
        timezone,
        excluded,
    };
    match crate::run::run::<Import>(&repo, &identity, &input) {
        Ok(outcome) => {
            let record = outcome.effect.record.clone().unwrap_or_default();
            let doc = json!({ "ok": true, "id": outcome.effect.id, "commit": outcome.commit.to_string(),
                              "imported": record["imported"], "already_imported": record["already_imported"],
                              "rejected": record["rejected"], "excluded": record["excluded"],
                              "notes": record["notes"], "record": record });
            env.ui.data(doc, || {
                let mut text = format!(
                    "{}\n  id:     {}\n  commit: {}\n",
                    outcome.effect.subject,
                    outcome.effect.id.as_deref().unwrap_or(""),
                    outcome.commit
                );
                for (what, list) in
                    [("rejected", &record["rejected"]), ("left out", &record["excluded"]), ("note", &record["notes"])]
                {
                    for s in list.as_array().into_iter().flatten() {
                        text.push_str(&format!(
                            "  {what}: {}: {}\n",
                            s["item"].as_str().unwrap_or(""),
                            s["reason"].as_str().unwrap_or("")
                        ));
                    }
                }
                text
            });
            Ok(())
        }
        Err(e) if e.kind == Kind::Precondition && e.message.starts_with("import: nothing new") => {
            env.ui.data(json!({ "ok": true, "id": null, "commit": null, "imported": 0, "message": e.message }), || {
                format!("{}\n", e.message)
            });
            Ok(())
        }
        Err(e) => Err(e),
    }
}
