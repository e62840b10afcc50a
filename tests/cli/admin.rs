//! `ims init`, `ims config`, `ims person`, `ims proposal`.

use crate::support::*;

#[test]
fn init_writes_every_default_and_prints_the_root() {
    let repo = Repo::new();
    let cfg = repo.ok(&who("incident_manager"), &["config", "show"])["config"].clone();
    assert_eq!(cfg["services"], serde_json::json!([]));
    assert_eq!(cfg["timezone"], "UTC");
    assert_eq!(cfg["sla"]["targets"]["high"]["acknowledge"], "15m");
    assert_eq!(cfg["sla"]["targets"]["medium"]["resolve"], "1d");
    assert_eq!(cfg["sla"]["targets"]["low"]["update"], "1d");
    assert_eq!(cfg["sla"]["paused_statuses"], serde_json::json!(["pending_vendor"]));
    assert_eq!(cfg["escalation"]["on_high_priority"], "incident_manager");
    assert_eq!(cfg["problems"]["stability_window"], "7d");
    assert_eq!(cfg["pir"]["due_after_close"], "5d");
    assert_eq!(cfg["changes"]["approvals"]["high"], 2);
    assert_eq!(cfg["intake"]["rules"][0]["match"]["severity"], "critical");
    let text = std::fs::read_to_string(repo.path.join("ims.yaml")).unwrap();
    assert!(text.contains("# Service names incidents may name"), "commented");
    assert_eq!(repo.git(&["config", "pull.ff"]).trim(), "only");
    assert!(std::fs::read_to_string(repo.path.join(".gitattributes")).unwrap().contains("records/** merge=binary"));
    // A second init into a non-empty directory is refused.
    let out = std::process::Command::new(ims_bin())
        .args(["init", repo.path.to_str().unwrap(), "--name", "X", "--email", "x@example.com", "--key"])
        .arg(pubkey(&repo.keys[&who("incident_manager")]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
}

#[test]
fn config_set_validates_and_only_incident_managers_may() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let doc = repo.ok(&im, &["config", "set", "sla.targets.high.acknowledge", "10m"]);
    assert_eq!(doc["record"]["sla"]["targets"]["high"]["acknowledge"], "10m");
    repo.ok(&im, &["config", "set", "services", "[shop, db]"]);
    let before = repo.state();
    repo.fails(&im, &["config", "set", "sla.targets.high.acknowledge", "soon"], 3);
    repo.fails(&im, &["config", "set", "no.such.key", "1"], 3);
    repo.fails(&im, &["config", "set", "clock", "real"], 3);
    repo.fails(&who("service_desk_manager"), &["config", "set", "timezone", "Europe/Paris"], 4);
    assert_eq!(repo.state(), before);
    let err = repo.fails(
        &who("service_desk"),
        &["incident", "identify", "--title", "t", "--service", "mail", "--source", "user_report"],
        3,
    );
    assert!(err.contains("not one of the services"), "{err}");
}

#[test]
fn people_keys_and_allowed_signers() {
    let mut repo = Repo::with_everyone();
    let signers = std::fs::read_to_string(repo.path.join("allowed_signers")).unwrap();
    assert!(signers.contains("l2@example.com namespaces=\"git\",valid-after="), "{signers}");
    // A new key replaces the old one: the old stops signing.
    let im = who("incident_manager");
    let new_key = keygen(repo.tmp.path(), "l2-new", "ed25519");
    repo.ok(&im, &["person", "update", &who("L2"), "--key", pubkey(&new_key).to_str().unwrap()]);
    let err = repo.fails(
        &who("L2"),
        &["incident", "identify", "--title", "t", "--service", "s", "--source", "user_report"],
        4,
    );
    assert!(err.contains("not one of their registered keys"), "{err}");
    repo.keys.insert(who("L2"), new_key);
    repo.ok(&who("L2"), &["incident", "identify", "--title", "t", "--service", "s", "--source", "user_report"]);
    // Revocation stops a person at once; old commits still verify with git.
    repo.ok(&im, &["person", "revoke", &who("L3"), "--reason", "left the company"]);
    let err = repo.fails(
        &who("L3"),
        &["incident", "identify", "--title", "t", "--service", "s", "--source", "user_report"],
        4,
    );
    assert!(err.contains("revoked"), "{err}");
    repo.verify_all_commits();
    let people = repo.ok(&im, &["person", "list"]);
    assert!(people["people"].as_array().unwrap().iter().any(|p| p["email"] == who("L3") && p["revoked"] == true));
}

#[test]
fn nobody_changes_their_own_roles_and_one_manager_always_remains() {
    let repo = Repo::with_everyone();
    let im = who("incident_manager");
    let before = repo.state();
    let err = repo.fails(&im, &["person", "update", &im, "--role", "L1"], 4);
    assert!(err.contains("nobody changes their own roles"), "{err}");
    repo.fails(&im, &["person", "revoke", &im], 4);
    repo.fails(&who("L1"), &["person", "add", "--email", "n@example.com", "--name", "N", "--role", "L1"], 4);
    repo.fails(&im, &["person", "add", "--email", "not-an-email", "--name", "N", "--role", "L1"], 3);
    repo.fails(&im, &["person", "add", "--email", "n@example.com", "--name", "N", "--role", "wizard"], 3);
    repo.fails(&im, &["person", "add", "--email", &who("L1"), "--name", "N", "--role", "L1"], 5);
    assert_eq!(repo.state(), before);
}

#[test]
fn with_two_incident_managers_changes_wait_for_the_second() {
    let mut repo = Repo::with_everyone();
    let im = who("incident_manager");
    // Promote the service desk manager: with one incident manager this applies at once.
    repo.ok(
        &im,
        &["person", "update", &who("service_desk_manager"), "--role", "incident_manager,service_desk_manager"],
    );
    let im2 = who("service_desk_manager");
    // Now a change is a proposal…
    let doc = repo.ok(&im, &["person", "add", "--email", "new@example.com", "--name", "New", "--role", "L1"]);
    let proposal = doc["id"].as_str().unwrap().to_string();
    assert!(proposal.starts_with("PRP-"));
    assert!(!repo.path.join("people/new@example.com.yaml").exists(), "not in effect yet");
    let list = repo.ok(&im2, &["proposal", "list"]);
    assert_eq!(list["proposals"].as_array().unwrap().len(), 1);
    // …that its proposer cannot approve…
    repo.fails(&im, &["proposal", "approve", &proposal], 4);
    // …and a second incident manager can.
    repo.ok(&im2, &["proposal", "approve", &proposal]);
    assert!(repo.path.join("people/new@example.com.yaml").exists());
    repo.fails(&im2, &["proposal", "approve", &proposal], 5);
    // Rejected proposals change nothing but their own status.
    let doc = repo.ok(&im2, &["config", "set", "timezone", "Europe/Paris"]);
    let p2 = doc["id"].as_str().unwrap().to_string();
    repo.ok(&im, &["proposal", "reject", &p2, "--reason", "we report in UTC"]);
    assert_eq!(repo.ok(&im, &["config", "show"])["config"]["timezone"], "UTC");
    repo.keys.remove("new@example.com");
    repo.verify_all_commits();
}

#[test]
fn migrate_finds_every_record_current() {
    let repo = Repo::with_everyone();
    repo.incident("one");
    let doc = repo.ok(&who("incident_manager"), &["migrate"]);
    assert_eq!(doc["migrated"], 0);
    assert!(doc["checked"].as_u64().unwrap() > 12);
    repo.fails(&who("L1"), &["migrate"], 4);
}
