//! The compatibility suite: fixture histories made by earlier versions of ims must still
//! read and replay, byte for byte, with this one (DESIGN.md "Verification").

use std::path::Path;
use std::process::Command;

fn clone_fixture(name: &str) -> (tempfile::TempDir, git2::Repository) {
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("repo");
    let out = Command::new("git").arg("clone").arg("-q").arg(&bundle).arg(&dest).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("git")
        .current_dir(&dest)
        .args(["fetch", "-q", "origin", "refs/ims/*:refs/ims/*"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let repo = git2::Repository::open(&dest).unwrap();
    (tmp, repo)
}

/// Every fixture: each release adds one (scripts/make-fixture.sh) and keeps the old.
const FIXTURES: &[&str] = &["history-v1.bundle", "history-v2.bundle", "history-v3.bundle"];

/// Procedures added since the newest fixture was made. Each is replayed by `ims verify`
/// in a command-level test; the next release's fixture (scripts/make-fixture.sh runs
/// them) takes them off this list.
const SINCE_LAST_FIXTURE: &[&str] = &["repo.init/2", "template.set/1", "template.remove/1", "communication.deliver/1"];

#[test]
fn every_fixture_replays_byte_for_byte_and_every_signature_is_good() {
    let mut procedures = std::collections::BTreeSet::new();
    for fixture in FIXTURES {
        let (_tmp, git) = clone_fixture(fixture);
        let mut walk = git.revwalk().unwrap();
        walk.push_head().unwrap();
        let mut count = 0;
        for oid in walk {
            let oid = oid.unwrap();
            let violation = ims::replay::replay_commit(&git, oid).unwrap();
            assert_eq!(violation, None, "{fixture} {oid}");
            let commit = git.find_commit(oid).unwrap();
            let trailers = ims::engine::parse_trailers(commit.message().unwrap()).unwrap();
            let status = ims::query::signature_status(&git, &commit, &trailers.actor).unwrap();
            assert_eq!(status, ims::query::SignatureStatus::Good, "{fixture} {oid}");
            procedures.insert(trailers.procedure);
            count += 1;
        }
        assert!(count >= 30, "{fixture}: {count} commits");
        // The read-audit ref came along and is signed.
        let reads = git.refname_to_id("refs/ims/audit/reads/l2@example.com").unwrap();
        let commit = git.find_commit(reads).unwrap();
        assert_eq!(
            ims::query::signature_status(&git, &commit, "l2@example.com").unwrap(),
            ims::query::SignatureStatus::Good
        );
    }
    // Every procedure is in some fixture, so all of them stay replayable.
    for id in ims::procedures::IDS {
        assert!(procedures.contains(*id) || SINCE_LAST_FIXTURE.contains(id), "no fixture has {id}");
    }
}

#[test]
fn a_tampered_record_does_not_replay() {
    let (tmp, git) = clone_fixture("history-v1.bundle");
    let dir = tmp.path().join("repo");
    // Hand-edit the incident and amend the last commit, keeping its message.
    let path = Command::new("git")
        .current_dir(&dir)
        .args(["grep", "-l", "Checkout returns 502", "--", "records"])
        .output()
        .unwrap();
    let first = String::from_utf8_lossy(&path.stdout).lines().next().expect("the fixture's first incident").to_string();
    let text = std::fs::read_to_string(dir.join(&first)).unwrap();
    std::fs::write(dir.join(&first), text.replacen("\"Checkout returns 502\"", "\"Nothing happened\"", 1)).unwrap();
    // The committer is made to look like the actor, so only the bytes give it away.
    let who = Command::new("git").current_dir(&dir).args(["log", "-1", "--format=%an%n%ae%n%ad"]).output().unwrap();
    let who = String::from_utf8_lossy(&who.stdout).into_owned();
    let who: Vec<&str> = who.lines().collect();
    let out = Command::new("git")
        .current_dir(&dir)
        .args(["-c", "commit.gpgsign=false", "commit", "-q", "-a", "--amend", "--no-edit"])
        .env("GIT_COMMITTER_NAME", who[0])
        .env("GIT_COMMITTER_EMAIL", who[1])
        .env("GIT_COMMITTER_DATE", who[2])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let head = git.refname_to_id("HEAD").unwrap();
    let v = ims::replay::replay_commit(&git, head).unwrap().expect("a violation");
    assert_eq!(v.rule, ims::verify::Rule::Replay);
    assert!(v.message.contains(&first), "{}", v.message);
}
