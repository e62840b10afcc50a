//! Generated records repositories for the benchmarks: a records repository made by
//! `ims init`, then N incident files added in one commit with `git fast-import`.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub struct Repo {
    pub path: PathBuf,
    pub key: PathBuf,
}

/// Spread over a year of days, as a real repository would be.
pub fn day(i: usize) -> (usize, usize) {
    let day = i % 336;
    (1 + day / 28, 1 + day % 28)
}

pub fn incident_id(i: usize) -> String {
    let (m, d) = day(i);
    format!("INC-2026{m:02}{d:02}-{:0>10}", crockford(i))
}

pub fn crockford(mut i: usize) -> String {
    const A: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut s = Vec::new();
    loop {
        s.push(A[i % 32]);
        i /= 32;
        if i == 0 {
            break;
        }
    }
    s.reverse();
    String::from_utf8(s).expect("ascii")
}

pub fn record_path(i: usize) -> String {
    let (m, d) = day(i);
    format!("records/incidents/2026/{m:02}/{d:02}/{}.yaml", incident_id(i))
}

pub fn record(i: usize) -> String {
    let id = incident_id(i);
    let mut r = format!(
        "schema: \"incident/1\"\nincident_id: \"{id}\"\ntitle: \"Generated incident {i}\"\ndescription: \"Synthetic record for the benchmark; {i} of many.\"\nservice: \"svc-{}\"\nsource: \"user_report\"\ncategory: \"software\"\nsubcategory: null\npriority: \"medium\"\nseverity: \"medium\"\npriority_justification: \"bench\"\nstatus: \"in_progress\"\nreporter: \"incident_manager@example.com\"\nreported_by: \"incident_manager@example.com\"\nassigned_team: \"L2\"\nassignee: null\nworkaround_available: false\nworkaround: null\ndiagnosis: []\nproblem_ids: []\nchange_ids: []\nkb_ids: []\ncommunications:\n",
        i % 50
    );
    for c in 0..3 {
        r.push_str(&format!("  - communication_id: \"COM-20260101-{:0>10}\"\n    recipients: \"end_users\"\n    message: \"Update {c}: we are working on it and will report again within the hour.\"\n    sender: \"incident_manager@example.com\"\n    channel: \"ims\"\n    at: \"2026-01-01T10:0{c}:00Z\"\n", crockford(i * 3 + c)));
    }
    r.push_str("vendor_engagements: []\ntimeline:\n  - at: \"2026-01-01T10:00:00Z\"\n    by: \"incident_manager@example.com\"\n    field: \"status\"\n    from: null\n    to: \"open\"\nsla: null\ncreated_at: \"2026-01-01T10:00:00Z\"\nacknowledged_at: \"2026-01-01T10:01:00Z\"\nresolved_at: null\nresolved_by: null\nresolution_code: null\nresolution_summary: null\naltered_production: false\nclosed_at: null\nclosed_by: null\nclosure_notes: null\nfeedback: null\nupdated_at: \"2026-01-01T10:01:00Z\"\n");
    r
}

pub fn run(cmd: &mut Command) {
    let out = cmd.output().expect("command runs");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
}

pub fn generate(dir: &Path, n: usize) -> Repo {
    let key = dir.join("key");
    run(Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "bench", "-f"]).arg(&key));
    let path = dir.join("records");
    run(Command::new(env!("CARGO_BIN_EXE_ims"))
        .args(["init"])
        .arg(&path)
        .args(["--name", "Bench", "--email", "incident_manager@example.com", "--key"])
        .arg(key.with_extension("pub"))
        .env_remove("IMS_NOW")
        .env("IMS_SIGNING_KEY", &key));
    let mut fi = Command::new("git")
        .current_dir(&path)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    {
        let mut w = std::io::BufWriter::new(fi.stdin.take().expect("stdin"));
        writeln!(w, "commit refs/heads/main\ncommitter Bench <incident_manager@example.com> 1767261600 +0000\ndata 17\nbench: generated\nfrom refs/heads/main^0").unwrap();
        for i in 0..n {
            let r = record(i);
            writeln!(w, "M 100644 inline {}\ndata {}\n{r}", record_path(i), r.len()).unwrap();
        }
        writeln!(w).unwrap();
    }
    assert!(fi.wait().expect("fast-import").success());
    run(Command::new("git").current_dir(&path).args(["reset", "-q", "--hard"]));
    run(Command::new("git").current_dir(&path).args(["config", "gpg.format", "ssh"]));
    run(Command::new("git").current_dir(&path).args(["config", "user.signingkey"]).arg(&key));
    Repo { path, key }
}

/// Runs a command and returns its wall time and its own peak RSS (from `wait4`).
pub fn measure(cmd: &mut Command) -> (Duration, i64) {
    let start = Instant::now();
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::inherit()).spawn().expect("spawn");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; the pointers are valid.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let elapsed = start.elapsed();
    assert_eq!(waited, pid, "wait4");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "{cmd:?} failed");
    std::mem::forget(child);
    (elapsed, usage.ru_maxrss)
}
