//! `ims show`, `ims find` (an audited read), `ims audit`.

use crate::support::*;

#[test]
fn find_filters_and_audits_the_read_on_the_actors_ref() {
    let repo = Repo::with_everyone();
    let a = repo.incident("a");
    let b = repo.incident("b");
    repo.ok(&who("L1"), &["incident", "assign", &a, "--team", "L2"]);
    repo.ok(
        &who("L1"),
        &["incident", "prioritize", &b, "--priority", "low", "--severity", "low", "--justification", "one user"],
    );
    let auditor = who("auditor");
    let head = repo.git(&["rev-parse", "HEAD"]);
    let doc = repo.ok(&auditor, &["find", "incident", "--status", "in_progress"]);
    assert_eq!(doc["entity"], "incident");
    let ids: Vec<&str> =
        doc["matches"].as_array().unwrap().iter().map(|m| m["incident_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a.as_str()]);
    assert_eq!(repo.ok(&auditor, &["find", "incident", "--priority", "low"])["matches"][0]["incident_id"], b.as_str());
    assert_eq!(repo.ok(&auditor, &["find", "incident", "--team", "L2"])["matches"].as_array().unwrap().len(), 1);
    assert_eq!(
        repo.ok(&auditor, &["find", "incident", "--since", "2030-01-01"])["matches"].as_array().unwrap().len(),
        0
    );
    assert_eq!(
        repo.ok(&auditor, &["find", "incident", "--until", "2030-01-01"])["matches"].as_array().unwrap().len(),
        2
    );
    repo.fails(&auditor, &["find", "incident", "--status", "sleeping"], 3);
    repo.fails(&auditor, &["find", "widgets"], 3);
    // Reads never move the records branch; they land on the reader's own ref, signed.
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    let log = repo.git(&["log", "--format=%B", "refs/ims/audit/reads/auditor@example.com"]);
    assert!(log.contains("Ims-Action: identify incident\n"), "{log}");
    assert!(log.contains("\"status\":\"in_progress\""), "the filters are recorded: {log}");
    repo.verify_all_commits();
}

#[test]
fn showing_a_security_incident_is_an_audited_read() {
    let repo = Repo::with_everyone();
    let id = repo.incident("leak");
    repo.ok(&who("L1"), &["incident", "categorize", &id, "--category", "security"]);
    repo.show(&id);
    let log = repo.git(&["log", "--format=%B", "refs/ims/audit/reads/auditor@example.com"]);
    assert!(log.contains(&format!("Ims-Action: identify incident/{id}")), "{log}");
    let doc = repo.show(&id);
    assert_eq!(doc["record"]["incident_id"], doc["incident_id"]);
}

#[test]
fn audit_lists_one_entry_per_action_with_deltas_and_signature_status() {
    let repo = Repo::with_everyone();
    let id = repo.incident("a");
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    let doc = repo.ok(&who("auditor"), &["audit", &id]);
    let entries = doc["entries"].as_array().unwrap();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["update", "notify", "identify"], "assign is update + notify");
    let assign = &entries[0];
    assert_eq!(assign["actor"], who("L1"));
    assert_eq!(assign["ref_type"], "incident");
    assert_eq!(assign["signature"], "good");
    assert_eq!(assign["fields"]["status"]["old"], "open");
    assert_eq!(assign["fields"]["status"]["new"], "in_progress");
    assert_eq!(assign["fields"]["assigned_team"]["new"], "L2");
    let by_actor = repo.ok(&who("auditor"), &["audit", "--actor", &who("L1"), "--action", "notify"]);
    assert_eq!(by_actor["entries"].as_array().unwrap().len(), 1);
    // A commit made by hand with git is flagged.
    std::fs::write(repo.path.join("x.txt"), "x").unwrap();
    repo.git(&["add", "x.txt"]);
    repo.git(&["-c", "commit.gpgsign=false", "commit", "-qm", "hand"]);
    repo.ok(&who("auditor"), &["audit"]);
}
