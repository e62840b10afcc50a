//! Read-audit refs are anchored in the main history: a procedure commit vouches for its
//! actor's read-audit tip, so rewinding or deleting the ref behind it is caught; an entry
//! signed by a key that was rotated out before it is caught.

use std::process::Command;

use serde_json::Value;

use crate::support::*;

fn verify(repo: &Repo, extra: &[&str]) -> (i32, Value, String) {
    let root = repo.git(&["rev-list", "--max-parents=0", "HEAD"]).trim().to_string();
    let mut args = vec!["verify", "--trust-root", root.as_str(), "--json"];
    args.extend_from_slice(extra);
    let out = repo.run(&who("auditor"), &args);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("verify: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn rules(doc: &Value) -> Vec<String> {
    doc["violations"].as_array().unwrap().iter().map(|v| v["rule"].as_str().unwrap().to_string()).collect()
}

const L2_READS: &str = "refs/ims/audit/reads/l2@example.com";

/// L2 reads twice, then runs a procedure (which anchors the read tip), then reads again.
fn story() -> (Repo, String, String) {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    repo.ok(&who("L2"), &["find", "incident"]);
    repo.ok(&who("L2"), &["find", "incident", "--status", "in_progress"]);
    let anchored = repo.git(&["rev-parse", L2_READS]).trim().to_string();
    repo.ok(&who("L2"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "on it"]);
    let message = repo.git(&["log", "-1", "--format=%B"]);
    assert!(message.contains(&format!("Ims-Read-Anchor: {anchored}")), "the procedure anchors the read tip: {message}");
    repo.ok(&who("L2"), &["find", "incident"]);
    (repo, id, anchored)
}

#[test]
fn an_anchored_history_verifies_and_replays() {
    let (repo, _, _) = story();
    let (code, doc, _) = verify(&repo, &["--require-read-audit"]);
    assert_eq!(code, 0, "{doc}");
    assert!(repo.verify_all_commits() > 10, "stock git still verifies every commit");
}

#[test]
fn a_read_audit_ref_rewound_behind_its_anchor_is_caught() {
    let (repo, _, anchored) = story();
    // Rewound to before the entry the procedure vouched for.
    repo.git(&["update-ref", L2_READS, &format!("{anchored}~1")]);
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    assert!(rules(&doc).contains(&"read-audit-anchor".to_string()), "{doc}");
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    assert!(
        doc["violations"].as_array().unwrap().iter().any(|v| v["commit"] == head),
        "names the vouching commit: {doc}"
    );
    // Rewinding past only the entries made after the anchor is not something the history
    // can see; putting the anchored tip back makes it whole again.
    repo.git(&["update-ref", L2_READS, &anchored]);
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 0, "{doc}");
}

/// A warm run keeps what the walk learnt about reads (anchors, trees) for the tip it saw;
/// what it kept must neither hide a rewind nor survive a forgery of its file.
#[test]
fn the_kept_read_facts_neither_hide_a_rewind_nor_survive_a_forgery() {
    let (repo, id, anchored) = story();
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 0, "{doc}");
    let facts: Vec<std::path::PathBuf> = std::fs::read_dir(repo.path.join(".git/ims/cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("read-facts-"))
        .collect();
    assert_eq!(facts.len(), 1, "{facts:?}");
    let text = std::fs::read_to_string(&facts[0]).unwrap();
    assert!(text.contains(&format!("anchor {} {anchored} l2@example.com", repo.git(&["rev-parse", "HEAD"]).trim())));
    // New work on top: the next run walks only what is new, and still sees the rewind.
    repo.ok(&who("L2"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "still on it"]);
    repo.git(&["update-ref", L2_READS, &format!("{anchored}~1")]);
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    assert!(rules(&doc).contains(&"read-audit-anchor".to_string()), "{doc}");
    // A forged facts file (anchors dropped, the MAC left as it was) is ignored.
    let text = std::fs::read_to_string(&facts[0]).unwrap();
    let forged: String = text.lines().filter(|l| !l.starts_with("anchor ")).map(|l| format!("{l}\n")).collect();
    assert_ne!(forged, text);
    std::fs::write(&facts[0], forged).unwrap();
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    assert!(rules(&doc).contains(&"read-audit-anchor".to_string()), "{doc}");
}

#[test]
fn a_deleted_read_audit_ref_warns_or_fails_with_require_read_audit() {
    let (repo, _, _) = story();
    repo.git(&["update-ref", "-d", L2_READS]);
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 0, "absent is what a plain clone looks like: {doc}");
    assert!(doc["warnings"].to_string().contains("refs/ims/audit/reads/l2@example.com is absent"), "{doc}");
    let (code, doc, _) = verify(&repo, &["--require-read-audit"]);
    assert_eq!(code, 7, "{doc}");
    assert!(rules(&doc).contains(&"read-audit-anchor".to_string()), "{doc}");
}

#[test]
fn a_read_entry_signed_by_a_key_rotated_out_before_it_is_caught() {
    let (repo, _, _) = story();
    let before_rotation = repo.git(&["rev-parse", "HEAD^{tree}"]).trim().to_string();
    let old_key = repo.keys[&who("L2")].clone();
    let new_key = keygen(repo.tmp.path(), "l2-new", "ed25519");
    repo.ok(&who("incident_manager"), &["person", "update", &who("L2"), "--key", pubkey(&new_key).to_str().unwrap()]);
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 0, "{doc}");
    // Someone holding the old key appends a read after the rotation, claiming to have read
    // a state from before it (where the old key was still registered).
    let tip = repo.git(&["rev-parse", L2_READS]).trim().to_string();
    let msg = "read: find incident\n\nIms-Procedure: read.identify/1\nIms-Action: identify incident\nIms-Actor: l2@example.com\nIms-Input: {\"entity\":\"incident\",\"filters\":{},\"id\":null}\n";
    let out = Command::new("git")
        .current_dir(&repo.path)
        .env("GIT_AUTHOR_NAME", "L2")
        .env("GIT_AUTHOR_EMAIL", who("L2"))
        .env("GIT_COMMITTER_NAME", "L2")
        .env("GIT_COMMITTER_EMAIL", who("L2"))
        .env("GIT_AUTHOR_DATE", "2026-11-29T09:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-11-29T09:00:00Z")
        .args(["-c", "gpg.format=ssh", "-c"])
        .arg(format!("user.signingkey={}", old_key.display()))
        .args(["commit-tree", "-S", "-p", &tip, "-m", msg, &before_rotation])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let forged = String::from_utf8_lossy(&out.stdout).trim().to_string();
    repo.git(&["update-ref", L2_READS, &forged]);
    let (code, doc, _) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    let hit = doc["violations"].as_array().unwrap().iter().find(|v| v["rule"] == "read-audit-key");
    assert_eq!(hit.map(|v| v["commit"].as_str().unwrap()), Some(forged.as_str()), "{doc}");
}
