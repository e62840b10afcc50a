//! `ims evidence export --since D --until D OUT [--sample N --seed S]` (`crate::evidence`).

use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use crate::cli::{parse_time, Env};
use crate::error::Result;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The new folder to write (OUT.tar.gz is written beside it).
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// The period's start (date or RFC 3339), included.
    #[arg(long, value_name = "WHEN")]
    pub since: String,
    /// The period's end (date or RFC 3339), excluded.
    #[arg(long, value_name = "WHEN")]
    pub until: String,
    /// Add a random sample of N incidents touched in the period, each with its full trail.
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,
    /// The sample's seed: the same seed picks the same incidents.
    #[arg(long, value_name = "S", requires = "sample")]
    pub seed: Option<u64>,
    /// The root commit the history must start at (default: its first commit).
    #[arg(long, value_name = "COMMIT")]
    pub trust_root: Option<String>,
}

pub fn run(env: &Env, a: ExportArgs) -> Result<()> {
    let repo = env.repo()?;
    let trust_root = crate::verify::trust_root(&repo, a.trust_root.as_deref())?;
    let out = if a.out.is_absolute() { a.out.clone() } else { env.dir.join(&a.out) };
    let request = crate::evidence::Request {
        since: parse_time("--since", &a.since)?,
        until: parse_time("--until", &a.until)?,
        out,
        sample: a.sample.map(|n| (n, a.seed.unwrap_or(0))),
        trust_root,
    };
    let summary = crate::evidence::export(&repo, &request)?;
    env.ui.data(json!({ "ok": true, "evidence": summary }), || {
        format!(
            "evidence: {} ({} records touched, {} audit entries, verify {}, {} sampled)\narchive:  {}",
            summary.folder.display(),
            summary.records,
            summary.audit_entries,
            if summary.verify_ok { "passed" } else { "FAILED" },
            summary.sample.len(),
            summary.archive.display()
        )
    });
    Ok(())
}
