//! `ims import cstate DIR` and `ims import csv FILE --mapping MAPPING.yaml`.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{json, Value};

use super::Env;
use crate::error::{Error, Result};
use crate::hygiene::{self, Shape};
use crate::import::{cstate, csv, Skipped};
use crate::procedures::incident::import::{self, Format, Import2, Input, Plan, Redo, RedoInput};

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
        /// Print what the import would do and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// A CSV export (one row per incident, or one per state change), read by a mapping.
    Csv {
        /// The export to read (a CSV file).
        #[arg(value_name = "FILE")]
        source: PathBuf,
        /// The mapping file: which column holds what, and how values map (see README).
        #[arg(long, value_name = "MAPPING.yaml")]
        mapping: PathBuf,
        /// Print what the import would do and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Re-derive an import's incidents from its archived source with a corrected mapping.
    Redo {
        /// The import (`IMP-…`, the folder under records/imports/).
        #[arg(value_name = "IMP-ID")]
        import_id: String,
        /// The corrected mapping.
        #[arg(long, value_name = "MAPPING.yaml")]
        mapping: PathBuf,
    },
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::repo::read_capped(path, crate::repo::caps::IMPORT, "import")
}

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
        let checked = String::from_utf8(read(&path)?).map_err(|_| "not UTF-8".to_string()).and_then(|text| {
            hygiene::text(hygiene::Rules::Screening, "file", &text, Shape::Document)
                .map(|_| text)
                .map_err(|e| e.message)
        });
        match checked {
            Ok(text) => files.push(cstate::File { file, text }),
            Err(reason) => excluded.push(Skipped { item: file, reason }),
        }
    }
    Ok((serde_json::to_vec(&files)?, excluded))
}

/// Reads a mapping file: a page of YAML, checked.
fn mapping_file(path: &Path) -> Result<csv::Mapping> {
    // A mapping is a page of YAML; anything larger is not one.
    let text = String::from_utf8(crate::repo::read_capped(path, crate::repo::caps::PAGE, "--mapping")?)
        .map_err(|_| Error::invalid(format!("{}: not UTF-8", path.display())))?;
    Ok(csv::Mapping::parse(&text)?)
}

/// A reason with what differs from item to item (line numbers, quoted values, times)
/// taken out, so rejections group by cause.
fn reason_kind(reason: &str) -> String {
    static PATTERNS: std::sync::OnceLock<[regex::Regex; 3]> = std::sync::OnceLock::new();
    let [line, quoted, time] = PATTERNS.get_or_init(|| {
        [
            regex::Regex::new(r"line \d+").expect("a valid pattern"),
            regex::Regex::new(r"`[^`]*`").expect("a valid pattern"),
            regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
                .expect("a valid pattern"),
        ]
    });
    let r = line.replace_all(reason, "line N");
    let r = r.strip_prefix("line N: ").unwrap_or(&r);
    let r = quoted.replace_all(r, "`…`");
    time.replace_all(&r, "<time>").into_owned()
}

/// Rejections grouped by cause, largest group first, with up to 3 examples each.
fn grouped(lists: &[(&str, &[Skipped])]) -> Vec<Value> {
    let mut groups: Vec<(String, &str, Vec<&Skipped>)> = Vec::new();
    for (what, list) in lists {
        for s in *list {
            let kind = reason_kind(&s.reason);
            match groups.iter_mut().find(|g| g.0 == kind && g.1 == *what) {
                Some(g) => g.2.push(s),
                None => groups.push((kind, what, vec![s])),
            }
        }
    }
    groups.sort_by_key(|g| std::cmp::Reverse(g.2.len()));
    groups
        .into_iter()
        .map(|(kind, what, items)| {
            json!({ "outcome": what, "reason": kind, "count": items.len(),
                    "examples": items.iter().take(3).map(|s| json!({"item": s.item, "reason": s.reason})).collect::<Vec<_>>() })
        })
        .collect()
}

fn grouped_text(groups: &[Value]) -> String {
    let mut text = String::new();
    for g in groups {
        text.push_str(&format!(
            "  {} {}: {}\n",
            g["count"],
            g["outcome"].as_str().unwrap_or(""),
            g["reason"].as_str().unwrap_or("")
        ));
        for e in g["examples"].as_array().into_iter().flatten() {
            text.push_str(&format!(
                "    e.g. {}: {}\n",
                e["item"].as_str().unwrap_or(""),
                e["reason"].as_str().unwrap_or("")
            ));
        }
    }
    text
}

/// What the reader made of the source: counts, grouped reasons, dates, samples.
fn summary(plan: &Plan, excluded: &[Skipped]) -> Value {
    let new: Vec<&crate::model::Incident> = plan.new.iter().map(|n| &plan.read.imported[*n].incident).collect();
    let times = || new.iter().map(|i| i.created_at);
    let fmt = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let span = match (times().min(), times().max()) {
        (Some(a), Some(b)) => json!({ "first_opened": fmt(a), "last_opened": fmt(b) }),
        _ => Value::Null,
    };
    let samples: Vec<Value> = if plan.read.samples.is_empty() {
        new.iter()
            .take(3)
            .map(|i| json!({ "item": i.incident_id, "reason": format!("opened {}", fmt(i.created_at)) }))
            .collect()
    } else {
        plan.read.samples.iter().map(|s| json!({ "item": s.item, "reason": s.reason })).collect()
    };
    json!({
        "imported": new.len(),
        "already_imported": plan.already,
        "rejected": plan.read.rejected,
        "excluded": excluded,
        "notes": plan.read.notes,
        "reasons": grouped(&[("rejected", &plan.read.rejected), ("left out", excluded), ("note", &plan.read.notes)]),
        "span": span,
        "samples": samples,
    })
}

fn summary_text(doc: &Value) -> String {
    let mut text = grouped_text(doc["reasons"].as_array().map(Vec::as_slice).unwrap_or(&[]));
    if let Some(span) = doc["span"].as_object() {
        text.push_str(&format!(
            "  dates: opened from {} to {}\n",
            span["first_opened"].as_str().unwrap_or(""),
            span["last_opened"].as_str().unwrap_or("")
        ));
    }
    for s in doc["samples"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "  time read: {}: {}\n",
            s["item"].as_str().unwrap_or(""),
            s["reason"].as_str().unwrap_or("")
        ));
    }
    text
}

/// Exit 3 with the document already printed (so `--json` gives one document).
fn refuse(env: &Env, mut doc: Value, message: String) -> Result<()> {
    doc["ok"] = json!(false);
    doc["error"] = json!({ "code": "invalid", "message": message });
    let text = summary_text(&doc);
    env.ui.data(doc, || format!("{message}\n{text}"));
    super::document_printed();
    Err(Error::invalid(message))
}

pub fn import(env: &Env, command: ImportCommand) -> Result<()> {
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let (format, source, mapping, timezone, dry_run) = match &command {
        ImportCommand::Cstate { source, timezone, dry_run } => {
            (Format::Cstate, source, None, timezone.clone(), *dry_run)
        }
        ImportCommand::Csv { source, mapping, dry_run } => {
            let m = mapping_file(mapping)?;
            let zone = m.timezone.clone();
            (Format::Csv, source, Some(m), zone, *dry_run)
        }
        ImportCommand::Redo { import_id, mapping } => {
            let input = RedoInput { import_id: import_id.clone(), mapping: mapping_file(mapping)? };
            return env.run::<Redo>(&repo, &input);
        }
    };
    let source = if source.is_absolute() { source.clone() } else { env.dir.join(source) };
    let (archive, excluded) = match (&mapping, format) {
        (Some(m), Format::Csv) => csv::minimize(&read(&source)?, m)?,
        _ => cstate_bundle(&source)?,
    };
    // The procedure reads the archive by id; it reaches the object database only with
    // the import's commit, so a refused import leaves nothing behind.
    let blob = git2::Oid::hash_object(git2::ObjectType::Blob, &archive)?;
    let staged = std::collections::BTreeMap::from([(blob.to_string(), archive)]);
    let input = Input {
        format,
        source_name: source.file_name().unwrap_or_default().to_string_lossy().into_owned(),
        source: blob.to_string(),
        mapping,
        timezone,
        excluded,
    };
    let plan = crate::run::preview_staged(&repo, &identity, &staged, |ctx| import::plan(ctx, &input, import::VERSION))?;
    let mut doc = summary(&plan, &input.excluded);
    doc["ok"] = json!(true);
    doc["dry_run"] = json!(dry_run);
    doc["id"] = json!(plan.import_id);
    if plan.all_rejected(input.excluded.len()) {
        let n = plan.read.rejected.len() + input.excluded.len();
        let causes: Vec<String> = doc["reasons"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|g| g["outcome"] != "note")
            .map(|g| format!("{} × {}", g["count"], g["reason"].as_str().unwrap_or("")))
            .collect();
        return refuse(
            env,
            doc,
            format!("import: every one of the {n} incidents in the source was rejected ({})", causes.join("; ")),
        );
    }
    if dry_run {
        doc["commit"] = Value::Null;
        let text = summary_text(&doc);
        let head = format!(
            "dry run: would import {} incidents ({} already imported, {} rejected, {} left out); nothing changed\n",
            plan.new.len(),
            plan.already,
            plan.read.rejected.len(),
            input.excluded.len()
        );
        env.ui.data(doc, || head + &text);
        return Ok(());
    }
    if plan.new.is_empty() {
        let message = format!(
            "import: nothing new ({} already imported, {} rejected)",
            plan.already,
            plan.read.rejected.len() + input.excluded.len()
        );
        doc["id"] = Value::Null;
        doc["commit"] = Value::Null;
        doc["message"] = json!(message);
        let text = summary_text(&doc);
        env.ui.data(doc, || format!("{message}\n{text}"));
        return Ok(());
    }
    drop(plan);
    let now = crate::run::procedure_now(&repo)?;
    let outcome = crate::run::run_staged::<Import2>(&repo, &identity, &input, now, &staged)?;
    let record = outcome.effect.record.clone().unwrap_or_default();
    doc["commit"] = json!(outcome.commit.to_string());
    for key in ["imported", "already_imported", "rejected", "excluded", "notes"] {
        doc[key] = record[key].clone();
    }
    doc["record"] = record;
    env.ui.data(doc.clone(), || {
        format!(
            "{}\n  id:     {}\n  commit: {}\n{}",
            outcome.effect.subject,
            outcome.effect.id.as_deref().unwrap_or(""),
            outcome.commit,
            summary_text(&doc)
        )
    });
    Ok(())
}
