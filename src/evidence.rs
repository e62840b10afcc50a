//! `ims evidence export`: one self-contained folder (and its `.tar.gz`) an auditor can
//! take away for a period — the population of records touched in it (CSV), the audit
//! entries of the period with their signature status (CSV), the `ims verify` verdict
//! with the trust root and the ims version, the allowed signers in force at the end of
//! the period, a git bundle of the whole history (so anyone can re-run `ims verify`
//! offline), an `index.html` to browse it, and, with `--sample N --seed S`, a
//! reproducible random sample of incidents with each one's full audit trail (how SOC 2
//! and ISO 27001 auditors test a control).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Snapshot;
use crate::query::{self, AuditEntry, AuditFilter};
use crate::repo::Repo;

/// What to export.
pub struct Request {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub out: PathBuf,
    /// `(N, seed)`.
    pub sample: Option<(usize, u64)>,
    pub trust_root: Option<git2::Oid>,
}

/// What was written.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub folder: PathBuf,
    pub archive: PathBuf,
    pub records: usize,
    pub audit_entries: usize,
    pub verify_ok: bool,
    pub trust_root: String,
    pub sample: Vec<String>,
    pub files: Vec<String>,
}

/// SplitMix64, as the demo uses: the same seed picks the same sample.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `n` of `population` (sorted first), chosen by a seeded partial Fisher–Yates shuffle.
pub fn sample(population: &[String], n: usize, seed: u64) -> Vec<String> {
    let mut items: Vec<String> = population.to_vec();
    items.sort();
    let mut state = seed;
    let n = n.min(items.len());
    for i in 0..n {
        let j = i + (splitmix(&mut state) % (items.len() - i) as u64) as usize;
        items.swap(i, j);
    }
    items.truncate(n);
    items.sort();
    items
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

fn csv_line(fields: &[String]) -> String {
    let mut line = fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(",");
    line.push('\n');
    line
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn audit_csv(entries: &[&AuditEntry]) -> String {
    let mut out = csv_line(
        &["at", "commit", "actor", "procedure", "action", "record_type", "record_id", "signature", "subject", "fields"]
            .map(String::from),
    );
    for e in entries {
        let signature = serde_json::to_value(e.signature).ok().and_then(|v| v.as_str().map(String::from));
        out.push_str(&csv_line(&[
            e.at.clone(),
            e.commit.clone(),
            e.actor.clone(),
            e.procedure.clone(),
            e.action.clone(),
            e.ref_type.clone(),
            e.ref_id.clone().unwrap_or_default(),
            signature.unwrap_or_default(),
            e.subject.clone(),
            Value::Object(e.fields.clone()).to_string(),
        ]));
    }
    out
}

use crate::sync::git_in as git;

/// Writes the evidence folder and its `.tar.gz`.
pub fn export(repo: &Repo, req: &Request) -> Result<Summary> {
    if req.until <= req.since {
        return Err(Error::invalid("--until: must be after --since"));
    }
    if req.out.exists() {
        return Err(Error::precondition(format!("{}: already exists; give a new folder", req.out.display())));
    }
    let tip = repo.tip()?.ok_or_else(|| Error::invalid("no history to export"))?;
    let workdir = repo.git.workdir().unwrap_or(repo.git.path()).to_path_buf();
    // The trust root: the one given, else the history's first commit (named as such).
    let root = match req.trust_root {
        Some(r) => r,
        None => {
            let first = git(&workdir, &["rev-list", "--max-parents=0", &tip.to_string()])?;
            git2::Oid::from_str(first.lines().last().unwrap_or("").trim())
                .map_err(|_| Error::internal("no root commit"))?
        }
    };
    // Audit entries of the period (procedures and audited reads).
    let all = query::audit(repo, &AuditFilter { since: Some(req.since), ..Default::default() })?;
    let until = req.until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut entries: Vec<&AuditEntry> = all.iter().filter(|e| e.at < until).collect();
    entries.reverse();
    // The population: every record a procedure touched in the period, as it stands now.
    let mut touched: BTreeMap<(String, String), usize> = BTreeMap::new();
    for e in &entries {
        if let (Some(id), Some(_)) = (&e.ref_id, crate::ids::RecordKind::from_entity(&e.ref_type)) {
            if !e.procedure.starts_with("read.") {
                *touched.entry((e.ref_type.clone(), id.clone())).or_default() += 1;
            }
        }
    }
    let snap = repo.snapshot(Some(tip))?;
    let mut records = csv_line(
        &["type", "id", "title", "status", "priority", "created_at", "updated_at", "procedures_in_period"]
            .map(String::from),
    );
    for ((kind, id), n) in &touched {
        let rid = crate::ids::RecordId::parse(id, "id")?;
        let record = match snap.read(&rid.path())? {
            Some(bytes) => crate::yaml::to_value(&String::from_utf8_lossy(&bytes), &rid.path())?,
            None => Value::Null,
        };
        let s = |k: &str| record.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let title = if record.get("title").is_some() { s("title") } else { s("summary") };
        records.push_str(&csv_line(&[
            kind.clone(),
            id.clone(),
            title,
            s("status"),
            s("priority"),
            s("created_at"),
            s("updated_at"),
            n.to_string(),
        ]));
    }
    // The verdict over the whole history, from the trust root.
    let report = crate::verify::verify(
        repo,
        &crate::verify::Options { range: None, trust_root: Some(root), no_cache: true, require_read_audit: false },
    )?;
    let out = &req.out;
    std::fs::create_dir_all(out).map_err(|e| Error::invalid(format!("{}: {e}", out.display())))?;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = out.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, bytes)?;
        Ok(())
    };
    write("records.csv", records.as_bytes())?;
    write("audit.csv", audit_csv(&entries).as_bytes())?;
    let verdict = serde_json::json!({
        "ims_version": env!("CARGO_PKG_VERSION"),
        "trust_root": root.to_string(),
        "trust_root_given": req.trust_root.is_some(),
        "tip": tip.to_string(),
        "period": { "since": req.since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "until": until },
        "verify": report,
    });
    write("verify.json", serde_json::to_string_pretty(&verdict)?.as_bytes())?;
    // The allowed signers in force at the end of the period: at the last commit before it.
    let at_end = git(&workdir, &["rev-list", "-1", &format!("--before={}", req.until.timestamp()), &tip.to_string()])?;
    let at_end = git2::Oid::from_str(at_end.trim()).unwrap_or(tip);
    let signers = repo.snapshot(Some(at_end))?.read("allowed_signers")?.unwrap_or_default();
    write("allowed_signers", &signers)?;
    // The history, whole: the branch and every read-audit ref.
    let bundle = out.join("history.bundle");
    let branch = repo.branch()?;
    let mut args = vec!["bundle".to_string(), "create".into(), "-q".into()];
    args.push(bundle.to_string_lossy().into_owned());
    args.push("HEAD".into());
    args.push(branch);
    for r in repo.git.references_glob("refs/ims/audit/reads/*")? {
        if let Ok(name) = r?.name() {
            args.push(name.to_string());
        }
    }
    git(&workdir, &args.iter().map(String::as_str).collect::<Vec<_>>())?;
    // The sample, with each incident's full trail (all time, not only the period).
    let incidents: Vec<String> = touched.keys().filter(|(k, _)| k == "incident").map(|(_, id)| id.clone()).collect();
    let chosen = match req.sample {
        Some((n, seed)) => sample(&incidents, n, seed),
        None => vec![],
    };
    for id in &chosen {
        let rid = crate::ids::RecordId::parse(id, "id")?;
        let record = snap.read(&rid.path())?.unwrap_or_default();
        write(&format!("sample/{id}.yaml"), &record)?;
        let trail = query::audit(repo, &AuditFilter { id: Some(id.clone()), ..Default::default() })?;
        let mut trail: Vec<&AuditEntry> = trail.iter().collect();
        trail.reverse();
        write(&format!("sample/{id}-trail.csv"), audit_csv(&trail).as_bytes())?;
    }
    if let Some((n, seed)) = req.sample {
        let note = format!(
            "{} of {} incidents touched in the period, chosen with seed {seed} (ims evidence export --sample {n} --seed {seed} picks the same ones):\n{}\n",
            chosen.len(),
            incidents.len(),
            chosen.join("\n")
        );
        write("sample/README.txt", note.as_bytes())?;
    }
    let mut files: BTreeSet<String> = BTreeSet::new();
    collect(out, out, &mut files);
    files.insert("index.html".into());
    let index = index_html(req, &root.to_string(), &report, touched.len(), entries.len(), &chosen, &files);
    write("index.html", index.as_bytes())?;
    // And the archive beside the folder.
    let archive = PathBuf::from(format!("{}.tar.gz", out.display()));
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "evidence".into());
    let file = std::fs::File::create(&archive)?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.mode(tar::HeaderMode::Deterministic);
    tar.append_dir_all(&name, out)?;
    tar.into_inner()?.finish()?;
    Ok(Summary {
        folder: out.clone(),
        archive,
        records: touched.len(),
        audit_entries: entries.len(),
        verify_ok: report.ok,
        trust_root: root.to_string(),
        sample: chosen,
        files: files.into_iter().collect(),
    })
}

fn collect(base: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = e.path();
        if path.is_dir() {
            collect(base, &path, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.insert(rel.to_string_lossy().into_owned());
        }
    }
}

fn index_html(
    req: &Request,
    root: &str,
    report: &crate::verify::Report,
    records: usize,
    entries: usize,
    sample: &[String],
    files: &BTreeSet<String>,
) -> String {
    let day = |t: &DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let verdict = if report.ok {
        format!("passed: {} commits checked, no violations", report.checked)
    } else {
        format!("FAILED: {} violations", report.violations.len())
    };
    let list: String = files.iter().map(|f| format!("<li><a href=\"{0}\">{0}</a></li>\n", html(f))).collect();
    let sample: String = sample
        .iter()
        .map(|id| {
            format!(
                "<li>{0}: <a href=\"sample/{0}.yaml\">record</a>, <a href=\"sample/{0}-trail.csv\">trail</a></li>\n",
                html(id)
            )
        })
        .collect();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>ims evidence {since} to {until}</title></head>\n<body>\n\
<h1>Evidence, {since} to {until}</h1>\n<dl>\n<dt>ims verify</dt><dd>{verdict} (verify.json)</dd>\n\
<dt>trust root</dt><dd><code>{root}</code></dd>\n<dt>ims version</dt><dd>{version}</dd>\n\
<dt>records touched</dt><dd>{records} (records.csv)</dd>\n<dt>audit entries</dt><dd>{entries} (audit.csv, with signature status)</dd>\n</dl>\n\
<h2>Re-verify offline</h2>\n<pre>git clone history.bundle records &amp;&amp; cd records &amp;&amp; ims verify --trust-root {root}</pre>\n\
<h2>Sample</h2>\n<ul>\n{sample}</ul>\n<h2>Files</h2>\n<ul>\n{list}</ul>\n</body></html>\n",
        since = html(&day(&req.since)),
        until = html(&day(&req.until)),
        version = env!("CARGO_PKG_VERSION"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_picks_the_same_sample_and_another_seed_another() {
        let population: Vec<String> = (0..50).map(|i| format!("INC-{i:02}")).collect();
        let a = sample(&population, 5, 7);
        assert_eq!(a, sample(&population.iter().rev().cloned().collect::<Vec<_>>(), 5, 7), "order does not matter");
        assert_eq!(a.len(), 5);
        assert_ne!(a, sample(&population, 5, 8));
        assert_eq!(sample(&population, 99, 1).len(), 50);
    }

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_line(&["a".into(), "b,c".into(), "say \"hi\"".into()]), "a,\"b,c\",\"say \"\"hi\"\"\"\n");
    }
}
