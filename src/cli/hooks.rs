//! `ims hooks install`: a pre-push hook that runs `ims verify`.

use serde_json::json;

use super::Env;
use crate::error::Result;

pub fn install(env: &Env, trust_root: Option<String>) -> Result<()> {
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
