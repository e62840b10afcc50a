//! `ims verify`: prove the history offline (`ims_io::verify`).

use super::{Env, VerifyArgs};
use crate::error::{Error, Kind, Result};
use crate::verify::{self, Options};

pub fn run(env: &Env, args: VerifyArgs) -> Result<()> {
    let repo = env.repo()?;
    let trust_root = verify::trust_root(&repo, args.trust_root.as_deref())?;
    let range = args.range.as_deref().map(|r| verify::parse_range(&repo.git, r)).transpose()?;
    let report = verify::verify(
        &repo,
        &Options { range, trust_root, no_cache: args.no_cache, require_read_audit: args.require_read_audit },
    )?;
    for w in &report.warnings {
        env.ui.status(&format!("warning: {w}"));
    }
    let doc = serde_json::to_value(&report)?;
    env.ui.data(doc, || {
        let mut text = String::new();
        for v in &report.violations {
            text.push_str(&format!("{} {}: {}\n", &v.commit[..v.commit.len().min(10)], v.rule, v.message));
        }
        text.push_str(&format!(
            "{}: {} commits checked, {} from cache, {} violations",
            if report.ok { "ok" } else { "FAILED" },
            report.checked,
            report.cached,
            report.violations.len()
        ));
        text
    });
    if report.ok {
        Ok(())
    } else {
        Err(Error::new(Kind::Verify, format!("{} violations", report.violations.len())))
    }
}
