//! `ims import csv` of a 25,000-incident, ~150,000-row ServiceNow-style audit export
//! (tests/cli/csvgen.rs) into a fresh repository: target under 60 seconds on this
//! 2-core machine; then `ims verify` replaying the import commit, and the same import
//! again (nothing new). Peak memory of each.
//!
//! ```text
//! cargo bench --bench import
//! IMS_BENCH_SIZES=5000 cargo bench --bench import
//! ```

use std::process::Command;

#[path = "common.rs"]
mod common;
use common::measure;

#[path = "../tests/cli/csvgen.rs"]
mod csvgen;

fn main() {
    let sizes: Vec<usize> = std::env::var("IMS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![25_000]);
    println!(
        "{:>9} {:>8} {:>11} {:>11} {:>11} {:>11} {:>10}",
        "incidents", "rows", "import (s)", "import KiB", "verify (s)", "verify KiB", "again (s)"
    );
    for n in sizes {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = common::generate(tmp.path(), 0);
        let (csv, _) = csvgen::generate(n, 11);
        let rows = csv.lines().count() - 1;
        let (source, mapping) = (tmp.path().join("audit.csv"), tmp.path().join("mapping.yaml"));
        std::fs::write(&source, csv).expect("write the export");
        std::fs::write(&mapping, csvgen::MAPPING).expect("write the mapping");
        let ims = |args: &[&str]| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_ims"));
            c.current_dir(&repo.path)
                .args(args)
                .env_remove("IMS_NOW")
                .env("IMS_ACTOR", "incident_manager@example.com")
                .env("IMS_SIGNING_KEY", &repo.key);
            c
        };
        let args = ["import", "csv", source.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()];
        let import = measure(&mut ims(&args));
        let count = Command::new("git")
            .current_dir(&repo.path)
            .args(["ls-tree", "-r", "--name-only", "HEAD", "records/incidents"])
            .output()
            .expect("git ls-tree");
        assert_eq!(String::from_utf8_lossy(&count.stdout).lines().count(), n, "every incident imported");
        // The import commit (the generator's own first commit is not a procedure).
        let range = ["verify", "--range", "HEAD~1..HEAD"];
        let verify = measure(&mut ims(&range));
        // The same export again: nothing new, no commit.
        let again = measure(&mut ims(&args));
        println!(
            "{n:>9} {rows:>8} {:>11.1} {:>11} {:>11.1} {:>11} {:>10.1}",
            import.0.as_secs_f64(),
            import.1,
            verify.0.as_secs_f64(),
            verify.1,
            again.0.as_secs_f64()
        );
    }
}
