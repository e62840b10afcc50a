//! `ims site build` at 100,000 incidents against Hugo building the same number of pages
//! (made by `../shared/bench/hugo_site.py`), side by side in one run: a full internal
//! build within 0.5x Hugo's time; an incremental rebuild after one procedure under one
//! second; peak memory of each.
//!
//! The incident records are benchmark data written directly by `git fast-import`
//! (benches/common.rs), not by procedures.
//!
//! Every full build (of both tools) writes into a new folder, and nothing is deleted
//! until the end: on ext4, creating files right after deleting many others is several
//! times slower (the allocator skips inodes freed in the last 30 seconds), which would
//! measure the file system's recent past instead of the tools.
//!
//! ```text
//! cargo bench --bench site
//! IMS_BENCH_SIZES=10000 cargo bench --bench site
//! ```

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[path = "common.rs"]
mod common;
use common::{incident_id, measure, run};

const ROUNDS: usize = 3;

fn median(mut v: Vec<(Duration, i64)>) -> (Duration, i64) {
    v.sort();
    let rss = v.iter().map(|x| x.1).max().unwrap_or(0);
    (v[v.len() / 2].0, rss)
}

fn ims(repo: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ims"));
    c.current_dir(repo).args(args).env_remove("IMS_NOW").env("IMS_ACTOR", "incident_manager@example.com");
    c
}

fn main() {
    let sizes: Vec<usize> = std::env::var("IMS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000]);
    let hugo_script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/hugo_site.py");
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>10}",
        "records", "hugo (ms)", "full (ms)", "incr (ms)", "full/hugo", "hugo KiB", "full KiB", "incr KiB"
    );
    for n in sizes {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = common::generate(tmp.path(), n);
        let hugo_dir = tmp.path().join("hugo");
        run(Command::new("python3").arg(&hugo_script).arg(n.to_string()).arg(&hugo_dir));
        // Let files deleted before the run age out of the allocator's recent past.
        std::thread::sleep(Duration::from_secs(31));
        let (mut hugo, mut full, mut incr) = (vec![], vec![], vec![]);
        for round in 0..ROUNDS {
            let public = hugo_dir.join(format!("public-{round}"));
            // Each tool starts with nothing of the other's still being written back.
            run(&mut Command::new("sync"));
            hugo.push(measure(
                Command::new("hugo").arg("--source").arg(&hugo_dir).args(["--quiet", "--destination"]).arg(&public),
            ));
            // Full: no previous site, no caches (moved aside, not deleted).
            let out = tmp.path().join(format!("site-{round}"));
            let cache = repo.path.join(".git/ims");
            if cache.exists() {
                std::fs::rename(&cache, tmp.path().join(format!("ims-cache-{round}"))).expect("move the cache aside");
            }
            run(&mut Command::new("sync"));
            full.push(measure(&mut ims(&repo.path, &["site", "build", "--out", out.to_str().unwrap()])));
            // Incremental: one procedure, then a rebuild.
            let id = incident_id(round * 7 + 1);
            run(ims(&repo.path, &["-q", "incident", "log", &id, "--description", &format!("bench round {round}")])
                .env("IMS_SIGNING_KEY", &repo.key));
            incr.push(measure(&mut ims(&repo.path, &["site", "build", "--out", out.to_str().unwrap()])));
        }
        let (h, f, i) = (median(hugo), median(full), median(incr));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{n:>8} {:>10.0} {:>10.0} {:>10.0} {:>9.2} {:>10} {:>10} {:>10}",
            ms(h.0),
            ms(f.0),
            ms(i.0),
            f.0.as_secs_f64() / h.0.as_secs_f64(),
            h.1,
            f.1,
            i.1
        );
    }
}
