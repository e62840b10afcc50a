//! The procedure engine end to end: signing, the working tree, concurrency, the clock,
//! input hygiene and the error contract.

use std::process::Command;

use crate::support::*;

#[test]
fn every_commit_verifies_with_git_and_the_tree_stays_clean() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), "", "ims leaves no local changes");
    // A plain `git commit` right after a procedure has nothing stale to commit…
    let out = Command::new("git").current_dir(&repo.path).args(["commit", "-am", "stale?"]).output().unwrap();
    assert!(!out.status.success(), "nothing to commit");
    // …and an ordinary file committed by hand leaves every record as ims wrote it.
    std::fs::write(repo.path.join("NOTES.md"), "hello\n").unwrap();
    let before = repo.git(&["ls-tree", "-r", "HEAD"]);
    repo.git(&["add", "NOTES.md"]);
    repo.git(&["-c", "commit.gpgsign=false", "commit", "-qm", "notes"]);
    let after = repo.git(&["ls-tree", "-r", "HEAD"]);
    let added: Vec<&str> = after.lines().filter(|l| !before.contains(l)).collect();
    assert_eq!(added.len(), 1, "only NOTES.md changed: {added:?}");
    assert!(added[0].ends_with("NOTES.md"));
    // The hand commit is unsigned; check the ims ones.
    for c in repo.git(&["rev-list", "HEAD~1"]).lines() {
        let out = Command::new("git").current_dir(&repo.path).args(["verify-commit", c]).output().unwrap();
        assert!(out.status.success(), "{c}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn all_procedure_commits_verify() {
    let repo = Repo::with_everyone();
    repo.incident("One");
    repo.ok(&who("incident_manager"), &["find", "incident"]);
    assert!(repo.verify_all_commits() >= 14);
}

#[test]
fn eight_concurrent_writers_all_land() {
    let repo = Repo::with_everyone();
    let before: usize = repo.git(&["rev-list", "--count", "HEAD"]).trim().parse().unwrap();
    let writers = ["service_desk", "L1", "L2", "L3", "devops", "facilities", "change_mgmt", "service_desk_manager"];
    let children: Vec<_> = writers
        .iter()
        .map(|role| {
            let actor = who(role);
            Command::new(ims_bin())
                .current_dir(&repo.path)
                .args([
                    "incident",
                    "identify",
                    "--title",
                    &format!("from {role}"),
                    "--service",
                    "shop",
                    "--source",
                    "user_report",
                    "--json",
                ])
                .env("IMS_NOW", &repo.now)
                .env("IMS_ACTOR", &actor)
                .env("IMS_SIGNING_KEY", &repo.keys[&actor])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let after: usize = repo.git(&["rev-list", "--count", "HEAD"]).trim().parse().unwrap();
    assert_eq!(after, before + 8, "eight commits, one per writer, none lost");
    let files = repo.git(&["ls-tree", "-r", "--name-only", "HEAD", "records/incidents"]);
    assert_eq!(files.lines().count(), 8);
    assert_eq!(repo.git(&["rev-list", "--merges", "HEAD"]), "", "a linear history");
    repo.git(&["fsck", "--strict"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), "", "index and working tree match the tip");
    repo.verify_all_commits();
}

#[test]
fn rsa_and_ecdsa_keys_sign_too() {
    let mut repo = Repo::new();
    for (role, kind) in [("L2", "rsa"), ("L3", "ecdsa")] {
        let key = keygen(repo.tmp.path(), role, kind);
        let email = who(role);
        repo.ok(
            &who("incident_manager"),
            &[
                "person",
                "add",
                "--email",
                &email,
                "--name",
                role,
                "--role",
                role,
                "--key",
                pubkey(&key).to_str().unwrap(),
            ],
        );
        repo.keys.insert(email.clone(), key);
        repo.ok(&email, &["incident", "identify", "--title", kind, "--service", "db", "--source", "user_report"]);
    }
    repo.verify_all_commits();
}

#[test]
fn a_key_held_by_ssh_agent_signs() {
    let mut repo = Repo::new();
    let key = keygen(repo.tmp.path(), "agent", "ed25519");
    let email = who("L1");
    repo.ok(
        &who("incident_manager"),
        &["person", "add", "--email", &email, "--name", "L1", "--role", "L1", "--key", pubkey(&key).to_str().unwrap()],
    );
    let sock = repo.tmp.path().join("agent.sock");
    let agent =
        Command::new("ssh-agent").arg("-D").arg("-a").arg(&sock).stdout(std::process::Stdio::null()).spawn().unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
        }
    }
    let _agent = Kill(agent);
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let added = Command::new("ssh-add").arg(&key).env("SSH_AUTH_SOCK", &sock).output().unwrap();
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    // Only the public key is named: the private half is in the agent.
    std::fs::remove_file(&key).unwrap();
    let out = Command::new(ims_bin())
        .current_dir(&repo.path)
        .args(["incident", "identify", "--title", "via agent", "--service", "db", "--source", "user_report"])
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", &email)
        .env("IMS_SIGNING_KEY", pubkey(&key))
        .env("SSH_AUTH_SOCK", &sock)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    repo.keys.remove(&email);
    repo.verify_all_commits();
}

#[test]
fn a_key_that_is_not_the_actors_is_forbidden_and_changes_nothing() {
    let mut repo = Repo::with_everyone();
    let before = repo.state();
    let stranger = keygen(repo.tmp.path(), "stranger", "ed25519");
    repo.keys.insert(who("L1"), stranger);
    let err = repo.fails(
        &who("L1"),
        &["incident", "identify", "--title", "x", "--service", "s", "--source", "user_report"],
        4,
    );
    assert!(err.contains("not one of their registered keys"), "{err}");
    let err = repo.fails(
        "ghost@example.com",
        &["incident", "identify", "--title", "x", "--service", "s", "--source", "user_report"],
        4,
    );
    assert!(err.contains("not a registered person"), "{err}");
    assert_eq!(repo.state(), before);
}

#[test]
fn ims_now_is_refused_outside_a_simulated_clock_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let key = keygen(tmp.path(), "k", "ed25519");
    let path = tmp.path().join("real");
    let out = Command::new(ims_bin())
        .args([
            "init",
            path.to_str().unwrap(),
            "--name",
            "A",
            "--email",
            "a@example.com",
            "--key",
            pubkey(&key).to_str().unwrap(),
        ])
        .env_remove("IMS_NOW")
        .env_remove("IMS_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(ims_bin())
        .current_dir(&path)
        .args(["incident", "identify", "--title", "x", "--service", "s", "--source", "user_report"])
        .env("IMS_NOW", "2030-01-01T00:00:00Z")
        .env("IMS_ACTOR", "a@example.com")
        .env("IMS_SIGNING_KEY", &key)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("IMS_NOW"));
    // Without IMS_NOW the real clock is used and it works; init set user.email and user.signingkey.
    let out = Command::new(ims_bin())
        .current_dir(&path)
        .args(["incident", "identify", "--title", "x", "--service", "s", "--source", "user_report"])
        .env_remove("IMS_NOW")
        .env_remove("IMS_ACTOR")
        .env_remove("IMS_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn time_never_goes_backwards_along_history() {
    let mut repo = Repo::with_everyone();
    repo.now = "2026-11-26T12:00:00Z".into();
    let id = repo.incident("later");
    repo.now = "2026-11-20T12:00:00Z".into();
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L1"]);
    let rec = repo.show(&id);
    assert_eq!(rec["acknowledged_at"], "2026-11-26T12:00:00Z", "the parent's time wins over an earlier clock");
}

#[test]
fn secrets_and_control_characters_are_refused_naming_the_field() {
    let repo = Repo::with_everyone();
    let id = repo.incident("x");
    let before = repo.state();
    let sd = who("service_desk");
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "incident",
                "notify",
                &id,
                "--to",
                "end_users",
                "--message",
                "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
            ],
            "message",
        ),
        (&["incident", "log", &id, "--description=-----BEGIN OPENSSH PRIVATE KEY-----\nabc"], "description"),
        (&["incident", "diagnose", &id, "--steps", "curl https://admin:s3cretpw@10.0.0.1/"], "steps"),
        (&["incident", "log", &id, "--description", "AKIAIOSFODNN7EXAMPLE"], "description"),
        (&["incident", "diagnose", &id, "--steps", "bell\u{7}"], "steps"),
        (&["incident", "identify", "--title", &"t".repeat(600), "--service", "s", "--source", "user_report"], "title"),
    ];
    for (args, field) in cases {
        let err = repo.fails(&sd, args, 3);
        assert!(err.contains(field), "{err}");
    }
    assert_eq!(repo.state(), before);
}

#[test]
fn unknown_enum_values_are_exit_3_and_unknown_flags_exit_2() {
    let repo = Repo::with_everyone();
    let id = repo.incident("x");
    let l1 = who("L1");
    let err = repo.fails(&l1, &["incident", "categorize", &id, "--category", "weird"], 3);
    assert!(err.contains("category: `weird` is not one of"), "{err}");
    repo.fails(&l1, &["incident", "assign", &id, "--team", "L9"], 3);
    let out = repo.run(&l1, &["incident", "assign", &id, "--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let out = repo.run(&l1, &["frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn json_errors_are_one_document() {
    let repo = Repo::with_everyone();
    let out = repo.run(&who("L1"), &["show", "INC-20260101-0000000000", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["error"]["code"], "invalid");
    assert!(doc["error"].get("step").is_none(), "no procedure halted: {doc}");
}

/// A procedure's halt names its policy step and the field it refused, as data in the
/// `--json` error document; the message and the stderr line are what they always were.
#[test]
fn json_halts_name_their_policy_step_and_field() {
    let repo = Repo::with_everyone();
    let id = repo.incident("x");
    let args = ["incident", "close", id.as_str(), "--notes", "done", "--json"];
    let before = repo.state();
    let out = repo.run(&who("L1"), &args);
    assert_eq!(out.status.code(), Some(5));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = format!("incident {id}: close needs status resolved, it is open");
    assert_eq!(
        doc,
        serde_json::json!({"ok": false, "error": {
            "code": "precondition",
            "message": message,
            "step": "incident.close/1 step 1",
            "field": "status",
        }})
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), format!("error: {message}\n"));
    assert_eq!(repo.state(), before);
    // Authorization: step 1 of escalate, the actor's roles.
    let out = repo.run(&who("auditor"), &["incident", "escalate", &id, "--to", "L3", "--reason", "r", "--json"]);
    assert_eq!(out.status.code(), Some(4));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (doc["error"]["step"].as_str(), doc["error"]["field"].as_str()),
        (Some("incident.escalate/1 step 1"), Some("roles"))
    );
}

#[test]
fn local_edits_to_a_record_halt_with_exit_5() {
    let repo = Repo::with_everyone();
    let id = repo.incident("x");
    let path = repo.git(&["ls-files", "records/incidents"]).trim().to_string();
    let file = repo.path.join(&path);
    let mut text = std::fs::read_to_string(&file).unwrap();
    text = text.replace("title: \"x\"", "title: \"hand edit\"");
    std::fs::write(&file, &text).unwrap();
    let before = repo.state();
    let err = repo.fails(&who("L1"), &["incident", "assign", &id, "--team", "L1"], 5);
    assert!(err.contains("local edits"), "{err}");
    assert_eq!(repo.state(), before);
}

#[test]
fn ids_resolve_from_unambiguous_prefixes() {
    let repo = Repo::with_everyone();
    let a = repo.incident("a");
    let b = repo.incident("b");
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let short = &a[..common + 1];
    assert_eq!(repo.show(short)["incident_id"], a.as_str());
    let err = repo.fails(&who("auditor"), &["show", "INC-2026"], 3);
    assert!(err.contains("ambiguous") && err.contains(&a) && err.contains(&b), "{err}");
    repo.fails(&who("auditor"), &["show", "INC-1999"], 3);
}
