//! `ims report --all` (every KPI over the whole history) at 100,000 incidents against
//! `git grep -c status -- records/incidents` (which reads every record), side by side in
//! one run: cold (no facts cached) within 3x, warm (facts cached by blob id) within
//! 0.5x, both ratios printed on one line; peak memory of each.
//!
//! ```text
//! cargo bench --bench report
//! IMS_BENCH_SIZES=10000 cargo bench --bench report
//! ```

use std::process::Command;
use std::time::Duration;

#[path = "common.rs"]
mod common;
use common::measure;

const ROUNDS: usize = 5;

fn median(mut v: Vec<(Duration, i64)>) -> (Duration, i64) {
    v.sort();
    let rss = v.iter().map(|x| x.1).max().unwrap_or(0);
    (v[v.len() / 2].0, rss)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("IMS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000]);
    println!(
        "{:>8} {:>10} {:>10} {:>10} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "records", "grep (ms)", "cold (ms)", "warm (ms)", "cold/grep", "warm/grep", "grep KiB", "cold KiB", "warm KiB"
    );
    for n in sizes {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = common::generate(tmp.path(), n);
        if let Ok(keep) = std::env::var("IMS_BENCH_KEEP") {
            // For profiling by hand: a copy of the generated repository.
            common::run(Command::new("cp").arg("-a").arg(tmp.path()).arg(format!("{keep}-{n}")));
        }
        let ims = || {
            let mut c = Command::new(env!("CARGO_BIN_EXE_ims"));
            c.current_dir(&repo.path)
                .args(["report", "--json", "--all"])
                .env("IMS_ACTOR", "incident_manager@example.com");
            c
        };
        let cache = repo.path.join(".git/ims");
        let (mut grep, mut cold, mut warm) = (vec![], vec![], vec![]);
        for _ in 0..ROUNDS {
            grep.push(measure(Command::new("git").current_dir(&repo.path).args([
                "grep",
                "-c",
                "status",
                "--",
                "records/incidents",
            ])));
            let _ = std::fs::remove_dir_all(&cache);
            cold.push(measure(&mut ims()));
            warm.push(measure(&mut ims()));
        }
        let (g, c, w) = (median(grep), median(cold), median(warm));
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{n:>8} {:>10.0} {:>10.0} {:>10.0} {:>9.2} {:>9.2} {:>10} {:>10} {:>10}",
            ms(g.0),
            ms(c.0),
            ms(w.0),
            c.0.as_secs_f64() / g.0.as_secs_f64(),
            w.0.as_secs_f64() / g.0.as_secs_f64(),
            g.1,
            c.1,
            w.1
        );
    }
}
