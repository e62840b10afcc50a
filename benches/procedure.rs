//! One procedure against `git add` + `git commit -S` (SSH signing) of the same one-file
//! change, side by side in one run, on generated repositories of 10,000 and 100,000
//! incident records; and the peak memory of each, which must not grow with the
//! repository. Target: ims at most 0.5× git's time.
//!
//! ```text
//! cargo bench --bench procedure            # both sizes
//! IMS_BENCH_SIZES=10000 cargo bench --bench procedure
//! ```
//!
//! The repositories are generated at run time in a temporary directory with
//! `git fast-import` (a records repository made by `ims init`, then N incident files in
//! one commit) and removed afterwards.

use std::process::Command;
use std::time::Duration;

const ROUNDS: usize = 9;

#[path = "common.rs"]
mod common;
use common::{generate, incident_id, measure, record, record_path, run, Repo};

fn main() {
    let sizes: Vec<usize> = std::env::var("IMS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    println!(
        "{:>8} {:>12} {:>12} {:>7} {:>12} {:>12}",
        "records", "ims (ms)", "git (ms)", "ratio", "ims RSS (KiB)", "git RSS (KiB)"
    );
    for n in sizes {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = generate(tmp.path(), n);
        if let Ok(keep) = std::env::var("IMS_BENCH_KEEP") {
            // For profiling by hand: a copy of the generated repository and its key.
            run(Command::new("cp").arg("-a").arg(tmp.path()).arg(format!("{keep}-{n}")));
        }
        let mut ims_runs = Vec::new();
        let mut git_runs = Vec::new();
        // One warm-up of each, then alternate so noise hits both alike.
        ims_once(&repo, n, ROUNDS);
        git_once(&repo, n, ROUNDS);
        for round in 0..ROUNDS {
            ims_runs.push(ims_once(&repo, n, round));
            git_runs.push(git_once(&repo, n, round));
        }
        let (it, im) = summarize(&ims_runs);
        let (gt, gm) = summarize(&git_runs);
        println!(
            "{n:>8} {:>12.1} {:>12.1} {:>7.2} {im:>12} {gm:>12}",
            it.as_secs_f64() * 1e3,
            gt.as_secs_f64() * 1e3,
            it.as_secs_f64() / gt.as_secs_f64()
        );
    }
}

/// Median time and peak RSS over the runs.
fn summarize(runs: &[(Duration, i64)]) -> (Duration, i64) {
    let mut times: Vec<Duration> = runs.iter().map(|r| r.0).collect();
    times.sort();
    let rss = runs.iter().map(|r| r.1).max().unwrap_or(0);
    (times[times.len() / 2], rss)
}

fn ims_once(repo: &Repo, n: usize, round: usize) -> (Duration, i64) {
    let id = incident_id((round * 7919) % n);
    measure(
        Command::new(env!("CARGO_BIN_EXE_ims"))
            .current_dir(&repo.path)
            .args(["-q", "incident", "log", &id, "--description", &format!("bench round {round}")])
            .env_remove("IMS_NOW")
            .env("IMS_ACTOR", "incident_manager@example.com")
            .env("IMS_SIGNING_KEY", &repo.key),
    )
}

fn git_once(repo: &Repo, n: usize, round: usize) -> (Duration, i64) {
    let i = (round * 7919 + n / 2) % n;
    let path = record_path(i);
    let text = record(i).replace("description: \"", &format!("description: \"bench round {round}\\n\\n"));
    std::fs::write(repo.path.join(&path), text).expect("write");
    let add = measure(Command::new("git").current_dir(&repo.path).args(["add", &path]));
    let commit = measure(Command::new("git").current_dir(&repo.path).args(["commit", "-q", "-S", "-m", "bench"]));
    (add.0 + commit.0, add.1.max(commit.1))
}
