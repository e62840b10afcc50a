//! `ims site build` against Hugo building the same number of pages (made by
//! `../shared/bench/hugo_site.py`), side by side in one run: a full internal build within
//! 0.5x Hugo's time; an incremental rebuild after one procedure under one second; peak
//! memory of each. One row per repository:
//!
//! - `generated`, at each of `IMS_BENCH_SIZES` (default 20,000 and 100,000 incidents):
//!   the incident records are benchmark data written directly by `git fast-import`
//!   (benches/common.rs) in one plain commit that is not a procedure, so the history
//!   holds no audit entries about them;
//! - `import`, at each of `IMS_BENCH_IMPORT` (default 20,000; `0` skips it): the
//!   incidents come from one signed `ims import csv` commit of a ServiceNow-style export
//!   (tests/cli/csvgen.rs), as a team moving to ims has it: one commit with an audit
//!   entry per incident, and records spread over years with many report periods. The
//!   import itself is not measured. Its incidents are all closed, so the procedure
//!   before each rebuild reports a new incident instead of logging on one.
//!
//! The `written` column is the median number of files the rebuild wrote.
//!
//! Every full build (of both tools) writes into a new folder, and nothing is deleted
//! until the end: on ext4, creating files right after deleting many others is several
//! times slower (the allocator skips inodes freed in the last 30 seconds), which would
//! measure the file system's recent past instead of the tools.
//!
//! ```text
//! TMPDIR=$(mktemp -d -p /var/tmp) cargo bench --bench site
//! IMS_BENCH_SIZES=10000 IMS_BENCH_IMPORT=0 cargo bench --bench site
//! ```
//!
//! `IMS_BENCH_KEEP=DIR` keeps a copy of each generated repository (for profiling by hand).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

#[path = "common.rs"]
mod common;
use common::{incident_id, measure, run, Repo};

#[path = "../tests/cli/csvgen.rs"]
mod csvgen;

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

fn sizes(var: &str, default: &[usize]) -> Vec<usize> {
    std::env::var(var)
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).filter(|n| *n > 0).collect())
        .unwrap_or_else(|| default.to_vec())
}

/// A repository whose `n` incidents came from one `ims import csv` commit.
fn imported(dir: &Path, n: usize) -> Repo {
    let repo = common::generate(dir, 0);
    let (csv, _) = csvgen::generate(n, 11);
    let (source, mapping) = (dir.join("audit.csv"), dir.join("mapping.yaml"));
    std::fs::write(&source, csv).expect("write the export");
    std::fs::write(&mapping, csvgen::MAPPING).expect("write the mapping");
    run(ims(&repo.path, &["-q", "import", "csv", source.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()])
        .env("IMS_SIGNING_KEY", &repo.key));
    repo
}

/// The ids of the repository's incidents, in path order.
fn incident_ids(repo: &Path) -> Vec<String> {
    let out = Command::new("git")
        .current_dir(repo)
        .args(["ls-tree", "-r", "--name-only", "HEAD", "records/incidents"])
        .output()
        .expect("git ls-tree");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| Path::new(l).file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect()
}

fn main() {
    let mut rows: Vec<(&str, usize)> =
        sizes("IMS_BENCH_SIZES", &[20_000, 100_000]).into_iter().map(|n| ("generated", n)).collect();
    rows.extend(sizes("IMS_BENCH_IMPORT", &[20_000]).into_iter().map(|n| ("import", n)));
    // `shared/bench/hugo_site.py` beside the checkout or beside a folder above it (a worktree).
    let hugo_script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .skip(1)
        .map(|d| d.join("shared/bench/hugo_site.py"))
        .find(|p| p.exists())
        .expect("shared/bench/hugo_site.py beside the checkout");
    println!(
        "{:>9} {:>8} {:>10} {:>10} {:>10} {:>9} {:>10} {:>10} {:>10} {:>7}",
        "history",
        "records",
        "hugo (ms)",
        "full (ms)",
        "incr (ms)",
        "full/hugo",
        "hugo KiB",
        "full KiB",
        "incr KiB",
        "written"
    );
    for (history, n) in rows {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = if history == "import" { imported(tmp.path(), n) } else { common::generate(tmp.path(), n) };
        assert_eq!(incident_ids(&repo.path).len(), n, "every incident generated");
        if let Ok(keep) = std::env::var("IMS_BENCH_KEEP") {
            run(Command::new("cp").arg("-a").arg(tmp.path()).arg(format!("{keep}-{history}-{n}")));
        }
        let hugo_dir = tmp.path().join("hugo");
        run(Command::new("python3").arg(&hugo_script).arg(n.to_string()).arg(&hugo_dir));
        // Let files deleted before the run age out of the allocator's recent past.
        std::thread::sleep(Duration::from_secs(31));
        let (mut hugo, mut full, mut incr, mut written) = (vec![], vec![], vec![], vec![]);
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
            // Incremental: one procedure, then a rebuild. The imported incidents are all
            // closed, so there the procedure reports a new one (which sorts to the top of
            // every list it is in); elsewhere it logs on an existing one.
            let procedure = if history == "import" {
                ims(&repo.path, &["-q", "incident", "identify", "--title", &format!("bench round {round}")])
                    .args(["--service", "svc-1", "--source", "user_report"])
                    .env("IMS_SIGNING_KEY", &repo.key)
                    .output()
            } else {
                let id = incident_id(round * 7 + 1);
                ims(&repo.path, &["-q", "incident", "log", &id, "--description", &format!("bench round {round}")])
                    .env("IMS_SIGNING_KEY", &repo.key)
                    .output()
            };
            let procedure = procedure.expect("the procedure runs");
            assert!(procedure.status.success(), "{}", String::from_utf8_lossy(&procedure.stderr));
            let before = std::time::SystemTime::now();
            std::thread::sleep(Duration::from_millis(20));
            incr.push(measure(&mut ims(&repo.path, &["site", "build", "--out", out.to_str().unwrap()])));
            written.push(changed_since(&out, before));
        }
        let (h, f, i) = (median(hugo), median(full), median(incr));
        written.sort_unstable();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{history:>9} {n:>8} {:>10.0} {:>10.0} {:>10.0} {:>9.2} {:>10} {:>10} {:>10} {:>7}",
            ms(h.0),
            ms(f.0),
            ms(i.0),
            f.0.as_secs_f64() / h.0.as_secs_f64(),
            h.1,
            f.1,
            i.1,
            written[written.len() / 2]
        );
    }
}

/// How many files under `dir` were modified after `since` (the pages a rebuild wrote).
fn changed_since(dir: &Path, since: std::time::SystemTime) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read the site").flatten() {
            let meta = e.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(e.path());
            } else if meta.modified().is_ok_and(|m| m > since) {
                n += 1;
            }
        }
    }
    n
}
