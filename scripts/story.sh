#!/usr/bin/env bash
# A recurring fault, for real, in a temporary directory: three incidents, a problem, a
# known error with its KB article, an approved change, the problem resolved and closed
# after the stability window, and a post-incident review. The README quotes its output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/release/ims"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
ims() { "$bin" "$@"; }
run() { printf '\n$'; printf ' %q' ims "$@"; printf '\n'; ims "$@"; }
quiet() { ims "$@" --json | sed -n 's/^{"ok":true,"id":"\([^"]*\)".*/\1/p'; }
as() { export IMS_ACTOR="$1@example.com" IMS_SIGNING_KEY="$work/$1"; }
for k in ines lou cam; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$k"; done
export IMS_NOW=2026-11-26T09:00:00Z
ims -q init records --name "Ines" --email ines@example.com --key ines.pub --simulated-clock >/dev/null
cd records
as ines
ims -q person add --email lou@example.com --name Lou --role L2,service_desk --key ../lou.pub >/dev/null
ims -q person add --email cam@example.com --name Cam --role change_mgmt --key ../cam.pub >/dev/null
as lou
i1=$(quiet incident identify --title "Checkout times out" --service shop --source user_report)
i2=$(quiet incident identify --title "Checkout slow again" --service shop --source user_report)
i3=$(quiet incident identify --title "Timeouts on payment page" --service shop --source user_report)
printf 'three incidents: %s %s %s\n' "$i1" "$i2" "$i3"
run problem create --title "Connection pool exhausted" --description "The pool runs dry at peak" --source incident_trend --service shop --incident "$i1"
prb=$(ims find problem --json | sed -n 's/.*"problem_id":"\(PRB-[^"]*\)".*/\1/p')
run problem link "${prb:0:16}" "$i2"
run problem create --title "exhausted: the connection-pool" --description "dup" --source user_report --service shop || true
run problem workaround "${prb:0:16}" --workaround "Restart the app servers one at a time"
kb=$(ims show "$prb" --json | sed -n 's/.*"kb_ids":\["\(KB-[^"]*\)".*/\1/p')
as ines
run kb publish "${kb:0:15}"
as lou
ims -q incident assign "$i3" --team L2 >/dev/null
run incident resolve "${i3:0:16}" --summary "restarted in turn" --fix-applied --service-restored --problem "${prb:0:16}" --kb "${kb:0:15}"
run change request --summary "Raise the pool to 80 connections" --risk high --problem "${prb:0:16}"
chg=$(ims find change --json | sed -n 's/.*"change_id":"\(CHG-[^"]*\)".*/\1/p')
as cam
run change approve "${chg:0:16}"
as ines
run change approve "${chg:0:16}" --note "after hours"
as lou
run change implement "${chg:0:16}"
as cam
run change review "${chg:0:16}" --outcome successful
as lou
run problem resolve "${prb:0:16}" --evidence "no exhaustion through a peak week"
as ines
export IMS_NOW=2026-11-30T09:00:00Z
run problem close "${prb:0:16}" || true
export IMS_NOW=2026-12-04T09:00:00Z
run problem close "${prb:0:16}"
run incident review "${i3:0:16}" --timeline "Three reports in a day" --factors "Pool sized for last year" --action "Load-test before peak | owner=lou@example.com | due=2026-12-15" --kb "${kb:0:15}"
run pir overdue
run find problem --status closed
run audit "${prb:0:16}" --action kb_update
