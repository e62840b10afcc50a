//! `ims deliver`: email and chat delivery of the recorded communications, as the
//! automation identity; one signed `communication.deliver/1` commit per run.

use serde_json::json;

use super::Env;
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct DeliverArgs {
    /// Keep running: a run every --interval until stopped (beside `ims intake serve`).
    #[arg(long)]
    pub watch: bool,
    /// The wait between runs with --watch (30s, 1m, …).
    #[arg(long, default_value = "30s", requires = "watch")]
    pub interval: String,
    /// The root commit `ims init` printed: the history must verify from it before
    /// anything is sent (without it, everything but the root is still checked).
    #[arg(long, value_name = "COMMIT")]
    pub trust_root: Option<String>,
}

pub fn deliver(env: &Env, args: DeliverArgs) -> Result<()> {
    let interval = crate::model::config::parse_duration(&args.interval).map_err(|e| e.context("--interval"))?;
    if interval < 1 {
        return Err(Error::invalid("--interval: at least 1s"));
    }
    let repo = env.repo()?;
    // The signing identity is needed only once there is something to deliver.
    let mut identity = None;
    loop {
        // Each run reads the clock anew (a --watch process lives across many).
        let now = crate::run::procedure_now(&repo)?;
        let mut run = || -> Result<crate::deliver::Report> {
            if !crate::deliver::configured(&repo)? {
                return Ok(crate::deliver::Report::default());
            }
            // Settings and records reach people only when a signed, authorized procedure
            // wrote them: a hand-edited ims.yaml could add recipients, point a webhook at
            // any address or name a secret to send to any server.
            verified(&repo, args.trust_root.as_deref())?;
            if identity.is_none() {
                identity = Some(env.identity(&repo)?);
            }
            crate::deliver::run_once(&repo, identity.as_ref().expect("set above"), now)
        };
        let report = match run() {
            Ok(r) => r,
            // A watcher outlives one bad run (a server down, a concurrent writer): it
            // says so and tries again at the next interval.
            Err(e) if args.watch && e.kind != crate::error::Kind::Forbidden => {
                eprintln!("error: {}", crate::terminal::line(&e.message));
                std::thread::sleep(std::time::Duration::from_secs(interval as u64));
                continue;
            }
            Err(e) => return Err(e),
        };
        let text = {
            let mut t = String::new();
            if !report.configured {
                t.push_str("notifications are not configured in ims.yaml: nothing to deliver\n");
            }
            for s in &report.sent {
                let result = match s.result {
                    crate::model::delivery::AttemptResult::Sent => "sent",
                    crate::model::delivery::AttemptResult::Temporary => "temporary failure",
                    crate::model::delivery::AttemptResult::Permanent => "refused",
                };
                t.push_str(&format!(
                    "{}  {:<24} {:<32} {result}: {}\n  Message-ID: <{}>\n",
                    s.incident_id, s.about, s.recipient, s.answer, s.message_id
                ));
            }
            if report.configured && report.sent.is_empty() {
                t.push_str("nothing to deliver\n");
            }
            if let Some(c) = &report.commit {
                t.push_str(&format!("recorded in commit {c}\n"));
            }
            t
        };
        if args.watch {
            if !report.sent.is_empty() {
                env.ui.status(text.trim_end());
            }
            std::thread::sleep(std::time::Duration::from_secs(interval as u64));
            continue;
        }
        env.ui.data(
            json!({ "ok": true, "configured": report.configured, "sent": report.sent, "commit": report.commit }),
            || text,
        );
        return Ok(());
    }
}

/// Halts (exit 7) unless the history verifies (the verify cache keeps a warm run cheap).
fn verified(repo: &crate::repo::Repo, trust_root: Option<&str>) -> Result<()> {
    let trust_root = crate::verify::trust_root(repo, trust_root)?;
    let options = crate::verify::Options { range: None, trust_root, no_cache: false, require_read_audit: false };
    let report = crate::verify::verify(repo, &options)?;
    if let Some(v) = report.violations.first() {
        return Err(Error::new(
            crate::error::Kind::Verify,
            format!(
                "deliver: the history does not verify ({} violation(s); first: {} at {}: {}); nothing was sent. Run `ims verify` and repair the history first",
                report.violations.len(),
                v.rule,
                v.commit,
                crate::terminal::line(&v.message)
            ),
        ));
    }
    Ok(())
}
