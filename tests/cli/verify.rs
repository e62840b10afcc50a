//! `ims verify` against every way a person could tamper with history, each caught with
//! the right rule; clean histories (forge merges, synced clones) pass with no false alarm.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// Runs git in `dir` as `email`, optionally signing with `key`; panics on failure.
fn git_as(dir: &Path, email: &str, key: Option<&Path>, args: &[&str]) -> String {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env("GIT_AUTHOR_NAME", email)
        .env("GIT_AUTHOR_EMAIL", email)
        .env("GIT_COMMITTER_NAME", email)
        .env("GIT_COMMITTER_EMAIL", email);
    if let Some(key) = key {
        cmd.args(["-c", "gpg.format=ssh", "-c"]).arg(format!("user.signingkey={}", key.display()));
    }
    let out = cmd.args(args).output().unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn root(repo: &Repo) -> String {
    repo.git(&["rev-list", "--max-parents=0", "HEAD"]).trim().to_string()
}

/// `ims verify --json` with the root pinned: (exit code, document).
fn verify(repo: &Repo, extra: &[&str]) -> (i32, Value) {
    let root = root(repo);
    let mut args = vec!["verify", "--trust-root", root.as_str(), "--json"];
    args.extend_from_slice(extra);
    let out = repo.run(&who("auditor"), &args);
    let doc: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

fn rules(doc: &Value) -> Vec<String> {
    doc["violations"].as_array().unwrap().iter().map(|v| v["rule"].as_str().unwrap().to_string()).collect()
}

fn assert_caught(repo: &Repo, rule: &str) {
    let (code, doc) = verify(repo, &["--no-cache"]);
    assert_eq!(code, 7, "{doc}");
    assert_eq!(doc["ok"], false);
    assert!(rules(&doc).iter().any(|r| r == rule), "expected rule {rule}, got {doc}");
}

fn incident_file(repo: &Repo, id: &str) -> String {
    repo.git(&["ls-files", "records/incidents"]).lines().find(|l| l.contains(id)).unwrap().to_string()
}

fn story() -> (Repo, String) {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    repo.ok(&who("L2"), &["incident", "escalate", &id, "--to", "L3", "--reason", "database"]);
    (repo, id)
}

#[test]
fn a_clean_history_passes_and_the_cache_skips_what_is_known() {
    let (repo, _) = story();
    let (code, doc) = verify(&repo, &[]);
    assert_eq!(code, 0, "{doc}");
    assert!(doc["checked"].as_u64().unwrap() > 10);
    assert_eq!(doc["violations"], serde_json::json!([]));
    let (code, doc) = verify(&repo, &[]);
    assert_eq!(code, 0);
    assert_eq!(doc["checked"], 0, "everything came from the cache: {doc}");
    // A range checks only what is new.
    let before = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.incident("another");
    let (code, doc) = verify(&repo, &["--range", &format!("{before}..HEAD"), "--no-cache"]);
    assert_eq!((code, doc["checked"].as_u64()), (0, Some(1)), "{doc}");
    // Without a pinned root it still verifies, and warns.
    let out = repo.run(&who("auditor"), &["verify"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no trust root pinned"));
}

#[test]
fn a_forge_style_merge_of_branches_passes() {
    let (repo, _) = story();
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let a = repo.incident("on the branch");
    repo.ok(&who("L1"), &["incident", "assign", &a, "--team", "L1"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.incident("on main");
    git_as(
        &repo.path,
        "forge@example.com",
        None,
        &["merge", "-q", "--no-ff", "-m", "Merge pull request #1", "feature"],
    );
    let (code, doc) = verify(&repo, &[]);
    assert_eq!(code, 0, "{doc}");
}

#[test]
fn a_hand_edit_committed_unsigned_is_caught() {
    let (repo, id) = story();
    let file = incident_file(&repo, &id);
    let text = std::fs::read_to_string(repo.path.join(&file)).unwrap();
    std::fs::write(repo.path.join(&file), text.replace("status: \"escalated\"", "status: \"closed\"")).unwrap();
    git_as(&repo.path, "mallory@example.com", None, &["commit", "-qam", "close it quietly"]);
    assert_caught(&repo, "procedure");
}

#[test]
fn a_record_deleted_or_allowed_signers_edited_by_hand_is_caught() {
    let (repo, id) = story();
    let file = incident_file(&repo, &id);
    git_as(&repo.path, who("L1").as_str(), None, &["rm", "-q", &file]);
    git_as(&repo.path, who("L1").as_str(), None, &["commit", "-qm", "cleanup"]);
    assert_caught(&repo, "procedure");

    let (repo, _) = story();
    let signers = repo.path.join("allowed_signers");
    let mut text = std::fs::read_to_string(&signers).unwrap();
    text.push_str("mallory@example.com namespaces=\"git\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEs0\n");
    std::fs::write(&signers, text).unwrap();
    git_as(&repo.path, "mallory@example.com", None, &["commit", "-qam", "add me"]);
    assert_caught(&repo, "procedure");
}

/// Rewrites the last commit's message (and optionally content) and re-signs it with the
/// actor's own key, as a person holding that key could.
fn amend_signed(repo: &Repo, actor: &str, message: &str) {
    let key = repo.keys[actor].clone();
    let date = repo.git(&["log", "-1", "--format=%aI"]).trim().to_string();
    let mut cmd = Command::new("git");
    cmd.current_dir(&repo.path)
        .env("GIT_COMMITTER_NAME", actor)
        .env("GIT_COMMITTER_EMAIL", actor)
        .env("GIT_COMMITTER_DATE", &date)
        .args(["-c", "gpg.format=ssh", "-c"])
        .arg(format!("user.signingkey={}", key.display()))
        .args(["commit", "-q", "-a", "--amend", "-S", "-m", message]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_changed_input_or_a_smuggled_line_is_caught() {
    let (repo, _) = story();
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let changed = message.replace("\"reason\":\"database\"", "\"reason\":\"nobody asked\"");
    assert_ne!(changed, message);
    amend_signed(&repo, &who("L2"), changed.trim_end());
    assert_caught(&repo, "message");

    let (repo, _) = story();
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let smuggled = message.replacen("\n\n", "\n\nApproved-by: the CEO\n", 1);
    amend_signed(&repo, &who("L2"), smuggled.trim_end());
    assert_caught(&repo, "message");
}

#[test]
fn an_edit_signed_by_a_role_that_may_not_make_it_is_caught() {
    let (repo, id) = story();
    // The auditor re-signs the last escalation as their own: auditors may not escalate.
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let forged = message.replace(&format!("Ims-Actor: {}", who("L2")), &format!("Ims-Actor: {}", who("auditor")));
    let file = incident_file(&repo, &id);
    let text = std::fs::read_to_string(repo.path.join(&file)).unwrap();
    std::fs::write(repo.path.join(&file), text.replace(&who("L2"), &who("auditor"))).unwrap();
    repo.git(&["reset", "-q", "--soft", "HEAD~1"]);
    let date = repo.git(&["log", "-1", "--format=%aI"]).trim().to_string();
    let key = repo.keys[&who("auditor")].clone();
    let out = Command::new("git")
        .current_dir(&repo.path)
        .env("GIT_AUTHOR_NAME", "auditor")
        .env("GIT_AUTHOR_EMAIL", who("auditor"))
        .env("GIT_COMMITTER_NAME", "auditor")
        .env("GIT_COMMITTER_EMAIL", who("auditor"))
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_DATE", &date)
        .args(["-c", "gpg.format=ssh", "-c"])
        .arg(format!("user.signingkey={}", key.display()))
        .args(["commit", "-q", "-a", "-S", "-m", forged.trim_end()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_caught(&repo, "authorization");
}

#[test]
fn a_commit_signed_by_an_unregistered_key_is_caught() {
    let (repo, _) = story();
    let stranger = keygen(repo.tmp.path(), "stranger", "ed25519");
    let message = repo.git(&["log", "-1", "--format=%B"]);
    let date = repo.git(&["log", "-1", "--format=%aI"]).trim().to_string();
    let out = Command::new("git")
        .current_dir(&repo.path)
        .env("GIT_COMMITTER_NAME", who("L2"))
        .env("GIT_COMMITTER_EMAIL", who("L2"))
        .env("GIT_COMMITTER_DATE", &date)
        .args(["-c", "gpg.format=ssh", "-c"])
        .arg(format!("user.signingkey={}", stranger.display()))
        .args(["commit", "-q", "--amend", "-S", "-m", message.trim_end()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_caught(&repo, "signature");
}

#[test]
fn a_revoked_key_used_on_a_branch_forked_before_the_revocation_is_caught() {
    let (mut repo, id) = story();
    repo.git(&["checkout", "-q", "-b", "old-work"]);
    // Back-dated work on a branch forked before the revocation.
    repo.now = "2026-11-26T09:00:00Z".into();
    repo.ok(&who("L3"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "all good"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.now = "2026-11-27T09:00:00Z".into();
    repo.ok(&who("incident_manager"), &["person", "revoke", &who("L3"), "--reason", "left"]);
    // Revoked on main: the key is refused at once there…
    repo.fails(&who("L3"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "x"], 4);
    // …and the branch's commit, merged after the revocation, is caught.
    git_as(&repo.path, "forge@example.com", None, &["merge", "-q", "--no-ff", "-m", "Merge old work", "old-work"]);
    assert_caught(&repo, "revoked-key");
}

#[test]
fn work_by_a_person_demoted_on_the_other_side_of_a_merge_is_caught() {
    let (repo, id) = story();
    // L3 works on a branch forked while they still held the role…
    repo.git(&["checkout", "-q", "-b", "old-work"]);
    repo.ok(&who("L3"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "all good"]);
    repo.git(&["checkout", "-q", "main"]);
    // …main takes the role away (the key stays active)…
    repo.ok(&who("incident_manager"), &["person", "update", &who("L3"), "--role", "end_user"]);
    repo.fails(&who("L3"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "x"], 4);
    let (code, doc) = verify(&repo, &[]);
    assert_eq!(code, 0, "the cache holds the clean history: {doc}");
    // …and a forge merge of the old branch must not carry the work the role no longer allows,
    // with or without the cache.
    git_as(&repo.path, "forge@example.com", None, &["merge", "-q", "--no-ff", "-m", "Merge old work", "old-work"]);
    assert_caught(&repo, "authorization");
    let (code, doc) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    assert!(doc["violations"].to_string().contains("lost role L3"), "{doc}");
}

/// A story with a branch `solo` forked while the incident manager was the only one, on
/// which they change a setting alone (valid there), while `main` registers a second
/// incident manager. Returns the repository and the settings commit.
fn solo_settings_change_and_a_second_manager_on_main() -> (Repo, String) {
    let (repo, _) = story();
    let im = who("incident_manager");
    repo.git(&["checkout", "-q", "-b", "solo"]);
    let doc = repo.ok(&im, &["config", "set", "timezone", "Europe/Paris"]);
    assert!(doc["id"].is_null() || !doc["id"].as_str().unwrap_or("").starts_with("PRP-"), "applied at once: {doc}");
    let change = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["checkout", "-q", "main"]);
    let im2 = who("service_desk_manager");
    repo.ok(&im, &["person", "update", &im2, "--role", "incident_manager,service_desk_manager"]);
    // On main the same change is only a proposal now.
    let doc = repo.ok(&im, &["config", "set", "timezone", "Europe/Berlin"]);
    assert!(doc["id"].as_str().unwrap().starts_with("PRP-"), "{doc}");
    (repo, change)
}

#[test]
fn a_settings_change_by_one_manager_merged_past_a_second_manager_is_caught() {
    let (repo, change) = solo_settings_change_and_a_second_manager_on_main();
    let (code, doc) = verify(&repo, &[]);
    assert_eq!(code, 0, "the cache holds the clean history: {doc}");
    git_as(&repo.path, "forge@example.com", None, &["merge", "-q", "--no-ff", "-m", "Merge solo", "solo"]);
    assert_eq!(repo.ok(&who("auditor"), &["config", "show"])["config"]["timezone"], "Europe/Paris");
    assert_caught(&repo, "merge-authorization");
    // With the cache too, and the settings commit is the one named.
    let (code, doc) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    let found = doc["violations"].as_array().unwrap();
    assert!(
        found.iter().any(|v| v["rule"] == "merge-authorization"
            && v["commit"] == change.as_str()
            && v["message"].as_str().unwrap().contains("two-manager rule")),
        "{doc}"
    );
}

#[test]
fn a_settings_change_brought_in_by_an_octopus_merge_is_caught() {
    // The second manager arrives on a third branch; an octopus merge brings all in at once.
    let (repo, _) = story();
    let im = who("incident_manager");
    repo.git(&["branch", "promote"]);
    repo.git(&["branch", "solo"]);
    repo.git(&["checkout", "-q", "solo"]);
    repo.ok(&im, &["config", "set", "timezone", "Europe/Paris"]);
    repo.git(&["checkout", "-q", "promote"]);
    repo.ok(
        &im,
        &["person", "update", &who("service_desk_manager"), "--role", "incident_manager,service_desk_manager"],
    );
    repo.git(&["checkout", "-q", "main"]);
    repo.incident("on main");
    git_as(&repo.path, "forge@example.com", None, &["merge", "-q", "--no-ff", "-m", "Octopus", "promote", "solo"]);
    assert_eq!(repo.git(&["rev-list", "--parents", "-n1", "HEAD"]).split_whitespace().count(), 4, "an octopus");
    assert_caught(&repo, "merge-authorization");
}

#[test]
fn a_settings_change_on_main_merged_with_a_branch_that_registered_a_second_manager_is_caught() {
    // The other way round: the branch registers the second manager (valid there), main
    // changes a setting alone meanwhile, and the merge brings both together.
    let (repo, _) = story();
    let im = who("incident_manager");
    repo.git(&["checkout", "-q", "-b", "promote"]);
    repo.ok(&im, &["person", "add", "--email", "im2@example.com", "--name", "Second", "--role", "incident_manager"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.ok(&im, &["config", "set", "timezone", "Europe/Paris"]);
    git_as(&repo.path, "forge@example.com", None, &["merge", "-q", "--no-ff", "-m", "Merge promote", "promote"]);
    assert_caught(&repo, "merge-authorization");
}

#[test]
fn work_merged_past_a_second_manager_that_needs_no_second_passes() {
    // No false alarm: ordinary work, and a settings change made after the branch itself
    // registered the second manager through a proposal, merge cleanly.
    let (repo, id) = story();
    let im = who("incident_manager");
    repo.git(&["checkout", "-q", "-b", "work"]);
    repo.ok(&who("L3"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "on it"]);
    repo.incident("on the branch");
    repo.git(&["checkout", "-q", "main"]);
    repo.ok(
        &im,
        &["person", "update", &who("service_desk_manager"), "--role", "incident_manager,service_desk_manager"],
    );
    repo.ok(&im, &["person", "add", "--email", "new@example.com", "--name", "New", "--role", "L1"]);
    git_as(&repo.path, "forge@example.com", None, &["merge", "-q", "--no-ff", "-m", "Merge work", "work"]);
    let (code, doc) = verify(&repo, &["--no-cache"]);
    assert_eq!(code, 0, "{doc}");
}

#[test]
fn a_merge_that_hand_combines_a_record_or_reverts_a_revocation_is_caught() {
    let (repo, id) = story();
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.ok(&who("L2"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "from the side"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.ok(&who("L2"), &["incident", "diagnose", &id, "--steps", "from main"]);
    // Both changed the incident: git refuses to merge the record (merge=binary)…
    let out = Command::new("git").current_dir(&repo.path).args(["merge", "-q", "side"]).output().unwrap();
    assert!(!out.status.success(), "records must not merge textually");
    // …and a hand-made combination is caught.
    let file = incident_file(&repo, &id);
    repo.git(&["checkout", "--theirs", "--", &file]);
    git_as(&repo.path, "mallory@example.com", None, &["commit", "-qam", "combined by hand"]);
    assert_caught(&repo, "merge");

    let (repo, _) = story();
    repo.git(&["checkout", "-q", "-b", "stale"]);
    repo.incident("unrelated");
    repo.git(&["checkout", "-q", "main"]);
    repo.ok(&who("incident_manager"), &["person", "revoke", &who("L3")]);
    git_as(&repo.path, "mallory@example.com", None, &["merge", "-q", "--no-ff", "-m", "merge", "stale"]);
    // Take the stale people file and allowed_signers back from before the revocation.
    repo.git(&["checkout", "stale", "--", "people/l3@example.com.yaml", "allowed_signers"]);
    git_as(&repo.path, "mallory@example.com", None, &["commit", "-q", "--amend", "-am", "merge"]);
    assert_caught(&repo, "merge");
}

#[test]
fn an_amended_old_commit_or_a_new_root_is_caught() {
    let (repo, _) = story();
    // Rewrite the commit before last and put the last one back on top (unsigned, as a rebase does).
    let last = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    git_as(&repo.path, who("L1").as_str(), None, &["commit", "-q", "--amend", "--no-edit"]);
    git_as(&repo.path, who("L2").as_str(), None, &["cherry-pick", &last]);
    assert_caught(&repo, "signature");

    let (repo, _) = story();
    let other = Repo::new();
    repo.git(&["fetch", "-q", other.path.to_str().unwrap(), "main:rewritten"]);
    let pinned = root(&repo);
    let out = repo.run(&who("auditor"), &["verify", "--range", "rewritten", "--trust-root", &pinned, "--json"]);
    assert_eq!(out.status.code(), Some(7));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(rules(&doc).contains(&"trust-root".to_string()), "{doc}");
}

#[test]
fn a_forged_read_audit_entry_is_caught() {
    let (repo, _) = story();
    repo.ok(&who("auditor"), &["find", "incident"]);
    let (code, _) = verify(&repo, &[]);
    assert_eq!(code, 0);
    // Someone appends an entry to the auditor's read log, signed with their own key.
    let reads = "refs/ims/audit/reads/auditor@example.com";
    let tip = repo.git(&["rev-parse", reads]).trim().to_string();
    let tree = repo.git(&["rev-parse", "HEAD^{tree}"]).trim().to_string();
    let msg = "read: find incident\n\nIms-Procedure: read.identify/1\nIms-Action: identify incident\nIms-Actor: auditor@example.com\nIms-Input: {}\n";
    let key = repo.keys[&who("L1")].clone();
    let forged =
        git_as(&repo.path, "auditor@example.com", Some(&key), &["commit-tree", "-S", "-p", &tip, "-m", msg, &tree]);
    repo.git(&["update-ref", reads, forged.trim()]);
    assert_caught(&repo, "read-audit");
}

#[test]
fn two_clones_sync_concurrent_procedures_on_one_incident_without_a_merge() {
    let (repo, id) = story();
    let remote = repo.tmp.path().join("remote.git");
    repo.git(&["clone", "-q", "--bare", repo.path.to_str().unwrap(), remote.to_str().unwrap()]);
    let clone = |name: &str| {
        let dir = repo.tmp.path().join(name);
        repo.git(&["clone", "-q", remote.to_str().unwrap(), dir.to_str().unwrap()]);
        dir
    };
    let (a, b) = (clone("a"), clone("b"));
    let ims_in = |dir: &Path, actor: &str, args: &[&str]| {
        let out = Command::new(ims_bin())
            .current_dir(dir)
            .args(args)
            .env("IMS_NOW", &repo.now)
            .env("IMS_ACTOR", actor)
            .env("IMS_SIGNING_KEY", &repo.keys[actor])
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    ims_in(&a, &who("L3"), &["incident", "diagnose", &id, "--steps", "checked the replica"]);
    ims_in(&b, &who("L2"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "working on it"]);
    ims_in(&a, &who("L3"), &["sync", "--push"]);
    let out = ims_in(&b, &who("L2"), &["sync", "--push", "--json"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["sync"]["action"], "replayed", "{doc}");
    // The remote has both, in a line, and it verifies.
    let log = Command::new("git").current_dir(&remote).args(["log", "--format=%s", "main"]).output().unwrap();
    let log = String::from_utf8_lossy(&log.stdout);
    assert!(log.lines().next().unwrap().starts_with("incident: notify"), "{log}");
    assert!(log.lines().nth(1).unwrap().starts_with("incident: diagnose"), "{log}");
    let merges = Command::new("git").current_dir(&remote).args(["rev-list", "--merges", "main"]).output().unwrap();
    assert!(merges.stdout.is_empty());
    let fresh = clone("fresh");
    let out = Command::new(ims_bin())
        .current_dir(&fresh)
        .args(["verify", "--json"])
        .env("IMS_ACTOR", who("auditor"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let rec = ims_in(&fresh, &who("auditor"), &["show", &id, "--json"]);
    let rec: Value = serde_json::from_str(&rec).unwrap();
    assert_eq!(rec["diagnosis"][0]["steps"], "checked the replica");
    assert_eq!(rec["communications"].as_array().unwrap().last().unwrap()["message"], "working on it");
    // B's working tree and index are at the new tip: nothing stale to commit.
    let status = Command::new("git").current_dir(&b).args(["status", "--porcelain"]).output().unwrap();
    assert!(status.stdout.is_empty(), "{}", String::from_utf8_lossy(&status.stdout));
    // A procedure that no longer applies stops the sync, naming it.
    ims_in(&a, &who("L3"), &["sync"]);
    ims_in(&a, &who("L3"), &["incident", "resolve", &id, "--summary", "s", "--fix-applied", "--service-restored"]);
    ims_in(&b, &who("L2"), &["incident", "vendor", &id, "--vendor", "Acme", "--contact-method", "email"]);
    ims_in(&a, &who("L3"), &["sync", "--push"]);
    let out = Command::new(ims_bin())
        .current_dir(&b)
        .args(["sync", "--push"])
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", who("L2"))
        .env("IMS_SIGNING_KEY", &repo.keys[&who("L2")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("incident: engage vendor"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_pre_push_hook_refuses_unverifiable_history() {
    let (repo, id) = story();
    let remote = repo.tmp.path().join("remote.git");
    repo.git(&["init", "-q", "--bare", remote.to_str().unwrap()]);
    repo.git(&["remote", "add", "origin", remote.to_str().unwrap()]);
    let pinned = root(&repo);
    repo.ok(&who("auditor"), &["hooks", "install", "--trust-root", &pinned]);
    repo.git(&["push", "-q", "origin", "main"]);
    let file = incident_file(&repo, &id);
    std::fs::write(repo.path.join(&file), "tampered\n").unwrap();
    git_as(&repo.path, "mallory@example.com", None, &["commit", "-qam", "x"]);
    let out = Command::new("git").current_dir(&repo.path).args(["push", "-q", "origin", "main"]).output().unwrap();
    assert!(!out.status.success(), "the hook refused the push");
    assert!(String::from_utf8_lossy(&out.stderr).contains("push refused"));
}
