//! The verify cache can only save time, never change a verdict: a `--range` run does not
//! make its unverified base trusted, a revocation re-opens what it voids, a tampered cache
//! file only costs time, and over random histories with forgeries, revocations and new
//! procedures the cached verdict always equals the `--no-cache` one.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::*;

fn root(repo: &Repo) -> String {
    repo.git(&["rev-list", "--max-parents=0", "HEAD"]).trim().to_string()
}

fn head(repo: &Repo) -> String {
    repo.git(&["rev-parse", "HEAD"]).trim().to_string()
}

/// `ims verify --json --trust-root ROOT extra…`: (exit code, sorted (commit, rule) pairs, document).
fn verify(repo: &Repo, extra: &[&str]) -> (i32, BTreeSet<(String, String)>, Value) {
    let root = root(repo);
    let mut args = vec!["verify", "--trust-root", root.as_str(), "--json"];
    args.extend_from_slice(extra);
    let out = repo.run(&who("auditor"), &args);
    let doc: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("verify {extra:?}: {}", String::from_utf8_lossy(&out.stderr)));
    let pairs = doc["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["commit"].as_str().unwrap().to_string(), v["rule"].as_str().unwrap().to_string()))
        .collect();
    (out.status.code().unwrap(), pairs, doc)
}

/// An unsigned hand edit of a record, committed with plain git.
fn hand_edit(repo: &Repo, marker: &str) -> String {
    let file = repo.git(&["ls-files", "records/incidents"]).lines().next().unwrap().to_string();
    let path = repo.path.join(&file);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(&format!("# {marker}\n"));
    std::fs::write(&path, text).unwrap();
    plain_git(&repo.path, &["commit", "-qam", marker]);
    head(repo)
}

fn plain_git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "mallory")
        .env("GIT_AUTHOR_EMAIL", "mallory@example.com")
        .env("GIT_COMMITTER_NAME", "mallory")
        .env("GIT_COMMITTER_EMAIL", "mallory@example.com")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn story() -> (Repo, String) {
    let repo = Repo::with_everyone();
    let id = repo.incident("Checkout fails");
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    (repo, id)
}

#[test]
fn a_range_run_does_not_cache_a_base_it_did_not_verify() {
    // Finding 1: an unsigned hand edit X, a normal procedure on top, a range check of
    // X..HEAD (what the pre-push hook runs), then a full verify.
    let (repo, _) = story();
    let x = hand_edit(&repo, "closed quietly");
    repo.incident("on top of the edit");
    let (code, _, doc) = verify(&repo, &["--range", &format!("{x}..HEAD")]);
    assert_eq!(code, 0, "the range itself is clean: {doc}");
    let (code, pairs, doc) = verify(&repo, &[]);
    assert_eq!(code, 7, "the full verify must not take the range run's word: {doc}");
    assert!(pairs.contains(&(x.clone(), "procedure".into())), "names the hand edit {x}: {doc}");
    let (code, fresh, _) = verify(&repo, &["--no-cache"]);
    assert_eq!((code, &fresh), (7, &pairs));
}

#[test]
fn a_revocation_reopens_what_the_cache_proved() {
    // Finding 2: verify (the cache fills), then a compromised-since revocation.
    let (repo, id) = story();
    let c = head(&repo);
    repo.ok(&who("L2"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "after C"]);
    let voided = head(&repo);
    repo.ok(&who("L2"), &["incident", "notify", &id, "--to", "stakeholders", "--message", "again"]);
    let voided_too = head(&repo);
    let (code, _, doc) = verify(&repo, &[]);
    assert_eq!(code, 0, "{doc}");
    let (_, _, doc) = verify(&repo, &[]);
    assert_eq!(doc["checked"], 0, "all cached: {doc}");
    repo.ok(&who("incident_manager"), &["person", "revoke", &who("L2"), "--compromised-since", &c]);
    let (code, cached, doc) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    for commit in [&voided, &voided_too] {
        assert!(cached.contains(&(commit.to_string(), "revoked-key".into())), "{commit} is void: {doc}");
    }
    let (code, fresh, _) = verify(&repo, &["--no-cache"]);
    assert_eq!((code, fresh), (7, cached));
}

fn cache_file(repo: &Repo) -> std::path::PathBuf {
    let dir = repo.path.join(".git/ims/cache");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.retain(|f| {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        name.starts_with("verify-") && !name.contains(".tmp-")
    });
    assert_eq!(files.len(), 1, "one cache file per (version, root): {files:?}");
    files.pop().unwrap()
}

#[test]
fn a_tampered_cache_file_only_costs_time() {
    let (repo, _) = story();
    let (code, _, _) = verify(&repo, &[]);
    assert_eq!(code, 0);
    let file = cache_file(&repo);
    // Someone adds a forged commit to the cache by hand, with and without a MAC line.
    let x = hand_edit(&repo, "forged");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}{x}\n")).unwrap();
    let (code, pairs, doc) = verify(&repo, &[]);
    assert_eq!(code, 7, "{doc}");
    assert!(pairs.contains(&(x.clone(), "procedure".into())), "{doc}");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{text}{x}\nmac {}\n", "0".repeat(64))).unwrap();
    let (code, again, _) = verify(&repo, &[]);
    assert_eq!((code, &again), (7, &pairs));
    // A cache copied from another user's machine (another secret) proves nothing here.
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);
    let (code, _, _) = verify(&repo, &[]);
    assert_eq!(code, 0);
    let other_state = repo.tmp.path().join("state");
    std::fs::remove_dir_all(&other_state).unwrap();
    let (code, _, doc) = verify(&repo, &[]);
    assert_eq!(code, 0);
    assert!(doc["checked"].as_u64().unwrap() > 5, "a new secret: every commit checked again: {doc}");
    // Garbage: the run still works and rewrites the file.
    std::fs::write(&file, b"\xff\xfe not a cache \n\n").unwrap();
    let (code, _, doc) = verify(&repo, &[]);
    assert_eq!(code, 0, "{doc}");
    let (_, _, doc) = verify(&repo, &[]);
    assert_eq!(doc["checked"], 0, "cached again after the rewrite: {doc}");
}

/// A small deterministic generator (xorshift64*), so a failure replays exactly.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random histories: procedures, forgeries, revocations, rewinds, and full and range
/// verifies; every verify's cached verdict equals the `--no-cache` one.
fn cached_verdicts_equal_fresh_ones(seed: u64, steps: usize) {
    let mut rng = Rng(seed);
    let (mut repo, first) = story();
    let mut incidents = vec![first];
    let mut log: Vec<String> = Vec::new();
    let mut day = 26;
    for step in 0..steps {
        let roll = rng.below(100);
        let what = match roll {
            0..=34 => {
                let actor = ["L1", "L2", "L3", "service_desk"][rng.below(4)];
                let id = incidents[rng.below(incidents.len())].clone();
                let args: Vec<String> = match actor {
                    "service_desk" => vec![],
                    "L1" => ["incident", "assign", &id, "--team", "L2"].map(String::from).to_vec(),
                    _ => ["incident", "notify", &id, "--to", "stakeholders", "--message", &format!("step {step}")]
                        .map(String::from)
                        .to_vec(),
                };
                if args.is_empty() {
                    let out = repo.run(
                        &who("service_desk"),
                        &[
                            "incident",
                            "identify",
                            "--title",
                            &format!("step {step}"),
                            "--service",
                            "shop",
                            "--source",
                            "user_report",
                            "--json",
                        ],
                    );
                    if let Ok(doc) = serde_json::from_slice::<Value>(&out.stdout) {
                        if let Some(id) = doc["id"].as_str() {
                            incidents.push(id.to_string());
                        }
                    }
                } else {
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    repo.run(&who(actor), &args); // may be refused (revoked, wrong state): fine
                }
                format!("procedure by {actor}")
            }
            35..=44 => {
                hand_edit(&repo, &format!("forgery {step}"));
                "forgery".to_string()
            }
            45..=52 => {
                let person = ["L1", "L2", "L3"][rng.below(3)];
                let history: Vec<String> =
                    repo.git(&["rev-list", "--first-parent", "HEAD"]).lines().map(String::from).collect();
                let c = history[rng.below(history.len().min(8))].clone();
                let email = who(person);
                let mut args = vec!["person", "revoke", email.as_str()];
                if rng.below(3) > 0 {
                    args.extend(["--compromised-since", c.as_str()]);
                }
                repo.run(&who("incident_manager"), &args);
                format!("revoke {person}")
            }
            53..=57 => {
                let back = 1 + rng.below(2);
                let history: Vec<String> =
                    repo.git(&["rev-list", "--first-parent", "HEAD"]).lines().map(String::from).collect();
                if history.len() > back + 20 {
                    repo.git(&["reset", "-q", "--hard", &history[back]]);
                }
                format!("rewind {back}")
            }
            58..=77 => {
                let (code, cached, doc) = verify(&repo, &[]);
                let (fresh_code, fresh, fresh_doc) = verify(&repo, &["--no-cache"]);
                assert_eq!(
                    (code, &cached),
                    (fresh_code, &fresh),
                    "seed {seed} step {step}: cached {doc} vs fresh {fresh_doc}; steps: {log:?}"
                );
                "verify".to_string()
            }
            _ => {
                let history: Vec<String> =
                    repo.git(&["rev-list", "--first-parent", "HEAD"]).lines().map(String::from).collect();
                let base = history[rng.below(history.len().min(10))].clone();
                let range = format!("{base}..HEAD");
                let (code, cached, doc) = verify(&repo, &["--range", &range]);
                let (fresh_code, fresh, fresh_doc) = verify(&repo, &["--range", &range, "--no-cache"]);
                assert_eq!(
                    (code, &cached),
                    (fresh_code, &fresh),
                    "seed {seed} step {step}: range {range}: cached {doc} vs fresh {fresh_doc}; steps: {log:?}"
                );
                format!("verify --range {}", &base[..8])
            }
        };
        log.push(what);
        // Time moves on now and then, so revocations and procedures spread over days.
        if rng.below(5) == 0 {
            day += 1;
            repo.now = format!("2026-11-{:02}T09:00:00Z", day.min(30));
        }
    }
    let (code, cached, doc) = verify(&repo, &[]);
    let (fresh_code, fresh, fresh_doc) = verify(&repo, &["--no-cache"]);
    assert_eq!((code, &cached), (fresh_code, &fresh), "seed {seed} at the end: {doc} vs {fresh_doc}; {log:?}");
}

#[test]
fn cached_verdicts_equal_fresh_ones_seed_1() {
    cached_verdicts_equal_fresh_ones(0x9E37_79B9_7F4A_7C15, 36);
}

#[test]
fn cached_verdicts_equal_fresh_ones_seed_2() {
    cached_verdicts_equal_fresh_ones(0xD1B5_4A32_D192_ED03, 36);
}
