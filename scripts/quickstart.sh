#!/usr/bin/env bash
# The README's quick start, run for real in a temporary directory: a records
# repository, two people with SSH keys, and one incident from report to closure.
# Its output is the README's quick start: `tests/cli/quickstart.rs` runs this script and
# fails when the two differ (IMS_BLESS=1 rewrites the README from it).
# IMS_BIN: the ims binary to run (default: a release build of this checkout).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${IMS_BIN:-}" ]; then
  cargo build --release --quiet --manifest-path "$root/Cargo.toml"
  IMS_BIN="$root/target/release/ims"
fi
ims() { "$IMS_BIN" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
run() { printf '\n$'; printf ' %q' "$@"; printf '\n'; "$@"; }
unset IMS_ACTOR IMS_SIGNING_KEY NO_COLOR

run ssh-keygen -q -t ed25519 -N '' -C alice -f alice
run ssh-keygen -q -t ed25519 -N '' -C bob -f bob
run export IMS_NOW=2026-11-26T09:00:00Z
run ims init records --name "Alice Example" --email alice@example.com --key alice.pub --simulated-clock
run cd records
run ims person add --email bob@example.com --name "Bob Example" --role service_desk,L2 --key ../bob.pub
run export IMS_NOW=2026-11-26T09:05:00Z
run ims -q incident identify --title "Checkout returns 502" --service shop --source user_report >"$work/id"
cat "$work/id"
id=$(tail -n 1 "$work/id")
run export IMS_ACTOR=bob@example.com IMS_SIGNING_KEY=../bob IMS_NOW=2026-11-26T09:07:00Z
run ims incident assign "${id:0:16}" --team L2 --assignee bob@example.com
run ims incident categorize "${id:0:16}" --category software
run ims incident prioritize "${id:0:16}" --priority medium --severity medium --justification "checkout for some users"
run ims find incident --active
run export IMS_NOW=2026-11-26T09:40:00Z
run ims incident resolve "${id:0:16}" --summary "rolled back the gateway config" --fix-applied --service-restored
run ims incident close "${id:0:16}" --notes "confirmed with the reporter"
run ims find incident --status resolved,closed
run ims audit "${id:0:16}"
run git log --format='%h %G? %s'
run git verify-commit HEAD
