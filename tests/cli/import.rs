//! `ims import`: cState status pages and CSV exports become incidents, governed,
//! replayable and idempotent.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

fn jenkins() -> PathBuf {
    // A copy of ../shared/data/jenkins-status (MIT, licence beside it), so CI has it.
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/jenkins-status/issues")
}

fn count(repo: &Repo, dir: &str) -> usize {
    repo.git(&["ls-tree", "-r", "--name-only", "HEAD", dir]).lines().count()
}

fn find(repo: &Repo, title: &str) -> Value {
    let found = repo.ok(&who("auditor"), &["find", "incident"]);
    found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["title"] == title)
        .cloned()
        .unwrap_or_else(|| panic!("no {title}"))
}

#[test]
fn every_jenkins_status_incident_is_imported_or_reported() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let (before, objects) = (repo.state(), repo.git(&["count-objects"]));
    repo.fails(&who("L2"), &["import", "cstate", jenkins().to_str().unwrap()], 4);
    assert_eq!(repo.state(), before, "refused: nothing changed");
    assert_eq!(repo.git(&["count-objects"]), objects, "not even an object written");
    let doc = repo.ok(&im, &["import", "cstate", jenkins().to_str().unwrap()]);
    let imported = doc["imported"].as_u64().unwrap() as usize;
    let rejected = doc["rejected"].as_array().unwrap();
    let excluded = doc["excluded"].as_array().unwrap();
    assert_eq!(imported + rejected.len() + excluded.len(), 297, "every file accounted for: {doc}");
    assert_eq!(count(&repo, "records/incidents"), imported);
    let reason = |file: &str| -> String {
        rejected
            .iter()
            .find(|r| r["item"] == file)
            .map(|r| r["reason"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    // Impossible durations are reported, never bent.
    assert!(reason("2021-09-23-puppet-outage.md").contains("resolved before it began"), "{doc}");
    assert!(reason("2024-06-05-RPU-trusted.md").contains("resolved before it began"));
    assert_eq!(
        rejected.iter().filter(|r| r["reason"].as_str().unwrap().contains("resolved before it began")).count(),
        8
    );
    // Pinned, field by field.
    let i = find(&repo, "Problems publishing artifacts in Artifactory (2022-03-04)");
    assert_eq!(i["service"], "repo.jenkins-ci.org");
    assert_eq!((i["priority"].as_str(), i["severity"].as_str()), (Some("medium"), Some("medium")));
    assert_eq!(i["created_at"], "2022-03-04T18:00:00Z");
    assert_eq!(i["resolved_at"], "2022-03-07T10:45:00Z");
    assert_eq!(i["status"], "resolved");
    assert_eq!(i["reporter"], "unknown", "no invented accounts");
    assert_eq!(i["reported_by"], im.as_str());
    let comms: Vec<(&str, &str)> = i["communications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["at"].as_str().unwrap(), c["channel"].as_str().unwrap()))
        .collect();
    assert_eq!(comms, [("2022-03-04T18:00:00Z", "status_page"), ("2022-03-07T10:45:00Z", "status_page")]);
    assert!(i["communications"][0]["message"].as_str().unwrap().starts_with("We've observed problems publishing"));
    let i = find(&repo, "Jira maintenance");
    assert_eq!(
        (i["created_at"].as_str(), i["resolved_at"].as_str()),
        (Some("2021-04-15T10:00:00Z"), Some("2021-04-15T10:00:00Z"))
    );
    assert!(
        doc["notes"].as_array().unwrap().iter().any(|n| n["item"] == "2021-04-15-jira-upgrade.md"),
        "a time read as UTC is noted"
    );
    // The archive is in the repository, named in the record.
    let record = &doc["record"];
    assert_eq!(repo.git(&["cat-file", "-t", record["source_blob"].as_str().unwrap()]).trim(), "blob");
    assert!(repo.path.join(record["source_file"].as_str().unwrap()).exists());
    // Twice: nothing the second time, exit 0, no commit.
    let head = repo.git(&["rev-parse", "HEAD"]);
    let again = repo.ok(&im, &["import", "cstate", jenkins().to_str().unwrap()]);
    assert_eq!(again["imported"], 0);
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    // The import replays: verify passes, and the commit is signed.
    repo.verify_all_commits();
    let out = repo.run(&who("auditor"), &["verify", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[path = "csvgen.rs"]
mod csvgen;

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

#[test]
fn a_servicenow_audit_export_gives_the_kpis_computed_independently() {
    let mut repo = Repo::with_everyone();
    repo.now = "2026-11-26T09:00:00Z".into();
    let im = who("incident_manager");
    let (csv, expected) = csvgen::generate(400, 7);
    let rows = csv.lines().count() - 1;
    let source = repo.tmp.path().join("sn-audit.csv");
    let mapping = repo.tmp.path().join("servicenow.yaml");
    std::fs::write(&source, &csv).unwrap();
    std::fs::write(&mapping, csvgen::MAPPING).unwrap();
    let args = ["import", "csv", source.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()];
    let doc = repo.ok(&im, &args);
    assert_eq!(doc["imported"], 400, "{}", doc["rejected"]);
    assert!(rows > 58 * 40, "about six rows per incident: {rows}");
    // Only the columns the mapping uses are archived.
    let archived = std::fs::read_to_string(repo.path.join(doc["record"]["source_file"].as_str().unwrap())).unwrap();
    assert!(!archived.contains("work_notes") && !archived.contains("internal note"));
    assert_eq!(archived.lines().count(), rows + 1);
    // The week of 2025-01-06, computed here from what the generator made.
    let (s, e) = (1_736_121_600, 1_736_726_400);
    let within = |t: i64| t >= s && t < e;
    let minutes = |a: i64, b: i64| (b - a) as f64 / 60.0;
    let opened: Vec<&csvgen::Expected> = expected.iter().filter(|x| within(x.created)).collect();
    let acks: Vec<f64> = expected.iter().filter(|x| within(x.acked)).map(|x| minutes(x.created, x.acked)).collect();
    let ttr: Vec<f64> =
        expected.iter().filter(|x| within(x.resolved)).map(|x| minutes(x.created, x.resolved)).collect();
    let escalation = opened.iter().filter(|x| x.escalated).count() as f64 / opened.len() as f64;
    let report = repo.ok(&who("auditor"), &["report", "--period", "weekly", "--at", "2025-01-08"]);
    let close = |key: &str, want: f64| {
        let got = report[key].as_f64().unwrap_or_else(|| panic!("{key}: {report}"));
        assert!((got - want).abs() < 1e-3, "{key}: ims {got}, expected {want}");
    };
    assert_eq!(report["incidents_opened"], opened.len());
    assert_eq!(report["incidents_resolved"], ttr.len());
    close("mtta_minutes", mean(&acks));
    close("mtta_median_minutes", median(&acks));
    close("mttr_minutes", mean(&ttr));
    close("mttr_median_minutes", median(&ttr));
    close("escalation_rate", escalation);
    // One incident pinned: its timeline has the reassignment as an escalation.
    let x = expected.iter().find(|x| x.escalated).unwrap();
    let found = repo.ok(
        &who("auditor"),
        &["find", "incident", "--service", &format!("svc-{}", x.number[3..].parse::<usize>().unwrap() % 5)],
    );
    let inc = found["matches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| {
            m["title"].as_str().unwrap().ends_with(&format!("floor {}", x.number[3..].parse::<usize>().unwrap() % 7))
                && m["created_at"]
                    == chrono::DateTime::from_timestamp(x.created, 0)
                        .unwrap()
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
        .unwrap();
    assert_eq!(inc["assigned_team"], "L2");
    assert_eq!(inc["status"], "closed");
    assert!(inc["timeline"].as_array().unwrap().iter().any(|t| t["field"] == "status" && t["to"] == "escalated"));
    assert!(inc["reporter"].as_str().unwrap().starts_with("Caller "), "kept as a name");
    // Twice: nothing new; and the import replays.
    assert_eq!(repo.ok(&im, &args)["imported"], 0);
    let out = repo.run(&who("auditor"), &["verify", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn bad_mappings_and_bad_rows_are_refused_or_reported() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let dir = repo.tmp.path();
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap();
        dir.join(name).to_str().unwrap().to_string()
    };
    let mapping = "rows: tickets\ncolumns: {id: id, opened: opened, resolved: resolved, state: state, title: title}\n\
                   states: {done: closed, open: open}\ndefault_service: shop\n";
    let m = write("m.yaml", mapping);
    let before = repo.state();
    // A mapping naming a column the file lacks: refused, naming it; nothing changed.
    let no_col = write("a.csv", "id,opened,state\n1,2025-01-01T10:00:00Z,open\n");
    let err = repo.fails(&im, &["import", "csv", &no_col, "--mapping", &m], 3);
    assert!(err.contains("`resolved`"), "{err}");
    // Malformed mappings.
    for (bad, says) in [
        ("rows: sideways\ncolumns: {id: id}\nstates: {}\n", "rows"),
        ("rows: events\ncolumns: {id: id}\nstates: {}\n", "columns.time"),
        ("rows: tickets\ncolumns: {id: id, opened: o}\nstates: {}\ntimezone: Mars/Olympus\n", "timezone"),
        ("rows: tickets\ncolumns: {id: id, opened: o, color: c}\nstates: {}\n", "color"),
    ] {
        let err = repo.fails(&im, &["import", "csv", &no_col, "--mapping", &write("bad.yaml", bad)], 3);
        assert!(err.contains(says), "{says}: {err}");
    }
    assert_eq!(repo.state(), before);
    // Rows that cannot be imported faithfully are reported; a secret never reaches the archive.
    let csv = write(
        "t.csv",
        "id,opened,resolved,state,title\n\
         A1,2025-01-01T10:00:00Z,2025-01-01T12:00:00Z,done,Disk full\n\
         A2,2025-01-02T10:00:00Z,2025-01-01T12:00:00Z,done,Time travel\n\
         A3,2025-01-03T10:00:00Z,,weird,Unknown state\n\
         A4,2025-01-04T10:00:00Z,,open,key AKIAIOSFODNN7EXAMPLE\n",
    );
    let doc = repo.ok(&im, &["import", "csv", &csv, "--mapping", &m]);
    assert_eq!(doc["imported"], 1, "{doc}");
    let reasons: Vec<String> = doc["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["excluded"].as_array().unwrap())
        .map(|r| format!("{}: {}", r["item"], r["reason"]))
        .collect();
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("A2") && r.contains("before it was opened")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("A3") && r.contains("state `weird`")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("line 5") && r.contains("AWS")), "{reasons:?}");
    let archived = std::fs::read_to_string(repo.path.join(doc["record"]["source_file"].as_str().unwrap())).unwrap();
    assert!(!archived.contains("AKIA"));
    let i = find(&repo, "Disk full");
    assert_eq!((i["status"].as_str(), i["resolved_at"].as_str()), (Some("closed"), Some("2025-01-01T12:00:00Z")));
    repo.fails(&im, &["import", "cstate", dir.join("nowhere").to_str().unwrap()], 3);
}

/// The YAML block that follows `heading` in the README.
fn readme_yaml(heading: &str) -> String {
    let readme = include_str!("../../README.md");
    let after = &readme[readme.find(heading).unwrap_or_else(|| panic!("README lacks {heading}"))..];
    let start = after.find("```yaml\n").unwrap() + 8;
    after[start..start + after[start..].find("```").unwrap()].to_string()
}

#[test]
fn the_readme_mappings_import_sample_exports() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let dir = repo.tmp.path();
    let sn = dir.join("sn.yaml");
    std::fs::write(&sn, readme_yaml("A ServiceNow incident audit export")).unwrap();
    let audit = dir.join("audit.csv");
    std::fs::write(
        &audit,
        "number,sys_updated_on,incident_state,priority,category,assignment_group,u_support_level,caller_id,assigned_to,sys_updated_by,short_description,description,cmdb_ci,resolved_at,closed_at,made_sla\n\
         INC0000001,2025-03-01 09:00:00,New,2 - High,Network,Service Desk,L1,Ann Caller,?,ann,VPN down,No VPN,vpn,NULL,NULL,?\n\
         INC0000001,2025-03-01 09:20:00,In Progress,2 - High,Network,Service Desk,L1,Ann Caller,Sam,sam,VPN down,No VPN,vpn,NULL,NULL,?\n\
         INC0000001,2025-03-01 10:00:00,In Progress,2 - High,Network,Network L2,L2,Ann Caller,Nia,sam,VPN down,No VPN,vpn,NULL,NULL,?\n\
         INC0000001,2025-03-01 11:00:00,Resolved,2 - High,Network,Network L2,L2,Ann Caller,Nia,nia,VPN down,No VPN,vpn,2025-03-01 10:55:00,NULL,true\n",
    )
    .unwrap();
    let doc = repo.ok(&im, &["import", "csv", audit.to_str().unwrap(), "--mapping", sn.to_str().unwrap()]);
    assert_eq!(doc["imported"], 1, "{doc}");
    let i = find(&repo, "VPN down");
    // 09:00 Amsterdam (UTC+1 in March) is 08:00Z; acknowledged 20 minutes later.
    assert_eq!(
        (i["created_at"].as_str(), i["acknowledged_at"].as_str()),
        (Some("2025-03-01T08:00:00Z"), Some("2025-03-01T08:20:00Z"))
    );
    assert_eq!(
        (i["status"].as_str(), i["assigned_team"].as_str(), i["priority"].as_str()),
        (Some("resolved"), Some("L2"), Some("high"))
    );
    assert!(i["timeline"].as_array().unwrap().iter().any(|t| t["to"] == "escalated" && t["by"] == "sam"));
    // The source's own resolution time (10:55 Amsterdam), not the 11:00 row's; its SLA verdict.
    assert_eq!((i["resolved_at"].as_str(), &i["source_sla_met"]), (Some("2025-03-01T09:55:00Z"), &Value::Bool(true)));
    assert_eq!(i["assignee"], "Nia", "`?` is missing, never an assignee");
    // A group and a level given together are one team change.
    let teams: Vec<&str> = i["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["field"] == "assigned_team")
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(teams, ["Service Desk / L1", "Network L2 / L2"]);
    let tickets = dir.join("tickets.yaml");
    std::fs::write(&tickets, readme_yaml("A generic ticket export")).unwrap();
    let export = dir.join("tickets.csv");
    std::fs::write(
        &export,
        "Ticket,Created,First response,Solved,Closed,Status,Priority,Team,Reassignments,Requester,Agent,Subject,Product,SLA breached\n\
         T-1,03/02/2025 10:00,03/02/2025 10:30,03/02/2025 14:00,04/02/2025 09:00,Closed,Urgent,Engineering,2,Bo Buyer,Al Agent,Checkout broken,shop,Yes\n",
    )
    .unwrap();
    let doc = repo.ok(&im, &["import", "csv", export.to_str().unwrap(), "--mapping", tickets.to_str().unwrap()]);
    assert_eq!(doc["imported"], 1, "{doc}");
    let i = find(&repo, "Checkout broken");
    assert_eq!(i["resolved_at"], "2025-02-03T14:00:00Z");
    assert_eq!(i["closed_at"], "2025-02-04T09:00:00Z");
    assert!(i["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["to"] == "escalated" && t["at"] == "2025-02-03T10:30:00Z"));
    assert_eq!((i["reporter"].as_str(), i["assignee"].as_str()), (Some("Bo Buyer"), Some("Al Agent")));
    assert_eq!(i["source_sla_met"], false, "breached, as the source reported");
}

/// Writes `text` to `name` in the test's folder; returns its path.
fn put(repo: &Repo, name: &str, text: &str) -> String {
    let path = repo.tmp.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn incident_in(repo: &Repo, title: &str) -> Value {
    find(repo, title)
}

#[test]
fn group_and_level_imports_can_be_first_contact_resolutions_and_missing_values_are_absent() {
    let mut repo = Repo::with_everyone();
    repo.now = "2026-11-26T09:00:00Z".into();
    let im = who("incident_manager");
    let mapping = put(
        &repo,
        "m.yaml",
        "rows: events\ncolumns: {id: n, time: at, state: st, group: grp, level: lvl, assignee: who, title: t, service: svc}\n\
         time_format: '%Y-%m-%d %H:%M:%S'\nstates: {New: open, Work: in_progress, Done: resolved}\n\
         teams: {Desk: service_desk, L1: L1, Net: L2}\nmissing: ['?', 'NULL', '-']\n",
    );
    // By hand: A1 stays with Desk/L1 (first contact), A2 moves to Net/L2 (escalated),
    // A4 names no group or level (`?`, `-`: first contact); A3's service is `?` (no
    // service: rejected), A5's only time is NULL (rejected).
    let csv = put(
        &repo,
        "e.csv",
        "n,at,st,grp,lvl,who,t,svc\n\
         A1,2025-03-03 09:00:00,New,Desk,L1,?,One,web\n\
         A1,2025-03-03 09:10:00,Work,Desk,L1,Sam,One,web\n\
         A1,2025-03-03 10:00:00,Done,Desk,L1,Sam,One,web\n\
         A2,2025-03-04 09:00:00,New,Desk,L1,-,Two,web\n\
         A2,2025-03-04 09:30:00,Work,Net,L2,Nia,Two,web\n\
         A2,2025-03-04 11:00:00,Done,Net,L2,Nia,Two,web\n\
         A3,2025-03-05 09:00:00,New,Desk,L1,Sam,Three,?\n\
         A3,2025-03-05 10:00:00,Done,Desk,L1,Sam,Three,?\n\
         A4,2025-03-06 09:00:00,New,?,-,NULL,Four,web\n\
         A4,2025-03-06 09:45:00,Done,?,-,NULL,Four,web\n\
         A5,NULL,New,Desk,L1,Sam,Five,web\n",
    );
    let doc = repo.ok(&im, &["import", "csv", &csv, "--mapping", &mapping]);
    assert_eq!(doc["imported"], 3, "{doc}");
    let rejected: Vec<(String, String)> = doc["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["item"].as_str().unwrap().to_string(), r["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(rejected.len(), 2, "{rejected:?}");
    assert!(rejected.iter().any(|(i, r)| i == "A3" && r.contains("no service")), "{rejected:?}");
    assert!(rejected.iter().any(|(i, r)| i == "A5" && r.contains("no time")), "{rejected:?}");
    let one = incident_in(&repo, "One");
    let teams = |i: &Value| i["timeline"].as_array().unwrap().iter().filter(|t| t["field"] == "assigned_team").count();
    assert_eq!((teams(&one), one["assigned_team"].as_str(), one["assignee"].as_str()), (1, Some("L1"), Some("Sam")));
    assert!(one["timeline"].as_array().unwrap().iter().all(|t| t["to"] != "?"), "`?` is never a value");
    let four = incident_in(&repo, "Four");
    assert_eq!((teams(&four), &four["assigned_team"], &four["assignee"]), (0, &Value::Null, &Value::Null));
    // FCR over March: resolved A1, A2, A4; first contact A1 and A4 → 2/3.
    let report = repo.ok(&who("auditor"), &["report", "--period", "monthly", "--at", "2025-03-15"]);
    assert_eq!(report["incidents_resolved"], 3, "{report}");
    assert_eq!(report["first_contact_resolution_rate"], 0.6667, "{report}");
    assert_eq!(report["escalation_rate"], 0.3333, "{report}");
    let out = repo.run(&who("auditor"), &["verify", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn the_sources_own_sla_verdicts_and_times_are_what_sla_compliance_counts() {
    let mut repo = Repo::with_everyone();
    repo.now = "2026-11-26T09:00:00Z".into();
    let im = who("incident_manager");
    let mapping = put(
        &repo,
        "t.yaml",
        "rows: tickets\n\
         columns:\n  id: id\n  opened: opened\n  resolved: solved\n  state: st\n  title: t\n  \
         sla_breached: {column: made_sla, true: ['false'], false: ['true']}\n\
         states: {open: open, solved: resolved}\ndefault_service: shop\nmissing: ['?']\n",
    );
    // By hand: T1 and T3 made their SLA, T2 did not, T4's verdict is `?` (none); all four
    // resolved in March → SLA compliance 2 of 3 = 0.6667, three verdicts from the source.
    // MTTR from the source's solved times: 60, 120, 30, 90 minutes → mean 75.
    let csv = put(
        &repo,
        "t.csv",
        "id,opened,solved,st,t,made_sla\n\
         T1,2025-03-03T09:00:00Z,2025-03-03T10:00:00Z,solved,One,true\n\
         T2,2025-03-04T09:00:00Z,2025-03-04T11:00:00Z,solved,Two,false\n\
         T3,2025-03-05T09:00:00Z,2025-03-05T09:30:00Z,solved,Three,true\n\
         T4,2025-03-06T09:00:00Z,2025-03-06T10:30:00Z,solved,Four,?\n",
    );
    let doc = repo.ok(&im, &["import", "csv", &csv, "--mapping", &mapping]);
    assert_eq!(doc["imported"], 4, "{doc}");
    assert_eq!(incident_in(&repo, "Two")["source_sla_met"], false);
    assert_eq!(incident_in(&repo, "Four").get("source_sla_met"), None, "no verdict, no field");
    let args = ["report", "--period", "monthly", "--at", "2025-03-15"];
    let report = repo.ok(&who("auditor"), &args);
    assert_eq!(report["sla_compliance"], 0.6667, "{report}");
    assert_eq!(report["sla_verdicts_from_source"], 3, "{report}");
    assert_eq!(report["mttr_minutes"], 75.0, "{report}");
    let text = String::from_utf8_lossy(&repo.run(&who("auditor"), &args).stdout).into_owned();
    assert!(text.contains("3 of its SLA verdicts as reported by the source"), "{text}");
    let out = repo.run(&who("auditor"), &["verify", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_dry_run_shows_what_would_happen_and_changes_nothing() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let mapping = put(
        &repo,
        "m.yaml",
        "rows: tickets\ncolumns: {id: id, opened: opened, state: st, title: t}\n\
         time_format: '%Y-%m-%d %H:%M'\nstates: {open: open, done: resolved}\ndefault_service: shop\n",
    );
    let csv = put(
        &repo,
        "d.csv",
        "id,opened,st,t\n\
         D1,2025-01-02 10:00,open,Good one\nD2,2025-01-09 11:30,done,Good two\n\
         D3,2025-01-03 10:00,weird,Bad\nD4,2025-01-03 10:00,odd,Bad\nD5,2025-01-03 10:00,strange,Bad\n\
         D6,2025-01-03 10:00,off,Bad\nD7,2025-13-03 10:00,open,Bad time\n",
    );
    let args = ["import", "csv", csv.as_str(), "--mapping", mapping.as_str(), "--dry-run"];
    let (state, objects, status) = (repo.state(), repo.git(&["count-objects"]), repo.git(&["status", "--porcelain"]));
    let doc = repo.ok(&im, &args);
    assert_eq!(repo.state(), state, "no ref, index or file changed");
    assert_eq!(repo.git(&["count-objects"]), objects, "no object written");
    assert_eq!(repo.git(&["status", "--porcelain"]), status);
    assert_eq!(
        (doc["dry_run"].as_bool(), doc["imported"].as_u64(), doc["commit"].is_null()),
        (Some(true), Some(2), true)
    );
    let reasons = doc["reasons"].as_array().unwrap();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(
        (reasons[0]["count"].as_u64(), reasons[0]["reason"].as_str()),
        (Some(4), Some("state `…` is not in the mapping"))
    );
    assert_eq!(reasons[0]["examples"].as_array().unwrap().len(), 3, "three examples of four");
    assert_eq!(reasons[1]["count"], 1);
    assert_eq!(doc["span"]["first_opened"], "2025-01-02T10:00:00Z");
    assert_eq!(doc["span"]["last_opened"], "2025-01-09T11:30:00Z");
    assert_eq!(doc["samples"][0]["reason"], "`2025-01-02 10:00` → 2025-01-02T10:00:00+00:00");
    let text = String::from_utf8_lossy(&repo.run(&im, &args[..6]).stdout).into_owned();
    assert!(text.contains("dry run: would import 2 incidents (0 already imported, 5 rejected, 0 left out)"), "{text}");
    assert!(text.contains("4 rejected: state `…` is not in the mapping") && text.contains("e.g. D3:"), "{text}");
    assert_eq!(repo.state(), state);
    // A dry run by someone who may not import is refused as the import would be.
    repo.fails(&who("L2"), &args, 4);
    // The real run prints the same grouped reasons, and commits.
    let out = repo.run(&im, &args[..5]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success() && text.contains("4 rejected: state `…` is not in the mapping"), "{text}");
    assert_eq!(count(&repo, "records/incidents"), 2);
    // Again: nothing new, exit 0, still with the reasons.
    let again = repo.ok(&im, &args[..5]);
    assert_eq!((again["imported"].as_u64(), again["already_imported"].as_u64()), (Some(0), Some(2)), "{again}");
    assert_eq!(again["reasons"][0]["count"], 4);
}

#[test]
fn an_import_whose_every_incident_is_rejected_exits_3_with_the_reasons() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let mapping = put(
        &repo,
        "m.yaml",
        "rows: tickets\ncolumns: {id: id, opened: opened, state: st}\nstates: {open: open}\ndefault_service: shop\n",
    );
    let csv = put(
        &repo,
        "r.csv",
        "id,opened,st\nR1,2025-01-02T10:00:00Z,New\nR2,2025-01-02T11:00:00Z,New\nR3,yesterday,open\n",
    );
    let (state, objects) = (repo.state(), repo.git(&["count-objects"]));
    let err = repo.fails(&im, &["import", "csv", &csv, "--mapping", &mapping], 3);
    assert!(err.contains("every one of the 3 incidents"), "{err}");
    assert!(err.contains("2 × state `…` is not in the mapping"), "{err}");
    let out = repo.run(&im, &["import", "csv", &csv, "--mapping", &mapping, "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one document");
    assert_eq!((doc["ok"].as_bool(), doc["error"]["code"].as_str()), (Some(false), Some("invalid")));
    assert_eq!(doc["reasons"].as_array().unwrap().len(), 2, "{doc}");
    assert_eq!(repo.state(), state);
    assert_eq!(repo.git(&["count-objects"]), objects);
}

#[test]
fn an_ambiguous_day_month_order_is_refused_unless_the_mapping_says_which() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let mapping = |extra: &str| {
        put(
            &repo,
            "m.yaml",
            &format!(
                "rows: tickets\ncolumns: {{id: id, opened: opened, state: st}}\ntime_format: '%d/%m/%Y %H:%M'\n\
                 states: {{open: open}}\ndefault_service: shop\n{extra}"
            ),
        )
    };
    let csv = put(&repo, "a.csv", "id,opened,st\nA1,03/02/2025 10:00,open\nA2,12/01/2025 10:00,open\n");
    let state = repo.state();
    let err = repo.fails(&im, &["import", "csv", &csv, "--mapping", &mapping("")], 3);
    assert!(err.contains("ambiguous") && err.contains("day_first"), "{err}");
    repo.fails(&im, &["import", "csv", &csv, "--mapping", &mapping(""), "--dry-run"], 3);
    assert_eq!(repo.state(), state, "refused: nothing changed");
    // A day above 12 settles it: only one order reads every value.
    let settled = put(&repo, "b.csv", "id,opened,st\nB1,25/02/2025 10:00,open\nB2,03/02/2025 10:00,open\n");
    repo.ok(&im, &["import", "csv", &settled, "--mapping", &mapping(""), "--dry-run"]);
    // Said: read as the mapping says.
    let doc = repo.ok(&im, &["import", "csv", &csv, "--mapping", &mapping("day_first: true\n")]);
    assert_eq!(doc["imported"], 2);
    let ids = doc["record"]["incident_ids"].as_array().unwrap();
    assert!(ids.iter().any(|i| i.as_str().unwrap().starts_with("INC-20250203-")), "{ids:?}");
    assert!(ids.iter().any(|i| i.as_str().unwrap().starts_with("INC-20250112-")), "{ids:?}");
}

#[test]
fn an_import_with_the_wrong_day_month_order_is_redone_as_one_signed_replayable_commit() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let write_mapping = |name: &str, format: &str, day_first: bool| {
        put(
            &repo,
            name,
            &format!(
                "rows: tickets\ncolumns: {{id: id, opened: opened, resolved: solved, state: st, title: t}}\n\
                 time_format: '{format}'\nday_first: {day_first}\nstates: {{open: open, solved: resolved}}\n\
                 default_service: shop\n"
            ),
        )
    };
    let wrong = write_mapping("wrong.yaml", "%m/%d/%Y %H:%M", false);
    let right = write_mapping("right.yaml", "%d/%m/%Y %H:%M", true);
    // Meant: 3 February and 11 January 2025.
    let csv = put(
        &repo,
        "w.csv",
        "id,opened,solved,st,t\nW1,03/02/2025 10:00,03/02/2025 12:00,solved,Feb third\nW2,11/01/2025 09:00,,open,Jan eleventh\n",
    );
    let doc = repo.ok(&im, &["import", "csv", &csv, "--mapping", &wrong]);
    let imp = doc["id"].as_str().unwrap().to_string();
    assert_eq!(incident_in(&repo, "Feb third")["created_at"], "2025-03-02T10:00:00Z", "read month first: wrong");
    // Someone who may not import may not redo.
    repo.fails(&who("L2"), &["import", "redo", &imp, "--mapping", &right], 4);
    let redo = repo.ok(&im, &["import", "redo", &imp, "--mapping", &right]);
    assert_eq!(redo["record"]["redone"][0]["previous_mapping"]["time_format"], "%m/%d/%Y %H:%M");
    let feb = incident_in(&repo, "Feb third");
    assert_eq!(
        (feb["created_at"].as_str(), feb["resolved_at"].as_str()),
        (Some("2025-02-03T10:00:00Z"), Some("2025-02-03T12:00:00Z"))
    );
    assert!(feb["incident_id"].as_str().unwrap().starts_with("INC-20250203-"));
    assert_eq!(incident_in(&repo, "Jan eleventh")["created_at"], "2025-01-11T09:00:00Z");
    assert_eq!(count(&repo, "records/incidents"), 2, "moved, not copied");
    let log = repo.git(&["log", "-1", "--format=%B"]);
    assert!(log.contains("incident.import_redo/1"), "{log}");
    repo.verify_all_commits();
    let out = repo.run(&who("auditor"), &["verify", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // Re-importing the file with the right mapping finds nothing new.
    assert_eq!(repo.ok(&im, &["import", "csv", &csv, "--mapping", &right])["imported"], 0);
    // An incident a later procedure touched is not re-derived: refused by name.
    let jan = incident_in(&repo, "Jan eleventh")["incident_id"].as_str().unwrap().to_string();
    repo.ok(&im, &["incident", "log", &jan, "--diagnosis", "checked by hand"]);
    let state = repo.state();
    let err = repo.fails(&im, &["import", "redo", &imp, "--mapping", &wrong], 5);
    assert!(err.contains(&jan) && err.contains("touched"), "{err}");
    assert!(!err.contains(feb["incident_id"].as_str().unwrap()), "only the touched one is named: {err}");
    assert_eq!(repo.state(), state);
}
