//! The incident lifecycle: every row of DESIGN.md's authorization table, and a
//! high-priority incident through every state of the state table.

use serde_json::Value;

use crate::support::*;

const STAFF: &[&str] = &[
    "service_desk",
    "service_desk_manager",
    "L1",
    "L2",
    "L3",
    "devops",
    "facilities",
    "change_mgmt",
    "incident_manager",
];
const VENDOR: &[&str] = &["L2", "L3", "devops", "facilities", "service_desk_manager", "incident_manager"];
const ASSIGN: &[&str] = &["service_desk", "service_desk_manager", "L1", "incident_manager"];

/// Drives a new incident to `status` with privileged actors.
fn prepared(repo: &Repo, status: &str) -> String {
    let id = repo.incident("prepared");
    let im = who("incident_manager");
    let step = |args: &[&str]| {
        repo.ok(&im, args);
    };
    match status {
        "open" => {}
        "in_progress" => step(&["incident", "assign", &id, "--team", "L2"]),
        "escalated" => step(&["incident", "escalate", &id, "--to", "L3", "--reason", "needs L3"]),
        "pending_vendor" => {
            step(&["incident", "assign", &id, "--team", "L2"]);
            step(&["incident", "vendor", &id, "--vendor", "Acme", "--contact-method", "email"]);
        }
        "resolved" | "closed" => {
            step(&["incident", "assign", &id, "--team", "L2"]);
            step(&["incident", "resolve", &id, "--summary", "fixed", "--fix-applied", "--service-restored"]);
            if status == "closed" {
                step(&["incident", "close", &id, "--notes", "done"]);
            }
        }
        other => panic!("no such status {other}"),
    }
    id
}

struct Row {
    procedure: &'static str,
    status: &'static str,
    allowed: Vec<&'static str>,
    args: fn(&str) -> Vec<String>,
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

fn rows() -> Vec<Row> {
    let staff = STAFF.to_vec();
    vec![
        Row {
            procedure: "log",
            status: "open",
            allowed: staff.clone(),
            args: |id| s(&["incident", "log", id, "--description", "more"]),
        },
        Row {
            procedure: "categorize",
            status: "open",
            allowed: staff.clone(),
            args: |id| s(&["incident", "categorize", id, "--category", "software"]),
        },
        Row {
            procedure: "prioritize",
            status: "open",
            allowed: staff.clone(),
            args: |id| {
                s(&[
                    "incident",
                    "prioritize",
                    id,
                    "--priority",
                    "low",
                    "--severity",
                    "low",
                    "--justification",
                    "few users",
                ])
            },
        },
        Row {
            procedure: "assign",
            status: "open",
            allowed: ASSIGN.to_vec(),
            args: |id| s(&["incident", "assign", id, "--team", "L1"]),
        },
        Row {
            procedure: "diagnose",
            status: "in_progress",
            allowed: staff.clone(),
            args: |id| s(&["incident", "diagnose", id, "--steps", "looked"]),
        },
        Row {
            procedure: "escalate",
            status: "in_progress",
            allowed: STAFF.iter().copied().chain(["automation"]).collect(),
            args: |id| s(&["incident", "escalate", id, "--to", "L3", "--reason", "deeper"]),
        },
        Row {
            procedure: "vendor",
            status: "in_progress",
            allowed: VENDOR.to_vec(),
            args: |id| s(&["incident", "vendor", id, "--vendor", "Acme", "--contact-method", "API"]),
        },
        Row {
            procedure: "resume",
            status: "pending_vendor",
            allowed: VENDOR.to_vec(),
            args: |id| s(&["incident", "resume", id, "--summary", "vendor fixed it"]),
        },
        Row {
            procedure: "notify",
            status: "in_progress",
            allowed: staff.clone(),
            args: |id| s(&["incident", "notify", id, "--to", "stakeholders", "--message", "ETA 1h"]),
        },
        Row {
            procedure: "resolve",
            status: "in_progress",
            allowed: staff.clone(),
            args: |id| s(&["incident", "resolve", id, "--summary", "ok", "--fix-applied", "--service-restored"]),
        },
        // The reporter (service_desk, who identified it) may reopen as well as staff.
        Row {
            procedure: "reopen",
            status: "resolved",
            allowed: staff.clone(),
            args: |id| s(&["incident", "reopen", id, "--reason", "back"]),
        },
        Row {
            procedure: "close",
            status: "resolved",
            allowed: staff.clone(),
            args: |id| s(&["incident", "close", id, "--notes", "done"]),
        },
        Row {
            procedure: "feedback",
            status: "closed",
            allowed: staff.clone(),
            args: |id| s(&["incident", "feedback", id, "--score", "4"]),
        },
    ]
}

#[test]
fn every_authorization_row_refuses_outsiders_and_admits_insiders() {
    let repo = Repo::with_everyone();
    for row in rows() {
        // Refusals first, all against one incident: nothing may change.
        let id = prepared(&repo, row.status);
        let args = (row.args)(&id);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let before = repo.state();
        for role in ROLES.iter().filter(|r| !row.allowed.contains(r)) {
            let out = repo.run(&who(role), &args);
            assert_eq!(
                out.status.code(),
                Some(4),
                "{} as {role}: {}",
                row.procedure,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert_eq!(repo.state(), before, "{}: a refusal changed something", row.procedure);
        for role in &row.allowed {
            let id = prepared(&repo, row.status);
            let args = (row.args)(&id);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            repo.ok(&who(role), &args);
        }
    }
}

#[test]
fn identify_needs_a_registered_person_with_a_key() {
    let repo = Repo::with_everyone();
    for role in ROLES.iter().filter(|r| **r != "end_user") {
        repo.ok(&who(role), &["incident", "identify", "--title", "t", "--service", "s", "--source", "user_report"]);
    }
    // The end user has no key: staff record it on their behalf.
    let before = repo.state();
    repo.fails(
        &who("end_user"),
        &["incident", "identify", "--title", "t", "--service", "s", "--source", "user_report"],
        4,
    );
    assert_eq!(repo.state(), before);
    let doc = repo.ok(
        &who("service_desk"),
        &[
            "incident",
            "identify",
            "--title",
            "t",
            "--service",
            "s",
            "--source",
            "user_report",
            "--reporter",
            &who("end_user"),
        ],
    );
    assert_eq!(doc["record"]["reporter"], who("end_user"));
    assert_eq!(doc["record"]["reported_by"], who("service_desk"));
    repo.fails(
        &who("auditor"),
        &[
            "incident",
            "identify",
            "--title",
            "t",
            "--service",
            "s",
            "--source",
            "user_report",
            "--reporter",
            &who("end_user"),
        ],
        4,
    );
}

#[test]
fn the_reporter_may_reopen_and_high_priority_close_is_for_managers_only() {
    let mut repo = Repo::with_everyone();
    // A keyed end user reports and may reopen their own incident.
    let key = keygen(repo.tmp.path(), "eu2", "ed25519");
    repo.ok(
        &who("incident_manager"),
        &[
            "person",
            "add",
            "--email",
            "eu2@example.com",
            "--name",
            "EU",
            "--role",
            "end_user",
            "--key",
            pubkey(&key).to_str().unwrap(),
        ],
    );
    repo.keys.insert("eu2@example.com".into(), key);
    let id = repo.ok(
        "eu2@example.com",
        &["incident", "identify", "--title", "mine", "--service", "s", "--source", "user_report"],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let im = who("incident_manager");
    repo.ok(&im, &["incident", "assign", &id, "--team", "L1"]);
    repo.ok(&im, &["incident", "resolve", &id, "--summary", "ok", "--fix-applied", "--service-restored"]);
    repo.fails(&who("auditor"), &["incident", "reopen", &id, "--reason", "no"], 4);
    repo.ok("eu2@example.com", &["incident", "reopen", &id, "--reason", "still broken"]);

    // High priority: only the incident manager or service desk manager closes, never the reporter.
    let id = repo.ok(&im, &["incident", "identify", "--title", "big", "--service", "s", "--source", "user_report"])
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    repo.ok(
        &im,
        &["incident", "prioritize", &id, "--priority", "high", "--severity", "high", "--justification", "all down"],
    );
    repo.ok(&im, &["incident", "resolve", &id, "--summary", "ok", "--fix-applied", "--service-restored"]);
    let before = repo.state();
    for role in STAFF.iter().filter(|r| !["incident_manager", "service_desk_manager"].contains(r)) {
        repo.fails(&who(role), &["incident", "close", &id, "--notes", "n"], 4);
    }
    let err = repo.fails(&im, &["incident", "close", &id, "--notes", "n"], 4);
    assert!(err.contains("segregation of duties"), "{err}");
    assert_eq!(repo.state(), before);
    repo.ok(&who("service_desk_manager"), &["incident", "close", &id, "--notes", "n"]);
}

fn field<'a>(rec: &'a Value, name: &str) -> &'a Value {
    rec.get(name).unwrap_or_else(|| panic!("record has no field {name}"))
}

#[test]
fn a_high_priority_incident_from_identify_to_close_through_every_state() {
    let mut repo = Repo::with_everyone();
    let t = |repo: &mut Repo, hhmm: &str| repo.now = format!("2026-11-26T{hhmm}:00Z");
    let sd = who("service_desk");
    t(&mut repo, "10:00");
    let id = repo.ok(
        &sd,
        &[
            "incident",
            "identify",
            "--title",
            "Payments down",
            "--service",
            "payments",
            "--source",
            "user_report",
            "--reporter",
            &who("end_user"),
            "--description",
            "card payments fail",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "status"), "open");
    assert_eq!(field(&rec, "created_at"), "2026-11-26T10:00:00Z");
    assert_eq!(field(&rec, "reporter"), who("end_user").as_str());

    t(&mut repo, "10:02");
    repo.ok(&sd, &["incident", "log", &id, "--diagnosis", "gateway returns 502", "--workaround", "use PayPal"]);
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "workaround_available"), true);
    assert_eq!(field(&rec, "diagnosis")[0]["steps"], "gateway returns 502");

    repo.ok(&sd, &["incident", "categorize", &id, "--category", "software", "--subcategory", "payment gateway"]);
    assert_eq!(field(&repo.show(&id), "category"), "software");

    t(&mut repo, "10:05");
    repo.ok(&sd, &["incident", "assign", &id, "--team", "L1", "--assignee", &who("L1")]);
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "status"), "in_progress");
    assert_eq!(field(&rec, "acknowledged_at"), "2026-11-26T10:05:00Z");
    assert_eq!(field(&rec, "communications")[0]["recipients"], "end_users");

    t(&mut repo, "10:06");
    let doc = repo.ok(
        &who("L1"),
        &[
            "incident",
            "prioritize",
            &id,
            "--priority",
            "high",
            "--severity",
            "high",
            "--justification",
            "all card payments",
        ],
    );
    let rec = &doc["record"];
    assert_eq!(field(rec, "priority"), "high");
    assert_eq!(field(rec, "status"), "escalated", "high priority escalates automatically");
    assert_eq!(field(rec, "assigned_team"), "incident_manager");
    assert_eq!(field(rec, "sla")["resolve"], "4h");

    t(&mut repo, "10:10");
    repo.ok(&who("incident_manager"), &["incident", "escalate", &id, "--to", "L3", "--reason", "gateway code"]);
    let rec = repo.show(&id);
    assert_eq!(
        (field(&rec, "status").as_str(), field(&rec, "assigned_team").as_str()),
        (Some("escalated"), Some("L3"))
    );

    t(&mut repo, "10:20");
    repo.ok(
        &who("L3"),
        &[
            "incident",
            "vendor",
            &id,
            "--vendor",
            "PayCo",
            "--contact-method",
            "vendor_portal",
            "--vendor-ref",
            "PC-991",
        ],
    );
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "status"), "pending_vendor");
    assert_eq!(field(&rec, "vendor_engagements")[0]["vendor_ref"], "PC-991");

    t(&mut repo, "11:00");
    repo.ok(&who("L3"), &["incident", "resume", &id, "--summary", "PayCo rotated a certificate"]);
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "status"), "in_progress");
    assert_eq!(field(&rec, "vendor_engagements")[0]["resumed_at"], "2026-11-26T11:00:00Z");

    repo.ok(
        &who("L3"),
        &["incident", "notify", &id, "--to", "executives", "--message", "Fix expected by 11:30", "--channel", "email"],
    );

    t(&mut repo, "11:15");
    repo.ok(
        &who("L3"),
        &[
            "incident",
            "resolve",
            &id,
            "--summary",
            "certificate pinned",
            "--fix-applied",
            "--service-restored",
            "--code",
            "config",
        ],
    );
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "status"), "resolved");
    assert_eq!(field(&rec, "resolved_at"), "2026-11-26T11:15:00Z");
    assert_eq!(field(&rec, "resolved_by"), who("L3").as_str());

    t(&mut repo, "11:30");
    repo.ok(&sd, &["incident", "reopen", &id, "--reason", "errors again"]);
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "status"), "in_progress");
    assert_eq!(field(&rec, "resolved_at"), &Value::Null);

    t(&mut repo, "12:00");
    repo.ok(
        &who("L3"),
        &["incident", "resolve", &id, "--summary", "both pins updated", "--fix-applied", "--service-restored"],
    );
    t(&mut repo, "12:30");
    repo.ok(&who("service_desk_manager"), &["incident", "close", &id, "--notes", "confirmed by the reporter"]);
    let rec = repo.show(&id);
    assert_eq!(field(&rec, "status"), "closed");
    assert_eq!(field(&rec, "resolved_at"), "2026-11-26T12:00:00Z", "MTTR runs to the final resolution");
    assert_eq!(field(&rec, "closed_by"), who("service_desk_manager").as_str());
    repo.ok(&sd, &["incident", "feedback", &id, "--score", "4", "--comment", "kept informed"]);
    assert_eq!(field(&repo.show(&id), "feedback")["score"], 4);

    let statuses: Vec<String> = field(&repo.show(&id), "timeline")
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["field"] == "status")
        .map(|e| e["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        statuses,
        [
            "open",
            "in_progress",
            "escalated",
            "pending_vendor",
            "in_progress",
            "resolved",
            "in_progress",
            "resolved",
            "closed"
        ]
    );
    // Closed is final for procedures that change the incident.
    repo.fails(&who("L1"), &["incident", "notify", &id, "--to", "end_users", "--message", "x"], 5);
    repo.verify_all_commits();
}
