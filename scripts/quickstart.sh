#!/usr/bin/env bash
# The README's quick start, run for real in a temporary directory: a records
# repository, two people with SSH keys, and one incident from report to closure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/ims"
ims() { "$bin" "$@"; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
run() { printf '\n$'; printf ' %q' "$@"; printf '\n'; "$@"; }

ssh-keygen -q -t ed25519 -N '' -C alice -f alice
ssh-keygen -q -t ed25519 -N '' -C bob -f bob
export IMS_NOW=2026-11-26T09:00:00Z
run ims init records --name "Alice Example" --email alice@example.com --key alice.pub --simulated-clock
cd records
run ims person add --email bob@example.com --name "Bob Example" --role service_desk,L2 --key ../bob.pub
export IMS_NOW=2026-11-26T09:05:00Z
id=$(ims incident identify --title "Checkout returns 502" --service shop --source user_report --json |
  sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
printf '\n$ ims incident identify --title "Checkout returns 502" --service shop --source user_report\n%s\n' "$id"
export IMS_ACTOR=bob@example.com IMS_SIGNING_KEY=../bob
export IMS_NOW=2026-11-26T09:07:00Z
run ims incident assign "${id:0:16}" --team L2 --assignee bob@example.com
run ims incident categorize "${id:0:16}" --category software
run ims incident prioritize "${id:0:16}" --priority medium --severity medium --justification "checkout for some users"
export IMS_NOW=2026-11-26T09:40:00Z
run ims incident resolve "${id:0:16}" --summary "rolled back the gateway config" --fix-applied --service-restored
run ims incident close "${id:0:16}" --notes "confirmed with the reporter"
run ims find incident --status closed
run ims audit "${id:0:16}"
run git log --format='%h %G? %s'
run git verify-commit HEAD
