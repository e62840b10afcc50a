//! `ims verify` reports what it cannot read as a violation naming the commit and a rule,
//! exit 7, never an abort (exit 1 or 3), on any repository that opens at all.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// Runs git with raw (possibly non-UTF-8) arguments as an unsigned hand editor.
fn raw_git(repo: &Repo, args: &[&OsStr]) -> String {
    let out = Command::new("git")
        .current_dir(&repo.path)
        .env("GIT_AUTHOR_NAME", "mallory")
        .env("GIT_AUTHOR_EMAIL", "mallory@example.com")
        .env("GIT_COMMITTER_NAME", "mallory")
        .env("GIT_COMMITTER_EMAIL", "mallory@example.com")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn git(repo: &Repo, args: &[&str]) -> String {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    raw_git(repo, &args)
}

/// `ims verify --no-cache --json` with the root pinned: it must exit 7 with a document.
fn verify_fails(repo: &Repo) -> Value {
    let root = repo.git(&["rev-list", "--max-parents=0", "HEAD"]).trim().to_string();
    let out = repo.run(&who("auditor"), &["verify", "--trust-root", &root, "--no-cache", "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(7), "verify must report, not abort: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("a verify document: {stderr}"))
}

fn has(doc: &Value, commit: &str, rule: &str) -> bool {
    doc["violations"].as_array().unwrap().iter().any(|v| v["commit"] == commit && v["rule"] == rule)
}

fn story() -> Repo {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    repo
}

#[test]
fn a_gitlink_under_records_is_a_violation_not_an_abort() {
    let repo = story();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    git(&repo, &["update-index", "--add", "--cacheinfo", &format!("160000,{head},records/incidents/sub")]);
    git(&repo, &["commit", "-qm", "a submodule among the records"]);
    let x = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let doc = verify_fails(&repo);
    assert!(has(&doc, &x, "unreadable"), "{doc}");
    assert!(doc.to_string().contains("records/incidents/sub"), "names the path: {doc}");
}

#[test]
fn an_unparsable_people_file_is_a_violation_naming_the_commit() {
    let repo = story();
    std::fs::write(repo.path.join("people/l1@example.com.yaml"), "email: [unclosed\n\t: :\n").unwrap();
    git(&repo, &["commit", "-qam", "garble a person"]);
    let x = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let doc = verify_fails(&repo);
    assert!(has(&doc, &x, "procedure"), "{doc}");
    assert!(has(&doc, &x, "unreadable"), "the tip's people cannot be read, and verify says where: {doc}");
}

#[test]
fn a_missing_object_is_a_violation_naming_the_commit() {
    let repo = story();
    let head = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let file = repo.git(&["diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD"]);
    let file = file.lines().find(|l| l.starts_with("records/")).unwrap();
    let blob = repo.git(&["rev-parse", &format!("HEAD:{file}")]).trim().to_string();
    let loose = repo.path.join(".git/objects").join(&blob[..2]).join(&blob[2..]);
    assert!(loose.exists(), "ims writes loose objects");
    std::fs::remove_file(&loose).unwrap();
    let doc = verify_fails(&repo);
    assert!(has(&doc, &head, "unreadable"), "{doc}");
}

#[test]
fn a_name_that_is_not_utf8_is_a_violation() {
    let repo = story();
    let blob = git(&repo, &["hash-object", "-w", "--stdin"]);
    let mut info = b"100644,".to_vec();
    info.extend_from_slice(blob.as_bytes());
    info.extend_from_slice(b",records/incidents/\xff\xfe.yaml");
    raw_git(
        &repo,
        &[OsStr::new("update-index"), OsStr::new("--add"), OsStr::new("--cacheinfo"), OsStr::from_bytes(&info)],
    );
    git(&repo, &["commit", "-qm", "a name no one can read"]);
    let x = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let doc = verify_fails(&repo);
    assert!(has(&doc, &x, "unreadable"), "{doc}");
}

#[test]
fn a_folder_where_the_people_registry_is_expected_is_a_violation() {
    let repo = story();
    // people/ replaced by a file: the registry cannot be listed at the tip.
    git(&repo, &["rm", "-rq", "people"]);
    std::fs::write(repo.path.join("people"), "nobody\n").unwrap();
    git(&repo, &["add", "people"]);
    git(&repo, &["commit", "-qm", "people is a file now"]);
    let x = repo.git(&["rev-parse", "HEAD"]).trim().to_string();
    let doc = verify_fails(&repo);
    assert!(has(&doc, &x, "procedure"), "{doc}");
}
