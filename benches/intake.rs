//! Monitoring intake throughput: a burst of 1,000 alert files (50 distinct alerts, each
//! firing 20 times) dropped into a watched inbox, and the same burst posted one by one to
//! `ims intake serve` with its bearer token; events per second from the first file to the
//! last commit.
//!
//! ```text
//! cargo bench --bench intake
//! ```

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "common.rs"]
mod common;

const FILES: usize = 1000;
const DISTINCT: usize = 50;
/// The endpoint runs with authentication on, as it would when exposed.
const TOKEN: &str = "bench-intake-token-0123456789abcdef";

fn alert(i: usize) -> String {
    format!(
        r#"{{"service":"svc{}","source":"monitoring_tool","alert_type":"Down","severity":"critical","summary":"svc{} is down","occurred_at":"2026-01-01T{:02}:{:02}:{:02}Z"}}"#,
        i % DISTINCT,
        i % DISTINCT,
        i / 3600,
        i / 60 % 60,
        i % 60
    )
}

fn ims(repo: &common::Repo, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_ims"))
        .current_dir(&repo.path)
        .args(args)
        .env_remove("IMS_NOW")
        .env("IMS_ACTOR", "incident_manager@example.com")
        .env("IMS_SIGNING_KEY", &repo.key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ims starts")
}

fn processed(inbox: &Path) -> usize {
    std::fs::read_dir(inbox.join("processed")).map_or(0, |d| d.count())
}

fn incidents(repo: &common::Repo) -> usize {
    let out = Command::new("git")
        .current_dir(&repo.path)
        .args(["ls-tree", "-r", "--name-only", "HEAD", "records/incidents"])
        .output()
        .expect("git ls-tree");
    String::from_utf8_lossy(&out.stdout).lines().count()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(300), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn post(addr: &str, body: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "POST /alerts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("answer");
    out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

fn main() {
    println!("{:>10} {:>8} {:>10} {:>10} {:>9}", "how", "events", "seconds", "events/s", "incidents");
    // A watched folder.
    let tmp = tempfile::tempdir().expect("temp dir");
    let repo = common::generate(tmp.path(), 0);
    let inbox = tmp.path().join("inbox");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let mut watch = ims(&repo, &["watch", inbox.to_str().unwrap()]);
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    for i in 0..FILES {
        let tmp = inbox.join(format!("{i:04}.json.tmp"));
        std::fs::write(&tmp, alert(i)).expect("write");
        std::fs::rename(&tmp, inbox.join(format!("{i:04}.json"))).expect("rename");
    }
    wait_for("the watched inbox", || processed(&inbox) == FILES);
    let took = start.elapsed().as_secs_f64();
    let _ = watch.kill();
    let _ = watch.wait();
    println!("{:>10} {FILES:>8} {took:>10.2} {:>10.0} {:>9}", "watch", FILES as f64 / took, incidents(&repo));
    // The HTTP endpoint, one request per alert, as Alertmanager sends them: with its
    // bearer token, and side by side without (`--insecure-no-auth`), so the cost of
    // authentication is read off one run.
    let with = http(true);
    let without = http(false);
    println!(
        "authentication costs {:.1} % of the endpoint's throughput ({:.0} vs {:.0} events/s)",
        (1.0 - with / without) * 100.0,
        with,
        without
    );
}

/// One burst through `ims intake serve`; returns events per second to the last commit.
fn http(auth: bool) -> f64 {
    let tmp = tempfile::tempdir().expect("temp dir");
    let repo = common::generate(tmp.path(), 0);
    let inbox = tmp.path().join("http-inbox");
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("a port").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let token = tmp.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).expect("token file");
    let mut args = vec!["intake", "serve", "--listen", &addr, "--inbox", inbox.to_str().unwrap()];
    let token_path = token.to_str().unwrap().to_string();
    if auth {
        args.extend(["--token-file", token_path.as_str()]);
    } else {
        args.push("--insecure-no-auth");
    }
    let mut serve = ims(&repo, &args);
    wait_for("the endpoint", || std::net::TcpStream::connect(&addr).is_ok());
    let start = Instant::now();
    for i in 0..FILES {
        assert_eq!(post(&addr, &alert(i)), 200);
    }
    let accepted = start.elapsed().as_secs_f64();
    wait_for("the endpoint's inbox", || processed(&inbox) == FILES);
    let took = start.elapsed().as_secs_f64();
    let _ = serve.kill();
    let _ = serve.wait();
    let how = if auth { "http+token" } else { "http" };
    println!("{how:>10} {FILES:>8} {took:>10.2} {:>10.0} {:>9}", FILES as f64 / took, incidents(&repo));
    println!(
        "(the endpoint answered all {FILES} requests in {accepted:.2} s: {:.0} per second)",
        FILES as f64 / accepted
    );
    FILES as f64 / took
}
