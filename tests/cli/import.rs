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
