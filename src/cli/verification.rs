//! `ims verify`, `ims sync`, `ims hooks install`.

use serde_json::json;

use super::{Env, SyncArgs, VerifyArgs};
use crate::error::{Error, Kind, Result};
use crate::verify::{self, Options};

pub fn verify(env: &Env, args: VerifyArgs) -> Result<()> {
    let repo = env.repo()?;
    let trust_root = match &args.trust_root {
        Some(t) => Some(
            repo.git
                .revparse_single(t)
                .and_then(|o| o.peel_to_commit())
                .map(|c| c.id())
                .map_err(|_| Error::invalid(format!("--trust-root: `{t}` is not a commit here")))?,
        ),
        None => None,
    };
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

pub fn sync(env: &Env, args: SyncArgs) -> Result<()> {
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let outcome = crate::sync::sync(&repo, &identity, &args.remote, args.push)?;
    let doc = json!({ "ok": true, "sync": outcome, "commit": outcome.tip });
    env.ui.data(doc, || {
        let mut text = format!("{}/{}: {}", outcome.remote, outcome.branch, outcome.action);
        for r in &outcome.replayed {
            text.push_str(&format!("\n  replayed: {r}"));
        }
        if outcome.pushed {
            text.push_str(&format!("\n  pushed {}", outcome.tip));
        }
        text
    });
    Ok(())
}

pub fn install_hooks(env: &Env, trust_root: Option<String>) -> Result<()> {
    let repo = env.repo()?;
    let exe = std::env::current_exe()?;
    let pin = match trust_root {
        Some(t) => format!(" --trust-root {}", shell_word(&t)),
        None => String::new(),
    };
    let hook = format!(
        r#"#!/bin/sh
# Installed by `ims hooks install`: refuses to push history that `ims verify` rejects.
ims={exe}
zero=0000000000000000000000000000000000000000
while read local_ref local_sha remote_ref remote_sha; do
  [ "$local_sha" = "$zero" ] && continue
  case "$local_ref" in refs/heads/*) ;; *) continue ;; esac
  range="$local_sha"
  if [ "$remote_sha" != "$zero" ] && git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null; then
    range="$remote_sha..$local_sha"
  fi
  "$ims" -q verify --range "$range"{pin} || {{ echo "ims: push refused: $local_ref does not verify" >&2; exit 1; }}
done
exit 0
"#,
        exe = shell_word(&exe.to_string_lossy()),
    );
    let dir = repo.git.path().join("hooks");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("pre-push");
    std::fs::write(&path, hook)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    env.ui.data(json!({ "ok": true, "hook": path }), || format!("installed {}", path.display()));
    Ok(())
}

fn shell_word(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
