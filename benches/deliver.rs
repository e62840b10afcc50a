//! Delivery throughput: `ims deliver` sending every owed email of a generated repository
//! (N incidents of three communications each, every one to the reporter) to a real SMTP
//! server on loopback (aiosmtpd, `tests/deliver/smtp_sink.py --discard`), and recording
//! them in one `communication.deliver/1` commit; messages per second over the whole run.
//!
//! ```text
//! TMPDIR=$(mktemp -d -p /var/tmp) cargo bench --bench deliver
//! IMS_BENCH_SIZES=100 cargo bench --bench deliver     # incidents (default 300)
//! ```

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

#[path = "common.rs"]
mod common;

fn python() -> &'static str {
    for p in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(p).args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
        if ok {
            return p;
        }
    }
    panic!("python3-aiosmtpd is needed for this benchmark (apt-get install python3-aiosmtpd)");
}

fn main() {
    let sizes: Vec<usize> = std::env::var("IMS_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![300]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deliver/smtp_sink.py");
    println!("{:>10} {:>10} {:>10} {:>12}", "incidents", "messages", "seconds", "messages/s");
    for n in sizes {
        let tmp = tempfile::tempdir().expect("temp dir");
        let repo = common::generate(tmp.path(), n);
        let mut sink = Command::new(python())
            .arg(&script)
            .arg(tmp.path().join("mail"))
            .arg("--discard")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut port = String::new();
        BufReader::new(sink.stdout.take().expect("stdout")).read_line(&mut port).expect("the sink's port");
        let ims = |args: &[&str]| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ims"));
            cmd.current_dir(&repo.path)
                .args(args)
                .env_remove("IMS_NOW")
                .env("IMS_ACTOR", "incident_manager@example.com")
                .env("IMS_SIGNING_KEY", &repo.key);
            cmd
        };
        // The generated communications are from 2026-01-01: start before them.
        let settings = format!(
            "{{since: '2025-01-01T00:00:00Z', from: ims@example.com, smtp: {{host: 127.0.0.1, port: {}, security: none}}}}",
            port.trim()
        );
        common::run(&mut ims(&["config", "set", "notifications", &settings]));
        let start = Instant::now();
        let out = ims(&["deliver", "--json"]).output().expect("ims deliver");
        let secs = start.elapsed().as_secs_f64();
        assert!(out.status.success(), "ims deliver: {}", String::from_utf8_lossy(&out.stderr));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
        let sent = doc["sent"].as_array().map_or(0, |s| s.iter().filter(|m| m["result"] == "sent").count());
        assert_eq!(sent, 3 * n, "every message accepted");
        println!("{n:>10} {sent:>10} {secs:>10.2} {:>12.1}", sent as f64 / secs);
        let _ = sink.kill();
        let _ = sink.wait();
        if std::env::var_os("IMS_BENCH_KEEP").is_some() {
            std::mem::forget(tmp);
        }
    }
}
