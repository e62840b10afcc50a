//! Every tracked path is governed or listed as ungoverned: `.gitattributes` and
//! `templates/` change only through signed procedures (`ims template set|remove`), other
//! paths only when `ims.yaml` lists them; the site builder is a sandbox.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

/// Commits everything staged as a plain, unsigned git commit by `email`.
fn hand_commit(dir: &Path, email: &str, message: &str) {
    hand_commit_at(dir, email, message, None)
}

/// As [`hand_commit`], at `date` (after a fixture's simulated times).
fn hand_commit_at(dir: &Path, email: &str, message: &str, date: Option<&str>) {
    let mut cmd = Command::new("git");
    if let Some(date) = date {
        cmd.env("GIT_AUTHOR_DATE", date).env("GIT_COMMITTER_DATE", date);
    }
    let out = cmd
        .current_dir(dir)
        .args(["-c", "commit.gpgsign=false", "-c", &format!("user.email={email}"), "-c", "user.name=Hand"])
        .args(["commit", "-q", "-m", message])
        .output()
        .unwrap();
    assert!(out.status.success(), "git commit: {}", String::from_utf8_lossy(&out.stderr));
}

fn root(repo: &Repo) -> String {
    repo.git(&["rev-list", "--max-parents=0", "HEAD"]).trim().to_string()
}

/// `ims verify --no-cache --json` with the root pinned: (exit code, document).
fn verify(repo: &Repo) -> (i32, Value) {
    let root = root(repo);
    let out = repo.run(&who("auditor"), &["verify", "--trust-root", &root, "--no-cache", "--json"]);
    let doc: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), doc)
}

/// The (rule, message) of every violation.
fn violations(doc: &Value) -> Vec<(String, String)> {
    doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["rule"].as_str().unwrap().to_string(), v["message"].as_str().unwrap().to_string()))
        .collect()
}

fn write(repo: &Repo, path: &str, text: &str) {
    let file = repo.path.join(path);
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(file, text).unwrap();
}

#[test]
fn an_unsigned_gitattributes_is_a_violation_and_a_fresh_clone_still_runs_procedures() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    assert_eq!(verify(&repo).0, 0);
    // Finding 3: an unsigned .gitattributes that makes git convert records on checkout.
    write(&repo, ".gitattributes", "records/** text eol=crlf\nims.yaml text eol=crlf\n");
    repo.git(&["add", ".gitattributes"]);
    hand_commit(&repo.path, &who("L2"), "line endings");
    let (code, doc) = verify(&repo);
    assert_eq!(code, 7, "{doc}");
    let found = violations(&doc);
    assert!(found.iter().any(|(r, m)| r == "procedure" && m.contains(".gitattributes")), "{found:?}");
    // A fresh clone checks records out with CRLF; procedures still see a clean tree.
    let clone = repo.tmp.path().join("clone");
    let out = Command::new("git").arg("clone").arg("-q").arg(&repo.path).arg(&clone).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let file = repo.git(&["ls-files", "records/incidents"]).lines().next().unwrap().to_string();
    assert!(std::fs::read(clone.join(&file)).unwrap().windows(2).any(|w| w == b"\r\n"), "git converted the record");
    let out = Command::new(ims_bin())
        .current_dir(&clone)
        .args(["incident", "log", &id, "--description", "seen from a fresh clone"])
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", who("L2"))
        .env("IMS_SIGNING_KEY", &repo.keys[&who("L2")])
        .output()
        .unwrap();
    assert!(out.status.success(), "exit {:?}: {}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    let status = Command::new("git").current_dir(&clone).args(["status", "--porcelain"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&status.stdout), "", "git status is clean after the procedure");
}

#[test]
fn a_path_neither_governed_nor_listed_is_a_violation_and_listed_ones_are_free() {
    let repo = Repo::with_everyone();
    repo.incident("Checkout fails");
    // ims init wrote the default list.
    let config = repo.ok(&who("auditor"), &["config", "show"]);
    assert_eq!(config["config"]["ungoverned"][0], ".github/**", "{config}");
    // The CI recipes and documents the README recommends are free.
    write(&repo, ".github/workflows/ims-verify.yml", "on: [push]\n");
    write(&repo, ".gitlab-ci.yml", "ims-verify: {}\n");
    write(&repo, "README.md", "# our incidents\n");
    write(&repo, "docs/runbook.md", "restart it\n");
    write(&repo, ".gitignore", "site/\n");
    repo.git(&["add", "-A"]);
    hand_commit(&repo.path, &who("L2"), "CI and docs");
    let (code, doc) = verify(&repo);
    assert_eq!(code, 0, "{doc}");
    // Anything else is a violation with its own rule.
    write(&repo, "scripts/deploy.sh", "#!/bin/sh\n");
    repo.git(&["add", "-A"]);
    hand_commit(&repo.path, &who("L2"), "a script");
    let (code, doc) = verify(&repo);
    assert_eq!(code, 7, "{doc}");
    let found = violations(&doc);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "unlisted-path");
    assert!(found[0].1.contains("scripts/deploy.sh"), "{found:?}");
    // Listing it (a signed setting) frees later commits, not the one before.
    let list = r#"[".github/**", ".gitlab-ci.yml", "README*", "docs/**", ".gitignore", "scripts/**"]"#;
    repo.ok(&who("incident_manager"), &["config", "set", "ungoverned", list]);
    write(&repo, "scripts/other.sh", "#!/bin/sh\n");
    repo.git(&["add", "-A"]);
    hand_commit(&repo.path, &who("L2"), "another script");
    let (_, doc) = verify(&repo);
    assert_eq!(violations(&doc).len(), 1, "{doc}");
    // The list can never exempt what ims reads.
    for bad in [r#"["records/**"]"#, r#"["**"]"#, r#"["templates/*"]"#, r#"["*"]"#, r#"[".git*"]"#] {
        let err = repo.fails(&who("incident_manager"), &["config", "set", "ungoverned", bad], 3);
        assert!(err.contains("ungoverned[0]") && err.contains("governed path"), "{err}");
    }
}

#[test]
fn a_repository_from_before_the_list_behaves_as_the_default_and_migrate_adds_it() {
    // A repository whose ims.yaml predates `ungoverned` (the v1 fixture).
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/history-v1.bundle");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    let out = Command::new("git").arg("clone").arg("-q").arg(&bundle).arg(&dir).output().unwrap();
    assert!(out.status.success());
    let config = std::fs::read_to_string(dir.join("ims.yaml")).unwrap();
    assert!(!config.contains("ungoverned"));
    let ims = |args: &[&str]| {
        Command::new(ims_bin()).current_dir(&dir).args(args).env("IMS_ACTOR", "im@example.com").output().unwrap()
    };
    let root = String::from_utf8(
        Command::new("git").current_dir(&dir).args(["rev-list", "--max-parents=0", "HEAD"]).output().unwrap().stdout,
    )
    .unwrap();
    let verify = |dir: &Path| {
        let out = Command::new(ims_bin())
            .current_dir(dir)
            .args(["verify", "--no-cache", "--json", "--trust-root", root.trim()])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code().unwrap(), doc)
    };
    assert_eq!(verify(&dir).0, 0, "the old history verifies");
    std::fs::create_dir_all(dir.join(".github/workflows")).unwrap();
    std::fs::write(dir.join(".github/workflows/ims.yml"), "on: [push]\n").unwrap();
    std::fs::write(dir.join("README.md"), "# records\n").unwrap();
    Command::new("git").current_dir(&dir).args(["add", "-A"]).output().unwrap();
    hand_commit_at(&dir, "someone@example.com", "CI", Some("2030-01-01T00:00:00Z"));
    let (code, doc) = verify(&dir);
    assert_eq!(code, 0, "the default list applies: {doc}");
    std::fs::write(dir.join("Makefile"), "all:\n").unwrap();
    Command::new("git").current_dir(&dir).args(["add", "-A"]).output().unwrap();
    hand_commit_at(&dir, "someone@example.com", "make", Some("2030-01-01T00:00:00Z"));
    let (code, doc) = verify(&dir);
    assert_eq!(code, 7, "{doc}");
    assert_eq!(doc["violations"][0]["rule"], "unlisted-path");
    // ims migrate offers the setting; `--settings` adds it (proposed: two managers).
    let out = ims(&["migrate", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["missing_settings"][0]["key"], "ungoverned", "{doc}");
    let out = ims(&["migrate"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ims migrate --settings"));
}

#[test]
fn migrate_adds_a_missing_setting_as_a_signed_config_set() {
    let repo = Repo::new();
    let im = who("incident_manager");
    // As if made before the setting: absent, it behaves as the default list.
    repo.ok(&im, &["config", "set", "ungoverned", "null"]);
    assert!(!std::fs::read_to_string(repo.path.join("ims.yaml")).unwrap().contains("ungoverned"));
    let doc = repo.ok(&im, &["migrate"]);
    assert_eq!(doc["missing_settings"][0]["key"], "ungoverned", "{doc}");
    let doc = repo.ok(&im, &["migrate", "--settings"]);
    assert_eq!(doc["commits"].as_array().unwrap().len(), 1, "{doc}");
    let config = repo.ok(&im, &["config", "show"]);
    assert_eq!(config["config"]["ungoverned"][4], ".gitignore", "{config}");
    assert!(repo.ok(&im, &["migrate"])["missing_settings"].as_array().unwrap().is_empty());
    repo.verify_all_commits();
}
