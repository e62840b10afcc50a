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
}

pub fn deliver(env: &Env, args: DeliverArgs) -> Result<()> {
    let interval = crate::model::config::parse_duration(&args.interval).map_err(|e| e.context("--interval"))?;
    if interval < 1 {
        return Err(Error::invalid("--interval: at least 1s"));
    }
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    loop {
        // Each run reads the clock anew (a --watch process lives across many).
        let now = crate::run::procedure_now(&repo)?;
        let report = crate::deliver::run_once(&repo, &identity, now)?;
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
