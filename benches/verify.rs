//! `ims verify` on a generated history of procedure commits (default 100,000):
//! - a full replay of every commit, against the 60-second target;
//! - signature checking on a sample of 1,000 of the same commits, in process, against
//!   `git log --show-signature` side by side (git runs `ssh-keygen` per commit);
//! - a 10-commit pull request on top, verified with a warm cache, against 1 second.
//!
//! ```text
//! cargo bench --bench verify
//! IMS_BENCH_COMMITS=20000 cargo bench --bench verify
//! ```
//!
//! The history is generated at run time in a temporary directory, in process through
//! the same procedure engine the `ims` command uses, in a bare repository.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use ims::model::enums::{Level, Source, Team};
use ims::procedures::incident::{assign, identify, prioritize, resolve};
use ims::repo::Repo;
use ims::run::{self, Identity};

fn main() {
    let n: usize = std::env::var("IMS_BENCH_COMMITS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let tmp = tempfile::tempdir().expect("temp dir");
    let (repo_path, root, key) = generate(tmp.path(), n);
    if let Ok(keep) = std::env::var("IMS_BENCH_KEEP") {
        // For profiling by hand: a copy of the generated history and its key.
        let status = std::process::Command::new("cp").arg("-a").arg(tmp.path()).arg(format!("{keep}-{n}")).status();
        assert!(status.is_ok_and(|s| s.success()), "copy to {keep}-{n}");
        println!("kept a copy in {keep}-{n} (trust root {root})");
    }
    let repo = Repo::discover(&repo_path).expect("the generated repository");
    let count = git_out(&repo_path, &["rev-list", "--count", "HEAD"]);
    println!("history: {} commits", count.trim());

    // Full replay, no cache.
    let start = Instant::now();
    let out = ims(&repo_path, &["verify", "--no-cache", "--trust-root", &root]);
    let full = start.elapsed();
    println!("full verify (replay of every commit): {:.1} s  [target < 60 s]  {}", full.as_secs_f64(), out.trim());

    // Signatures: 1,000 commits, in process vs git log --show-signature.
    let sample: Vec<git2::Oid> = {
        let mut walk = repo.git.revwalk().unwrap();
        walk.push_head().unwrap();
        walk.take(1000).map(|o| o.unwrap()).collect()
    };
    let start = Instant::now();
    let mut good = 0;
    for oid in &sample {
        let commit = repo.git.find_commit(*oid).unwrap();
        let actor = ims::engine::parse_trailers(commit.message().unwrap()).unwrap().actor;
        if ims::query::signature_status(&repo.git, &commit, &actor).unwrap() == ims::query::SignatureStatus::Good {
            good += 1;
        }
    }
    let ours = start.elapsed();
    assert_eq!(good, sample.len());
    let start = Instant::now();
    let log = git_out(&repo_path, &["log", "--show-signature", "-n", "1000", "--format=%H"]);
    let theirs = start.elapsed();
    let git_good = log.matches("Good \"git\" signature").count();
    assert_eq!(git_good, 1000, "git verified them too");
    println!(
        "signatures, 1,000 commits: ims {:.1} ms, git log --show-signature {:.1} ms: {:.0}x faster  [target >= 50x]",
        ours.as_secs_f64() * 1e3,
        theirs.as_secs_f64() * 1e3,
        theirs.as_secs_f64() / ours.as_secs_f64()
    );

    // Warm cache, then a 10-commit pull request on top.
    ims(&repo_path, &["verify", "--trust-root", &root]);
    let identity =
        Identity { actor: "incident_manager@example.com".into(), signer: ims::signing::Signer::load(&key).unwrap() };
    for i in 0..10 {
        let input = identify_input(n + i);
        run::run::<identify::Identify>(&repo, &identity, &input).expect("identify");
    }
    let start = Instant::now();
    let out = ims(&repo_path, &["verify", "--trust-root", &root]);
    println!(
        "10-commit pull request, warm cache: {:.0} ms  [target < 1000 ms]  {}",
        start.elapsed().as_secs_f64() * 1e3,
        out.trim()
    );
}

fn ims(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_ims")).current_dir(dir).args(args).output().expect("ims");
    assert!(
        out.status.success(),
        "ims {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn git_out(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git").current_dir(dir).args(args).stderr(Stdio::piped()).output().expect("git");
    assert!(out.status.success(), "git {args:?}");
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn identify_input(i: usize) -> identify::Input {
    identify::Input {
        id: spread_id(i),
        title: format!("Generated incident {i}"),
        service: format!("svc-{}", i % 40),
        source: Source::UserReport,
        reporter: None,
        description: Some("Synthetic incident for the verify benchmark.".into()),
    }
}

/// An incident id dated over two years (50 a day), as a real repository spreads them.
fn spread_id(i: usize) -> String {
    let day = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days((i / 50) as i64);
    let random = ims::ids::new_id(ims::ids::RecordKind::Incident, chrono::Utc::now());
    format!("INC-{}-{}", day.format("%Y%m%d"), &random[13..])
}

/// A bare records repository with about `n` procedure commits: incidents identified,
/// assigned, prioritized and resolved, four commits each.
fn generate(dir: &Path, n: usize) -> (std::path::PathBuf, String, String) {
    let key = dir.join("key");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let work = dir.join("work");
    let out = Command::new(env!("CARGO_BIN_EXE_ims"))
        .args(["init"])
        .arg(&work)
        .args(["--name", "Bench", "--email", "incident_manager@example.com", "--key"])
        .arg(key.with_extension("pub"))
        .env_remove("IMS_NOW")
        .env("IMS_SIGNING_KEY", &key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bare = dir.join("records.git");
    let status = Command::new("git").args(["clone", "-q", "--bare"]).arg(&work).arg(&bare).status().unwrap();
    assert!(status.success());
    let signers = bare.join("allowed_signers");
    let _ = std::fs::copy(work.join("allowed_signers"), &signers);
    git_out(&bare, &["config", "gpg.ssh.allowedSignersFile", signers.to_str().unwrap()]);
    let root = git_out(&bare, &["rev-list", "--max-parents=0", "HEAD"]).trim().to_string();
    let repo = Repo::discover(&bare).unwrap();
    let identity = Identity {
        actor: "incident_manager@example.com".into(),
        signer: ims::signing::Signer::load(key.to_str().unwrap()).unwrap(),
    };
    let started = Instant::now();
    let mut made = 0;
    let mut i = 0;
    while made < n {
        let input = identify_input(i);
        let id = input.id.clone();
        run::run::<identify::Identify>(&repo, &identity, &input).expect("identify");
        run::run::<assign::Assign>(
            &repo,
            &identity,
            &assign::Input {
                id: id.clone(),
                team: Team::L2,
                assignee: None,
                message: None,
                communication_id: id.replacen("INC-", "COM-", 1),
            },
        )
        .expect("assign");
        run::run::<prioritize::Prioritize>(
            &repo,
            &identity,
            &prioritize::Input {
                id: id.clone(),
                priority: Some(Level::Low),
                severity: Some(Level::Low),
                impact: None,
                urgency: None,
                justification: "bench".into(),
                communication_id: id.replacen("INC-", "COM-", 1),
            },
        )
        .expect("prioritize");
        run::run::<resolve::Resolve>(
            &repo,
            &identity,
            &resolve::Input {
                id,
                summary: "fixed".into(),
                fix_applied: true,
                service_restored: true,
                code: None,
                kb: None,
                problem: None,
                altered_production: false,
            },
        )
        .expect("resolve");
        made += 4;
        i += 1;
        if made % 10_000 == 0 {
            eprintln!("generated {made} commits in {:.0} s", started.elapsed().as_secs_f64());
        }
    }
    // A repository as a clone or a server holds it: packed, not a million loose objects.
    let started = Instant::now();
    git_out(&bare, &["repack", "-a", "-d", "-q"]);
    git_out(&bare, &["prune-packed"]);
    eprintln!("packed in {:.0} s", started.elapsed().as_secs_f64());
    (bare, root, key.to_string_lossy().into_owned())
}
