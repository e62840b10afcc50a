#!/usr/bin/env bash
# Makes the compatibility fixture: a small records history that exercises every
# procedure of this version, bundled into tests/fixtures/history-vN.bundle. Each release
# adds its own bundle and keeps the old ones: every later ims must still read and replay
# them (tests/cli/compat.rs).
#
#   scripts/make-fixture.sh tests/fixtures/history-v3.bundle
set -euo pipefail
out=$(realpath -m "${1:?usage: make-fixture.sh OUT.bundle}")
root=$(cd "$(dirname "$0")/.." && pwd)
cargo build --quiet --manifest-path "$root/Cargo.toml"
bin="$root/target/debug/ims"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for who in im im2 sd l1 l2 l3 auto eu; do ssh-keygen -q -t ed25519 -N '' -C "$who" -f "$who"; done
ssh-keygen -q -t ecdsa -N '' -C l3ecdsa -f l3e
at() { export IMS_NOW="2026-11-26T$1:00Z"; }
as() { export IMS_ACTOR="$1@example.com" IMS_SIGNING_KEY="$work/$2"; }
ims() { "$bin" -q "$@" >/dev/null; }
idof() { "$bin" "$@" --json | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'; }

at 08:00; "$bin" -q init repo --name "Ines Manager" --email im@example.com --key im.pub --simulated-clock >/dev/null
cd repo
as im im
at 08:01; ims person add --email sd@example.com --name "Sam Desk" --role service_desk --team service_desk --key ../sd.pub
ims person add --email l1@example.com --name "Lee One" --role L1 --team L1 --key ../l1.pub
ims person add --email l2@example.com --name "Lou Two" --role L2,devops --team L2 --key ../l2.pub
ims person add --email l3@example.com --name "Lin Three" --role L3 --team L3 --key ../l3.pub
ims person add --email auto@example.com --name "Automation" --role automation --key ../auto.pub
ims person add --email eu@example.com --name "Eve User" --role end_user
ims config set sla.targets.high.acknowledge 10m
ims config set priority_matrix "{high: {high: high, medium: high, low: medium}, medium: {high: high, medium: medium, low: low}, low: {high: medium, medium: low, low: low}}"
ims person update l3@example.com --key ../l3e.pub
sed 's/<h1>/<h1 class="fixture">/' "$root/templates/incident.html" > ../incident.html
ims template set incident.html ../incident.html
ims template set base.html "$root/templates/base.html"
ims template remove base.html
at 08:02; ims person add --email im2@example.com --name "Ivo Manager" --role incident_manager --key ../im2.pub
prp=$(idof person add --email gone@example.com --name "Gone Soon" --role L1)
as im2 im2; ims proposal approve "$prp"
as im im; prp=$(idof template set index.html "$root/templates/index.html")
as im2 im2; ims proposal approve "$prp"
prp=$(idof config set timezone Europe/Paris)
as im im; ims proposal reject "$prp" --reason "we report in UTC"
prp=$(idof person revoke gone@example.com --reason "left")
as im2 im2; ims proposal approve "$prp"

as sd sd
at 09:00; inc=$(idof incident identify --title "Checkout returns 502" --service shop --source user_report --reporter eu@example.com --description "card payments fail")
ims incident log "$inc" --diagnosis "gateway 502s" --workaround "pay by invoice"
ims incident categorize "$inc" --category software --subcategory payments
at 09:05; ims incident assign "$inc" --team L1 --assignee l1@example.com
as l1 l1
at 09:06; ims incident prioritize "$inc" --impact high --urgency medium --justification "all card payments"
as im im
at 09:10; ims incident escalate "$inc" --to L3 --reason "gateway code"
as l3 l3e
at 09:20; ims incident vendor "$inc" --vendor PayCo --contact-method vendor_portal --vendor-ref PC-1
at 10:00; ims incident resume "$inc" --summary "certificate rotated"
ims incident diagnose "$inc" --steps "pinned the new certificate"
ims incident notify "$inc" --to executives --message "fixed by 10:30" --channel email
at 10:15; ims incident resolve "$inc" --summary "certificate pinned" --fix-applied --service-restored --code config
as sd sd
at 10:30; ims incident reopen "$inc" --reason "errors again"
as l3 l3e
at 11:00; ims incident resolve "$inc" --summary "both pins updated" --fix-applied --service-restored
as im2 im2
at 11:30; ims incident close "$inc" --notes "confirmed by the reporter"
as sd sd
ims incident feedback "$inc" --score 4 --comment "kept informed"
as auto auto
at 12:00; inc2=$(idof incident identify --title "Disk 90% on db-1" --service db --source automated_alert)
ims incident escalate "$inc2" --to devops --reason "disk filling up"
as l2 l2
at 12:05; ims incident prioritize "$inc2" --priority medium --severity medium --justification "one database"

# Problems, changes, knowledge, reviews, tools and simulations.
as l2 l2
at 13:00; prb=$(idof problem create --title "Gateway rejects rotated certificates" --description "Card payments fail after each certificate rotation" --source incident_trend --service shop --incident "$inc")
ims problem update "$prb" --status under_investigation
ims problem link "$prb" "$inc2"
at 13:10; ims problem workaround "$prb" --workaround "Pin the new certificate by hand"
wkb=$(sed -n 's/^  - "\(KB-[^"]*\)"$/\1/p' "$(git ls-files records/problems)" | head -1)
as im im; ims kb publish "$wkb"
as l2 l2
at 13:20; chg=$(idof change request --summary "Automate certificate pinning" --risk high --problem "$prb")
as im im; ims change approve "$chg" --note "after hours"
as im2 im2; ims change approve "$chg"
as sd sd
at 13:30; inc3=$(idof incident identify --title "Certificate pin expired" --service shop --source user_report)
ims incident assign "$inc3" --team L2
as l2 l2
ims incident link-change "$inc3" "$chg"
at 14:00; ims change implement "$chg"
ims incident resolve "$inc3" --summary "pinning automated" --fix-applied --service-restored --altered-production --problem "$prb" --kb "$wkb"
as im im; ims change review "$chg" --outcome successful --note "no errors since"
ims change close "$chg"
as l2 l2
bad=$(idof change request --summary "Disable certificate checks" --type emergency --risk high)
as im2 im2; ims change reject "$bad" --reason "unsafe"
ims change close "$bad"
as l2 l2
printf '# Certificate rotation\n\nPin the new certificate, then restart the gateway.\n' > ../kb.md
at 14:10; kb=$(idof kb draft --title "Certificate rotation breaks payments" --type resolution --body-file ../kb.md --incident "$inc")
ims kb submit "$kb"
as im im; ims kb publish "$kb"
as l2 l2
printf '# Certificate rotation\n\nPinning is automated since the change; nothing to do by hand.\n' > ../kb.md
ims kb update "$kb" --body-file ../kb.md
as im2 im2; ims kb publish "$kb"
as l2 l2
at 14:20; ims problem resolve "$prb" --evidence "no gateway errors across two rotations"
as im im
export IMS_NOW=2026-12-04T15:00:00Z
ims problem close "$prb"
ims incident review "$inc" --timeline "Customer report at 09:00, vendor fix at 10:00, final fix 11:00" --factors "Rotation not announced" --action "Announce rotations a week ahead | owner=l2@example.com | due=2026-12-10" --action "Monitor certificate expiry" --kb "$kb"
as l2 l2
ims pir action "$(echo "$inc" | sed 's/^INC-/PIR-/')" 1 --status done
ims tool record --tool root_cause_analysis --summary "Correlated gateway errors with rotations" --outcome "cause found" --incident "$inc"
as auto auto
ims sla check --escalate
ims sla check --escalate
printf '[{"service":"db","source":"monitoring_tool","alert_type":"DiskFull","severity":"critical","summary":"db-1 disk at 97%%","occurred_at":"2026-12-04T14:50:00Z","labels":{"instance":"db-1"}},{"service":"db","source":"monitoring_tool","alert_type":"DiskFull","severity":"critical","summary":"db-1 disk at 98%%","occurred_at":"2026-12-04T14:55:00Z","labels":{"instance":"db-1"}}]' > ../alerts.json
ims event ingest ../alerts.json
ims event ingest ../alerts.json
as im im
ims config set intake.rules "[{match: {alertname: Flap}, priority: low, severity: low, category: software, count: 2, window: 10m}, {match: {alertname: DiskFull}, priority: medium, severity: medium, category: hardware, for: 5m}]"
as auto auto
printf '{"version":"4","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"Flap","service":"web","severity":"warning"},"annotations":{"summary":"health check failed"},"startsAt":"2026-12-04T14:56:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"f1"},{"status":"firing","labels":{"alertname":"Flap","service":"web","severity":"warning"},"annotations":{"summary":"health check failed"},"startsAt":"2026-12-04T14:58:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"f1"}]}' > ../flap.json
ims event ingest ../flap.json
as im im
mkdir -p ../cstate
printf -- '---\ntitle: Mirror outage\ndate: 2026-11-20 10:00:00\nresolved: true\nresolvedWhen: 2026-11-20T12:30:00-00:00\nseverity: down\naffected:\n  - mirrors\nsection: issue\n---\n\n[Final Message]\nMirrors are back.\n\n[Initial Message]\nMirrors are down.\n' > ../cstate/2026-11-20-mirrors.md
printf -- '---\ntitle: Backwards\ndate: 2026-11-21T10:00:00Z\nresolved: true\nresolvedWhen: 2026-11-20T10:00:00Z\nseverity: notice\naffected: [ci]\n---\nOops.\n' > ../cstate/2026-11-21-backwards.md
ims import cstate ../cstate
printf 'number,at,state,group\nT1,2026-11-01 09:00:00,New,Desk\nT1,2026-11-01 09:10:00,Work,Desk\nT1,2026-11-01 09:30:00,Work,Network\nT1,2026-11-01 11:00:00,Done,Network\n' > ../export.csv
printf 'rows: events\ncolumns: {id: number, time: at, state: state, group: group}\ntime_format: "%%Y-%%m-%%d %%H:%%M:%%S"\nstates: {New: open, Work: in_progress, Done: resolved}\nteams: {Desk: service_desk, Network: L2}\ndefault_service: network\n' > ../mapping.yaml
ims import csv ../export.csv --mapping ../mapping.yaml
# An import read with the wrong day/month order, then redone with the right one.
printf 'number,opened,state,made_sla\nW1,03/02/2026 09:00,Done,yes\nW2,?,Done,?\n' > ../wrong.csv
printf 'rows: tickets\ncolumns: {id: number, opened: opened, state: state, sla_met: made_sla}\ntime_format: "%%m/%%d/%%Y %%H:%%M"\nday_first: false\nstates: {Done: resolved}\ndefault_service: network\nmissing: ["?"]\n' > ../wrong.yaml
imp=$("$bin" import csv ../wrong.csv --mapping ../wrong.yaml --json | sed -n 's/.*"import_id":"\(IMP-[0-9a-f]*\)".*/\1/p')
sed 's|%m/%d/%Y|%d/%m/%Y|; s/day_first: false/day_first: true/' ../wrong.yaml > ../right.yaml
ims import redo "$imp" --mapping ../right.yaml
ims simulation record --scenario "Gateway certificate expires at peak" --scope "shop, payments" --outcome "Pinning runbook worked in 6 minutes"
ims kb retire "$wkb"
# Delivery: to a port nothing listens on, so the run records a temporary failure.
prp=$(idof config set notifications "{from: ims@example.com, smtp: {host: 127.0.0.1, port: 9, security: none}, recipients: {IT_staff: {email: [desk@example.com]}}, retry: {max_attempts: 2, backoff: 1m}}")
as im2 im2; ims proposal approve "$prp"
as sd sd
dinc=$(idof incident identify --title "Printer jams on floor 2" --service shop --source user_report)
ims incident notify "$dinc" --to IT_staff --channel email --message "paper tray 2 is blocked"
as auto auto
ims deliver
as l2 l2
ims find incident --status escalated
git bundle create "$out" --all >/dev/null 2>&1
echo "wrote $out ($(git rev-list --count HEAD) commits)"
