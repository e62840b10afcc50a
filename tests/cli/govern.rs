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
fn the_ungoverned_list_cannot_free_the_name_of_a_governed_folder() {
    let repo = Repo::new();
    // A fresh repository has no records/ yet: listing `records` would let a hand commit put
    // a symbolic link there (verify ok), after which every record procedure fails.
    for bad in [r#"["records"]"#, r#"["people"]"#, r#"["templates"]"#, r#"["rec*"]"#, r#"["?eople"]"#] {
        let err = repo.fails(&who("incident_manager"), &["config", "set", "ungoverned", bad], 3);
        assert!(err.contains("ungoverned[0]") && err.contains("governed path"), "{bad}: {err}");
    }
    repo.ok(&who("incident_manager"), &["config", "set", "ungoverned", r#"["recordsx", "docs/**"]"#]);
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

/// `ims site build` into `out` with `extra` environment: (exit code, stderr).
fn build_site(repo: &Repo, out: &Path, audience: &str, extra: &[(&str, &str)]) -> (i32, String) {
    let mut cmd = Command::new(ims_bin());
    cmd.current_dir(&repo.path)
        .args(["site", "build", "--audience", audience, "--out"])
        .arg(out)
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", who("auditor"))
        .env("IMS_SIGNING_KEY", &repo.keys[&who("auditor")]);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let o = cmd.output().unwrap();
    (o.status.code().unwrap(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Whether any file under `dir` contains `needle`.
fn anywhere(dir: &Path, needle: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            anywhere(&p, needle)
        } else {
            std::fs::read(&p).is_ok_and(|b| String::from_utf8_lossy(&b).contains(needle))
        }
    })
}

const BASE: &str = include_str!("../../templates/base.html");

#[test]
fn an_unsigned_template_override_is_a_violation_and_the_site_does_not_use_it() {
    let repo = Repo::with_everyone();
    repo.incident("Checkout fails");
    // Finding 3: an unsigned commit adds an override the site builder would read.
    write(&repo, "templates/base.html", &BASE.replace("<body>", "<body>HAND-MADE-OVERRIDE"));
    repo.git(&["add", "-A"]);
    hand_commit(&repo.path, &who("L2"), "a nicer header");
    let (code, doc) = verify(&repo);
    assert_eq!(code, 7, "{doc}");
    let found = violations(&doc);
    assert!(found.iter().any(|(r, m)| r == "procedure" && m.contains("templates/base.html")), "{found:?}");
    let out = repo.tmp.path().join("site");
    let (code, err) = build_site(&repo, &out, "public", &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("templates/") && err.contains("ims template set"), "{err}");
    assert!(!anywhere(&out, "HAND-MADE-OVERRIDE"));
}

#[test]
fn a_template_reading_the_environment_leaks_nothing() {
    let repo = Repo::with_everyone();
    repo.incident("Checkout fails");
    let secret = [("IMS_TEST_SECRET", "S3CRET-ENV-VALUE-9317")];
    let hostile = BASE.replace("<body>", r#"<body>{{ get_env(name="IMS_TEST_SECRET", default="none") }}"#);
    // Committed by hand: refused, nothing rendered with it.
    write(&repo, "templates/base.html", &hostile);
    repo.git(&["add", "-A"]);
    hand_commit(&repo.path, &who("L2"), "debug footer");
    let out = repo.tmp.path().join("site");
    let (code, err) = build_site(&repo, &out, "public", &secret);
    assert_eq!(code, 3, "{err}");
    assert!(!anywhere(&out, "S3CRET-ENV-VALUE-9317"), "the environment leaked into the public site");
    assert!(!err.contains("S3CRET-ENV-VALUE-9317"));
    // Set through the procedure by an incident manager: the sandbox refuses get_env.
    repo.git(&["rm", "-q", "templates/base.html"]);
    hand_commit(&repo.path, &who("L2"), "undo");
    let file = repo.tmp.path().join("hostile.html");
    std::fs::write(&file, &hostile).unwrap();
    repo.ok(&who("incident_manager"), &["template", "set", "base.html", file.to_str().unwrap()]);
    let out = repo.tmp.path().join("site2");
    let (code, err) = build_site(&repo, &out, "public", &secret);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("get_env"), "{err}");
    assert!(!anywhere(&out, "S3CRET-ENV-VALUE-9317"), "the environment leaked into the public site");
    for other in ["now()", "get_random(start=1, end=9)"] {
        std::fs::write(&file, BASE.replace("<body>", &format!("<body>{{{{ {other} }}}}"))).unwrap();
        repo.ok(&who("incident_manager"), &["template", "set", "base.html", file.to_str().unwrap()]);
        let (code, err) = build_site(&repo, &repo.tmp.path().join("site3"), "public", &[]);
        assert_eq!(code, 3, "{other}: {err}");
    }
}

#[test]
fn a_symlinked_template_is_refused() {
    let repo = Repo::with_everyone();
    repo.incident("Checkout fails");
    let private = repo.tmp.path().join("id_private");
    std::fs::write(&private, "PRIVATE-KEY-MATERIAL-5521\n").unwrap();
    // Committed by hand as a link to a file outside the repository.
    std::fs::create_dir_all(repo.path.join("templates")).unwrap();
    std::os::unix::fs::symlink(&private, repo.path.join("templates/base.html")).unwrap();
    repo.git(&["add", "-A"]);
    hand_commit(&repo.path, &who("L2"), "shared header");
    let out = repo.tmp.path().join("site");
    let (code, err) = build_site(&repo, &out, "public", &[]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert!(!anywhere(&out, "PRIVATE-KEY-MATERIAL-5521"), "the linked file leaked");
    let (code, _) = verify(&repo);
    assert_eq!(code, 7);
    // Given to `ims template set`: refused, nothing changes.
    repo.git(&["rm", "-q", "templates/base.html"]);
    hand_commit(&repo.path, &who("L2"), "undo");
    let link = repo.tmp.path().join("link.html");
    std::os::unix::fs::symlink(&private, &link).unwrap();
    let before = repo.state();
    let err = repo.fails(&who("incident_manager"), &["template", "set", "base.html", link.to_str().unwrap()], 3);
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(repo.state(), before);
}

#[test]
fn templates_change_only_through_signed_procedures_under_the_two_manager_rule() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    let im = who("incident_manager");
    let file = repo.tmp.path().join("incident.html");
    let own = include_str!("../../templates/incident.html").replace("<h1>", "<h1 class=\"own-7731\">");
    std::fs::write(&file, &own).unwrap();
    let set = |actor: &str, name: &str, code: i32| {
        repo.fails(actor, &["template", "set", name, file.to_str().unwrap()], code)
    };
    // Who, which names, what content.
    set(&who("L2"), "incident.html", 4);
    assert!(set(&im, "secrets.html", 3).contains("not a built-in template name"));
    assert!(set(&im, "../ims.yaml", 3).contains("not a built-in template name"));
    std::fs::write(&file, "{% if %}").unwrap();
    assert!(set(&im, "incident.html", 3).contains("template incident.html"));
    std::fs::write(&file, "x".repeat(300 * 1024)).unwrap();
    assert!(set(&im, "incident.html", 3).contains("at most"));
    std::fs::write(&file, "a\u{0}b").unwrap();
    set(&im, "incident.html", 3);
    // Set: the site uses it; a working-tree edit is not used.
    std::fs::write(&file, &own).unwrap();
    let doc = repo.ok(&im, &["template", "set", "incident.html", file.to_str().unwrap()]);
    assert_eq!(doc["id"], "incident.html");
    let out = repo.tmp.path().join("site");
    assert_eq!(build_site(&repo, &out, "internal", &[]).0, 0);
    assert!(std::fs::read_to_string(out.join(format!("incidents/{id}.html"))).unwrap().contains("own-7731"));
    std::fs::write(repo.path.join("templates/incident.html"), "WORKTREE-EDIT").unwrap();
    assert_eq!(build_site(&repo, &out, "internal", &[]).0, 0);
    assert!(!anywhere(&out, "WORKTREE-EDIT"));
    repo.git(&["checkout", "--", "templates/incident.html"]);
    let list = repo.ok(&who("auditor"), &["template", "list"]);
    assert!(list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "incident.html" && t["overridden"] == true));
    // Remove: the built-in is used again.
    repo.ok(&im, &["template", "remove", "incident.html"]);
    repo.fails(&im, &["template", "remove", "incident.html"], 3);
    assert_eq!(build_site(&repo, &out, "internal", &[]).0, 0);
    assert!(!anywhere(&out, "own-7731"));
    // With two incident managers, a template waits for the second one.
    let im2 = who("service_desk_manager");
    repo.ok(&im, &["person", "update", &im2, "--role", "incident_manager,service_desk_manager"]);
    let doc = repo.ok(&im, &["template", "set", "incident.html", file.to_str().unwrap()]);
    let proposal = doc["id"].as_str().unwrap().to_string();
    assert!(proposal.starts_with("PRP-"), "{doc}");
    assert_eq!(build_site(&repo, &out, "internal", &[]).0, 0);
    assert!(!anywhere(&out, "own-7731"), "a proposal changes nothing yet");
    repo.fails(&im, &["proposal", "approve", &proposal], 4);
    repo.ok(&im2, &["proposal", "approve", &proposal]);
    assert_eq!(build_site(&repo, &out, "internal", &[]).0, 0);
    assert!(anywhere(&out, "own-7731"));
    // Every step replays.
    let (code, doc) = verify(&repo);
    assert_eq!(code, 0, "{doc}");
    repo.verify_all_commits();
}
