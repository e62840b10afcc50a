//! `ims doctor`: reports every cache in `.git/ims/cache/` with its format, size and
//! entries, a stale `index.lock`, dead journals and the object counts; `--fix` deletes
//! outdated or tampered caches and a lock whose ims is gone, after which every command
//! (and `ims verify`, rebuilding its cache) works as before.

use serde_json::Value;

use crate::support::*;

fn doctor(repo: &Repo, extra: &[&str]) -> Value {
    let mut args = vec!["doctor"];
    args.extend_from_slice(extra);
    repo.ok(&who("auditor"), &args)
}

fn cache_names(doc: &Value) -> Vec<(String, bool)> {
    doc["caches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["kind"].as_str().unwrap_or("?").to_string(), c["current"].as_bool().unwrap()))
        .collect()
}

#[test]
fn reports_the_caches_the_commands_make_in_one_folder() {
    let repo = Repo::with_everyone();
    let fresh = doctor(&repo, &[]);
    assert_eq!(fresh["caches"], serde_json::json!([]), "{fresh}");
    assert_eq!(fresh["fixable"], false);
    assert!(fresh["objects"]["loose"].as_u64().unwrap() > 0, "ims init wrote loose objects: {fresh}");
    repo.incident("Checkout is slow");
    repo.ok(&who("auditor"), &["verify"]);
    repo.ok(&who("incident_manager"), &["report"]);
    let doc = doctor(&repo, &[]);
    let names = cache_names(&doc);
    assert!(names.contains(&("verify".into(), true)), "{doc}");
    assert!(names.contains(&("report".into(), true)), "{doc}");
    for c in doc["caches"].as_array().unwrap() {
        let path = std::path::Path::new(c["path"].as_str().unwrap());
        assert!(path.starts_with(repo.path.join(".git/ims/cache")), "{path:?} is in the one cache folder");
        let header = std::fs::read_to_string(path).unwrap();
        assert!(header.starts_with(&format!("ims-cache {}", c["format"].as_str().unwrap())), "{header}");
        assert_eq!(c["bytes"].as_u64().unwrap(), std::fs::metadata(path).unwrap().len());
        assert!(c["entries"].as_u64().unwrap() >= 1, "{c}");
    }
    assert_eq!(doc["fixable"], false);
    // Only .git/ims/cache holds caches: nothing new in .git/ims besides it and the journal folder.
    for e in std::fs::read_dir(repo.path.join(".git/ims")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            ["cache", "journal", "inbox"].contains(&name.as_str()),
            ".git/ims/{name} is not a cache outside the folder"
        );
    }
}

#[test]
fn fix_deletes_a_tampered_or_outdated_cache_and_verify_rebuilds_it() {
    let repo = Repo::with_everyone();
    repo.incident("Checkout is slow");
    repo.ok(&who("auditor"), &["verify"]);
    let doc = doctor(&repo, &[]);
    let verify_cache = doc["caches"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "verify")
        .map(|c| c["path"].as_str().unwrap().to_string())
        .expect("a verify cache");
    // An old format version, as an older ims wrote it.
    let text = std::fs::read_to_string(&verify_cache).unwrap();
    let old = text.replacen("ims-cache verify/", "ims-cache verify/0", 1);
    std::fs::write(&verify_cache, old).unwrap();
    // A file of garbage beside it.
    std::fs::write(repo.path.join(".git/ims/cache/report.cache"), b"\xff not a cache").unwrap();
    let doc = doctor(&repo, &[]);
    assert_eq!(doc["fixable"], true, "{doc}");
    let names = cache_names(&doc);
    assert!(names.contains(&("verify".into(), false)) && names.contains(&("report".into(), false)), "{doc}");
    assert!(names.iter().all(|(kind, current)| !current || kind == "read-facts"), "{doc}");
    // Reporting changes nothing.
    assert!(std::path::Path::new(&verify_cache).exists());
    let fixed = doctor(&repo, &["--fix"]);
    assert_eq!(fixed["removed"].as_array().unwrap().len(), 2, "{fixed}");
    assert_eq!(cache_names(&fixed), vec![("read-facts".to_string(), true)], "only the sound one is kept: {fixed}");
    assert_eq!(fixed["fixable"], false);
    // It only cost time: verify passes and writes a current cache again.
    let v = repo.ok(&who("auditor"), &["verify"]);
    assert_eq!(v["ok"], true);
    assert!(cache_names(&doctor(&repo, &[])).contains(&("verify".into(), true)));
}

#[test]
fn a_lock_left_by_a_dead_ims_is_reported_and_removed_a_live_one_is_kept() {
    let repo = Repo::new();
    let lock = repo.path.join(".git/index.lock");
    // A pid that cannot be running: above the kernel's pid_max.
    std::fs::write(&lock, "ims-lock 4194305\n").unwrap();
    let doc = doctor(&repo, &[]);
    assert_eq!(doc["index_lock"]["stale"], true, "{doc}");
    assert_eq!(doc["index_lock"]["pid"], 4194305);
    assert_eq!(doc["fixable"], true);
    let human = repo.run(&who("auditor"), &["doctor"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("which is gone"), "{human:?}");
    let fixed = doctor(&repo, &["--fix"]);
    assert!(!lock.exists(), "{fixed}");
    assert_eq!(fixed["index_lock"], Value::Null);
    // A lock of a live process (this test's) and a lock of another program are kept.
    std::fs::write(&lock, format!("ims-lock {}\n", std::process::id())).unwrap();
    let doc = doctor(&repo, &["--fix"]);
    assert_eq!(doc["index_lock"]["stale"], false, "{doc}");
    assert!(lock.exists());
    std::fs::write(&lock, "").unwrap();
    let doc = doctor(&repo, &["--fix"]);
    assert_eq!(doc["index_lock"]["pid"], Value::Null, "{doc}");
    assert!(lock.exists());
    std::fs::remove_file(&lock).unwrap();
}

#[test]
fn outside_a_repository_is_exit_3() {
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(ims_bin()).current_dir(tmp.path()).args(["doctor"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
}

#[test]
fn a_site_build_keeps_every_cache_it_makes_in_the_one_folder() {
    let repo = Repo::with_everyone();
    repo.incident("Checkout is slow");
    repo.ok(&who("auditor"), &["site", "build", "--out", "site"]);
    repo.ok(&who("auditor"), &["site", "build", "--audience", "public", "--out", "public"]);
    let doc = doctor(&repo, &[]);
    let names = cache_names(&doc);
    for kind in ["site-audit", "site-audit-log", "site-summaries", "site-manifest"] {
        assert!(names.contains(&(kind.into(), true)), "{kind} missing or outdated: {doc}");
    }
    assert!(names.iter().all(|(_, current)| *current), "{doc}");
    for e in std::fs::read_dir(repo.path.join(".git/ims")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            ["cache", "journal", "inbox"].contains(&name.as_str()),
            ".git/ims/{name} is a cache outside the folder"
        );
    }
}
