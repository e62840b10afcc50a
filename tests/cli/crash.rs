//! Crash-safe procedures: `kill -9` at each documented kill point of a procedure, then
//! the next ims command (a read, or another procedure) repairs the working tree and the
//! index, so `git status` is clean and a plain `git commit` cannot revert the signed change.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Runs `args` as `actor` with `IMS_PAUSE_AT=point`, waits until it stops there, and
/// kills it with SIGKILL.
fn kill_at(repo: &Repo, actor: &str, args: &[&str], point: &str) {
    let log = repo.tmp.path().join(format!("{point}.log"));
    let mut child = Command::new(ims_bin())
        .current_dir(&repo.path)
        .args(args)
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", actor)
        .env("IMS_SIGNING_KEY", &repo.keys[actor])
        .env("IMS_PAUSE_AT", point)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains(&format!("paused at {point}")) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("ims ended ({status}) without reaching {point}: {}", std::fs::read_to_string(&log).unwrap());
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never reached {point}");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn git_out(repo: &Repo, args: &[&str]) -> (bool, String) {
    let out = Command::new("git")
        .current_dir(&repo.path)
        .args(["-c", "user.email=x@example.com", "-c", "user.name=X", "-c", "commit.gpgsign=false"])
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The working tree and index match the branch, and plain commits have nothing to commit.
fn assert_clean(repo: &Repo, file: &str, head_has: &str) {
    assert!(!repo.path.join(".git/index.lock").exists(), "the stale index.lock was cleared");
    assert_eq!(repo.git(&["status", "--porcelain"]), "", "git status is clean");
    let head = repo.git(&["rev-parse", &format!("HEAD:{file}")]);
    let staged = repo.git(&["rev-parse", &format!(":{file}")]);
    assert_eq!(head, staged, "the index holds the branch's record");
    assert!(std::fs::read_to_string(repo.path.join(file)).unwrap().contains(head_has), "the working file is the tip's");
    let before = repo.git(&["rev-parse", "HEAD"]);
    for args in [&["commit", "-q", "-m", "plain"][..], &["commit", "-q", "-a", "-m", "plain -a"][..]] {
        let (ok, out) = git_out(repo, args);
        assert!(!ok, "git {args:?} found nothing to commit: {out}");
    }
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), before, "no commit reverted the signed change");
}

fn incident_file(repo: &Repo, id: &str) -> String {
    repo.git(&["ls-files", "records/incidents"]).lines().find(|l| l.contains(id)).unwrap().to_string()
}

#[test]
fn a_kill_at_each_point_of_a_procedure_is_repaired_by_the_next_command() {
    let repo = Repo::with_everyone();
    let l2 = who("L2");
    for (n, point) in
        ["after-index-lock", "after-ref-update", "after-worktree-write", "after-index-write"].into_iter().enumerate()
    {
        let id = repo.incident(&format!("Crash {n}"));
        let file = incident_file(&repo, &id);
        let text = format!("killed-at-{point}");
        kill_at(&repo, &l2, &["incident", "log", &id, "--description", &text], point);
        let moved = point != "after-index-lock";
        // The next command, a plain read, repairs before it reads.
        repo.show(&id);
        assert_clean(&repo, &file, if moved { &text } else { "Crash" });
        let head = repo.git(&["show", &format!("HEAD:{file}")]);
        assert_eq!(head.contains(&text), moved, "{point}: the branch moved iff the kill came after the ref update");
    }
    // A procedure right after a kill works too, and everything verifies.
    let id = repo.incident("Crash then work");
    let file = incident_file(&repo, &id);
    kill_at(&repo, &l2, &["incident", "log", &id, "--description", "first"], "after-ref-update");
    repo.ok(&l2, &["incident", "log", &id, "--description", "second"]);
    assert_clean(&repo, &file, "second");
    let root = repo.git(&["rev-list", "--max-parents=0", "HEAD"]);
    let out = repo.run(&who("auditor"), &["verify", "--trust-root", root.trim()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_kill_after_the_ref_update_cannot_be_reverted_by_a_plain_commit() {
    // Finding 4 as reported: the branch moved, the index still held the old record and
    // index.lock stayed behind; once the lock was gone, `git commit` reverted the change.
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    let file = incident_file(&repo, &id);
    kill_at(&repo, &who("L2"), &["incident", "log", &id, "--description", "signed change"], "after-ref-update");
    let signed = repo.git(&["rev-parse", "HEAD"]);
    // Any ims command repairs; here the cheapest read of all.
    let out = repo.run(&who("auditor"), &["config", "show"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"), "the repair is reported");
    assert_clean(&repo, &file, "signed change");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), signed);
    assert!(repo.git(&["show", &format!("HEAD:{file}")]).contains("signed change"));
}

#[test]
fn a_working_file_edited_after_the_kill_is_kept_and_the_index_follows_the_branch() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    let file = incident_file(&repo, &id);
    kill_at(&repo, &who("L2"), &["incident", "log", &id, "--description", "signed"], "after-ref-update");
    std::fs::write(repo.path.join(&file), "someone's edit\n").unwrap();
    repo.show(&id);
    assert_eq!(std::fs::read_to_string(repo.path.join(&file)).unwrap(), "someone's edit\n", "the edit is kept");
    assert_eq!(repo.git(&["rev-parse", &format!("HEAD:{file}")]), repo.git(&["rev-parse", &format!(":{file}")]));
    assert_eq!(repo.git(&["status", "--porcelain"]).trim(), format!("M {file}"), "shown as a local edit");
}

#[test]
fn an_edit_staged_after_the_kill_is_never_overwritten_by_the_repair() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    let file = incident_file(&repo, &id);
    kill_at(&repo, &who("L2"), &["incident", "log", &id, "--description", "signed"], "after-ref-update");
    let signed = repo.git(&["rev-parse", "HEAD"]);
    // Someone clears the lock as git tells them to, edits the record and stages it
    // before any ims runs again.
    std::fs::remove_file(repo.path.join(".git/index.lock")).unwrap();
    std::fs::write(repo.path.join(&file), "someone's staged edit\n").unwrap();
    repo.git(&["add", &file]);
    let edit = repo.git(&["rev-parse", &format!(":{file}")]);
    let out = repo.run(&who("auditor"), &["config", "show"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&file) && stderr.contains("kept"), "the kept edit is reported: {stderr}");
    // The edit survives in the working tree and the index; the branch stays signed.
    assert_eq!(std::fs::read_to_string(repo.path.join(&file)).unwrap(), "someone's staged edit\n");
    assert_eq!(repo.git(&["rev-parse", &format!(":{file}")]), edit, "the staged edit is kept");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), signed, "the branch never moves back");
    // git status explains it: a staged change against the signed tip.
    assert_eq!(repo.git(&["status", "--porcelain"]).trim_end(), format!("M  {file}"));
    assert!(repo.git(&["diff", "--cached", "--", &file]).contains("+someone's staged edit"));
    // The next command has nothing left to repair and says nothing about it.
    let out = repo.run(&who("auditor"), &["config", "show"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("interrupted"));
    assert_eq!(repo.git(&["rev-parse", &format!(":{file}")]), edit);
    // Taking the signed version back leaves everything clean.
    repo.git(&["checkout", "HEAD", "--", &file]);
    assert_clean(&repo, &file, "signed");
}

#[test]
fn a_file_deleted_after_the_kill_is_not_brought_back_over_the_deletion() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    let file = incident_file(&repo, &id);
    kill_at(&repo, &who("L2"), &["incident", "log", &id, "--description", "signed"], "after-ref-update");
    std::fs::remove_file(repo.path.join(".git/index.lock")).unwrap();
    repo.git(&["rm", "-q", "-f", &file]);
    let out = repo.run(&who("auditor"), &["config", "show"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("kept"), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!repo.path.join(&file).exists(), "the deletion is kept");
    assert_eq!(repo.git(&["status", "--porcelain"]).trim_end(), format!("D  {file}"));
}
