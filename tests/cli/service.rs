//! Service levels and KPIs: breaches escalated exactly once, and KPIs on a scripted
//! history equal to values computed by hand.

use serde_json::Value;

use crate::support::*;

fn at(repo: &mut Repo, hhmm: &str) {
    repo.now = format!("2026-11-27T{hhmm}:00Z");
}

#[test]
fn sla_check_reports_breaches_and_escalates_each_once() {
    let mut repo = Repo::with_everyone();
    at(&mut repo, "10:00");
    let id = repo.incident("Payments down");
    repo.ok(
        &who("L1"),
        &["incident", "prioritize", &id, "--priority", "medium", "--severity", "medium", "--justification", "j"],
    );
    // Acknowledge target 1h: at risk from 45 minutes, breached after 60.
    at(&mut repo, "10:50");
    let doc = repo.ok(&who("auditor"), &["sla", "check"]);
    let ack = doc["standings"].as_array().unwrap().iter().find(|s| s["clock"] == "acknowledge").unwrap().clone();
    assert_eq!((ack["state"].as_str(), ack["remaining_seconds"].as_i64()), (Some("at_risk"), Some(600)));
    at(&mut repo, "11:30");
    let doc = repo.ok(&who("auditor"), &["sla", "check"]);
    let ack = doc["standings"].as_array().unwrap().iter().find(|s| s["clock"] == "acknowledge").unwrap().clone();
    assert_eq!((ack["state"].as_str(), ack["remaining_seconds"].as_i64()), (Some("breached"), Some(-1800)));
    // A past moment is answered from the record alone.
    let then = repo.ok(&who("auditor"), &["sla", "check", "--at", "2026-11-27T10:20:00Z"]);
    assert_eq!(then["standings"].as_array().unwrap().len(), 0, "{then}");
    // Only the automation identity (or an incident manager) escalates breaches.
    repo.fails(&who("L1"), &["sla", "check", "--escalate"], 4);
    let before: usize = repo.git(&["rev-list", "--count", "HEAD"]).trim().parse().unwrap();
    let doc = repo.ok(&who("automation"), &["sla", "check", "--escalate"]);
    let escalated = doc["escalated"].as_array().unwrap();
    assert!(escalated.iter().any(|e| e["clock"] == "acknowledge"), "{doc}");
    let after: usize = repo.git(&["rev-list", "--count", "HEAD"]).trim().parse().unwrap();
    assert_eq!(after, before + escalated.len());
    let rec = repo.show(&id);
    assert_eq!((rec["status"].as_str(), rec["assigned_team"].as_str()), (Some("escalated"), Some("incident_manager")));
    // Run it again, and again: nothing more.
    for _ in 0..2 {
        let doc = repo.ok(&who("automation"), &["sla", "check", "--escalate"]);
        assert_eq!(doc["escalated"], serde_json::json!([]), "{doc}");
    }
    assert_eq!(repo.git(&["rev-list", "--count", "HEAD"]).trim().parse::<usize>().unwrap(), after);
    let log = repo.git(&["log", "--format=%B", "-1"]);
    assert!(
        log.contains("Ims-Procedure: incident.sla-escalate/1") && log.contains("Ims-Actor: automation@example.com"),
        "{log}"
    );
    repo.verify_all_commits();
}

fn kpi(doc: &Value, key: &str) -> Value {
    doc.get(key).unwrap_or_else(|| panic!("report has no {key}: {doc}")).clone()
}

#[test]
fn kpis_on_a_scripted_history_equal_hand_computed_values() {
    let mut repo = Repo::with_everyone();
    let (sd, l1, l2, im) = (who("service_desk"), who("L1"), who("L2"), who("incident_manager"));
    at(&mut repo, "09:00");
    let a = repo.incident("A");
    let b = repo.incident("B");
    let c = repo.incident("C");
    let _d = repo.incident("D: never acknowledged");
    let prio = |repo: &Repo, id: &str, p: &str| {
        repo.ok(&l1, &["incident", "prioritize", id, "--priority", p, "--severity", p, "--justification", "j"]);
    };
    prio(&repo, &a, "low");
    prio(&repo, &b, "medium");
    prio(&repo, &c, "high"); // escalates to the incident manager automatically
    at(&mut repo, "09:10");
    repo.ok(&sd, &["incident", "assign", &a, "--team", "L1"]);
    at(&mut repo, "09:20");
    repo.ok(&sd, &["incident", "assign", &c, "--team", "L2"]);
    at(&mut repo, "09:30");
    repo.ok(&sd, &["incident", "assign", &b, "--team", "L1"]);
    at(&mut repo, "09:40");
    repo.ok(&l1, &["incident", "escalate", &b, "--to", "L2", "--reason", "deeper"]);
    at(&mut repo, "10:00");
    repo.ok(&l1, &["incident", "resolve", &a, "--summary", "s", "--fix-applied", "--service-restored"]);
    at(&mut repo, "10:30");
    let prb = repo
        .ok(&l2, &["problem", "create", "--title", "Gateway", "--description", "d", "--source", "incident_trend"])
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    repo.ok(&l2, &["problem", "workaround", &prb, "--workaround", "restart"]);
    at(&mut repo, "11:00");
    repo.ok(
        &l2,
        &["incident", "resolve", &c, "--summary", "s", "--fix-applied", "--service-restored", "--problem", &prb],
    );
    at(&mut repo, "12:00");
    repo.ok(&l2, &["incident", "resolve", &b, "--summary", "s", "--fix-applied", "--service-restored"]);
    at(&mut repo, "12:30");
    repo.ok(&sd, &["incident", "feedback", &a, "--score", "5"]);
    repo.ok(&sd, &["incident", "feedback", &b, "--score", "3"]);
    at(&mut repo, "13:00");
    for outcome in ["successful", "failed"] {
        let chg = repo.ok(&l2, &["change", "request", "--summary", outcome, "--risk", "low"])["id"]
            .as_str()
            .unwrap()
            .to_string();
        repo.ok(&who("change_mgmt"), &["change", "approve", &chg]);
        repo.ok(&l2, &["change", "implement", &chg]);
        repo.ok(&im, &["change", "review", &chg, "--outcome", outcome]);
    }
    let doc = repo.ok(&who("auditor"), &["report", "--at", "2026-11-30T12:00:00Z"]);
    // By hand: acknowledged after 10, 30 and 20 minutes; resolved after 60, 180, 120.
    assert_eq!(kpi(&doc, "incidents_opened"), 4);
    assert_eq!(kpi(&doc, "incidents_resolved"), 3);
    assert_eq!(kpi(&doc, "mtta_minutes"), 20.0);
    assert_eq!(kpi(&doc, "mtta_median_minutes"), 20.0);
    assert_eq!(kpi(&doc, "mttr_minutes"), 120.0);
    assert_eq!(kpi(&doc, "mttr_median_minutes"), 120.0);
    // B (by hand) and C (automatically on high priority) were escalated: 2 of 4 opened.
    assert_eq!(kpi(&doc, "escalation_rate"), 0.5);
    // C missed its 15-minute acknowledgement: 2 of 3 met both targets.
    assert_eq!(kpi(&doc, "sla_compliance"), 0.6667);
    // C reused a known error: 1 of 3.
    assert_eq!(kpi(&doc, "known_error_reuse_rate"), 0.3333);
    // Only A was resolved by its first team without escalation or reopening.
    assert_eq!(kpi(&doc, "first_contact_resolution_rate"), 0.3333);
    assert_eq!(kpi(&doc, "change_success_rate"), 0.5);
    assert_eq!(kpi(&doc, "stakeholder_satisfaction"), 4.0);
    assert_eq!(doc["previous"]["incidents_opened"], 0, "October was empty");
    assert_eq!(doc["previous"]["mtta_minutes"], Value::Null);
    // A day with nothing in it, and the CSV export.
    let day = repo.ok(&who("auditor"), &["report", "--period", "daily", "--at", "2026-11-29"]);
    assert_eq!(day["incidents_opened"], 0);
    let out = repo.run(&who("auditor"), &["report", "--csv", "--at", "2026-11-30T12:00:00Z"]);
    let csv = String::from_utf8_lossy(&out.stdout);
    assert!(csv.starts_with("kpi,value,previous\n"), "{csv}");
    assert!(csv.contains("mttr_minutes,120.0,\n"), "{csv}");
    // The warm report (facts cached by blob id) says the same.
    let again = repo.ok(&who("auditor"), &["report", "--at", "2026-11-30T12:00:00Z"]);
    assert_eq!(again, doc);
    repo.fails(&who("auditor"), &["report", "--period", "yearly"], 3);
}
