//! Monitoring intake: qualifying alerts open incidents, repeats attach, none lost, none
//! doubled — from files, from Alertmanager payloads, and from a watched inbox.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::*;

fn alert(service: &str, kind: &str, severity: &str, minute: u32) -> Value {
    json!({"service": service, "source": "monitoring_tool", "alert_type": kind, "severity": severity,
           "summary": format!("{kind} on {service}"), "occurred_at": format!("2026-11-26T10:{minute:02}:00Z"),
           "labels": {"instance": format!("{service}-1")}})
}

fn write(repo: &Repo, name: &str, v: &Value) -> String {
    let p = repo.tmp.path().join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

fn count(repo: &Repo, dir: &str) -> usize {
    repo.git(&["ls-tree", "-r", "--name-only", "HEAD", dir]).lines().count()
}

#[test]
fn alerts_open_incidents_once_and_repeats_attach() {
    let mut repo = Repo::with_everyone();
    repo.now = "2026-11-26T10:30:00Z".into();
    let auto = who("automation");
    let batch = json!([
        alert("db", "DiskFull", "critical", 1),
        alert("db", "DiskFull", "critical", 2),
        alert("web", "Slow", "info", 3)
    ]);
    let file = write(&repo, "a.json", &batch);
    let doc = repo.ok(&auto, &["event", "ingest", &file]);
    let id = doc["id"].as_str().unwrap().to_string();
    let inc = repo.show(&id);
    assert_eq!(
        (inc["priority"].as_str(), inc["category"].as_str(), inc["source"].as_str()),
        (Some("high"), Some("performance"), Some("monitoring_tool"))
    );
    assert_eq!(inc["communications"][0]["recipients"], "IT_staff", "the service desk is notified");
    assert_eq!(inc["status"], "escalated", "high priority escalates to the incident manager");
    assert_eq!(count(&repo, "records/incidents"), 1, "one incident for two firings of one alert");
    assert_eq!(count(&repo, "records/events"), 3, "every event recorded, the info one too");
    // The same payload again: nothing new, no commit, exit 0.
    let head = repo.git(&["rev-parse", "HEAD"]);
    let doc = repo.ok(&auto, &["event", "ingest", &file]);
    assert_eq!(doc["new"], 0);
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    // A later repeat attaches; the resolution is recorded on the incident.
    let mut resolved = alert("db", "DiskFull", "critical", 9);
    resolved["status"] = json!("resolved");
    let file = write(&repo, "b.json", &json!([alert("db", "DiskFull", "critical", 5), resolved]));
    repo.ok(&auto, &["event", "ingest", &file]);
    assert_eq!(count(&repo, "records/incidents"), 1);
    let inc = repo.show(&id);
    let alerts: Vec<&str> = inc["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["field"] == "alert")
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(alerts.len(), 3, "{alerts:?}");
    assert!(alerts.last().unwrap().starts_with("resolved EVT-"));
    // Once the incident is resolved, the same alert firing again opens a new one.
    repo.ok(
        &who("L2"),
        &["incident", "resolve", &id, "--summary", "disk cleaned", "--fix-applied", "--service-restored"],
    );
    let file = write(&repo, "c.json", &alert("db", "DiskFull", "critical", 20));
    repo.ok(&auto, &["event", "ingest", &file]);
    assert_eq!(count(&repo, "records/incidents"), 2);
    repo.verify_all_commits();
}

#[test]
fn alertmanager_payloads_and_malformed_ones() {
    let repo = Repo::with_everyone();
    let auto = who("automation");
    let payload = json!({
        "version": "4", "groupKey": "{}:{alertname=\"HighLatency\"}", "status": "firing", "receiver": "ims",
        "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {"alertname": "HighLatency", "job": "checkout"},
        "commonAnnotations": {}, "externalURL": "http://alertmanager:9093",
        "alerts": [
            {"status": "firing", "labels": {"severity": "warning", "instance": "a"}, "annotations": {"summary": "p99 over 2s"},
             "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": "aaa111"},
            {"status": "firing", "labels": {"severity": "warning", "instance": "b"}, "annotations": {"summary": "p99 over 2s"},
             "startsAt": "2026-11-26T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prom/graph", "fingerprint": "bbb222"}
        ]
    });
    let file = write(&repo, "am.json", &payload);
    repo.ok(&auto, &["event", "ingest", &file]);
    assert_eq!(count(&repo, "records/incidents"), 2, "two distinct alerts (two fingerprints)");
    let found = repo.ok(&who("auditor"), &["find", "incident", "--service", "checkout", "--priority", "medium"]);
    assert_eq!(found["matches"].as_array().unwrap().len(), 2);
    // Malformed: refused with a reason, nothing changed.
    let before = repo.state();
    for (name, bad) in [
        ("bad1.json", json!({"version": "3", "alerts": []})),
        ("bad2.json", json!({"service": "db"})),
        ("bad3.json", json!([alert("db", "X", "sev1", 1)])),
        (
            "bad4.json",
            json!({"service": "db", "source": "monitoring_tool", "alert_type": "X", "severity": "critical", "summary": "key AKIAIOSFODNN7EXAMPLE", "occurred_at": "2026-11-26T10:00:00Z"}),
        ),
    ] {
        let file = write(&repo, name, &bad);
        repo.fails(&auto, &["event", "ingest", &file], 3);
    }
    std::fs::write(repo.tmp.path().join("bad5.json"), "not json").unwrap();
    repo.fails(&auto, &["event", "ingest", repo.tmp.path().join("bad5.json").to_str().unwrap()], 3);
    repo.fails(&who("auditor"), &["event", "ingest", &file], 4);
    assert_eq!(repo.state(), before);
}

fn start_watch(repo: &Repo, inbox: &std::path::Path) -> std::process::Child {
    Command::new(ims_bin())
        .current_dir(&repo.path)
        .args(["watch", inbox.to_str().unwrap()])
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", who("automation"))
        .env("IMS_SIGNING_KEY", &repo.keys[&who("automation")])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(inbox.with_file_name("watch.log")).unwrap())
        .spawn()
        .unwrap()
}

fn wait_empty(inbox: &std::path::Path, limit: Duration) {
    let start = Instant::now();
    while !ims::intake::pending(inbox).unwrap().is_empty() {
        let log = std::fs::read_to_string(inbox.with_file_name("watch.log")).unwrap_or_default();
        assert!(start.elapsed() < limit, "the inbox did not empty in time: {log}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_burst_in_the_watched_inbox_survives_sigkill() {
    let mut repo = Repo::with_everyone();
    repo.now = "2026-11-26T11:00:00Z".into();
    let inbox = repo.tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    // 300 files: 30 distinct critical alerts, each firing 10 times.
    for i in 0..300u32 {
        let v = alert(&format!("svc{}", i % 30), "Down", "critical", 0);
        let mut v = v;
        v["occurred_at"] = json!(format!("2026-11-26T10:{:02}:{:02}Z", i / 60, i % 60));
        std::fs::write(inbox.join(format!("{i:04}.json")), serde_json::to_vec(&v).unwrap()).unwrap();
    }
    std::fs::write(inbox.join("zzz-bad.json"), "{").unwrap();
    let mut child = start_watch(&repo, &inbox);
    // Kill it at once, mid-burst, then restart: nothing lost, nothing doubled.
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    let mut child = start_watch(&repo, &inbox);
    wait_empty(&inbox, Duration::from_secs(40));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(count(&repo, "records/incidents"), 30);
    assert_eq!(count(&repo, "records/events"), 300, "every event accounted for");
    assert_eq!(std::fs::read_dir(inbox.join("processed")).unwrap().count(), 300);
    assert!(inbox.join("rejected/zzz-bad.json.reason").exists());
    let commits: usize = repo.git(&["rev-list", "--count", "HEAD", "--", "records/events"]).trim().parse().unwrap();
    assert!(commits <= 10, "a storm costs a handful of commits, not {commits}");
    let out = repo.run(&who("auditor"), &["verify"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}
