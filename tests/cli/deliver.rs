//! `ims deliver` against a real SMTP server on loopback (aiosmtpd, `tests/deliver/
//! smtp_sink.py`) and loopback HTTP receivers: the messages that arrive, their headers
//! and parts, retries, failures, and a kill between sending and committing.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

/// A Python with aiosmtpd (Debian's python3-aiosmtpd, installed by `.ci/run`), or `None`
/// to skip; with `IMS_REQUIRE_EXTERNAL=1`, as in CI, its absence fails the test.
pub fn aiosmtpd_python() -> Option<PathBuf> {
    for candidate in ["/usr/bin/python3", "python3"] {
        let ok = Command::new(candidate)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(PathBuf::from(candidate));
        }
    }
    assert!(
        std::env::var_os("IMS_REQUIRE_EXTERNAL").is_none(),
        "python3-aiosmtpd is required but not installed (see .ci/run)"
    );
    eprintln!("skipped: python3-aiosmtpd is not installed (see .ci/run)");
    None
}

/// The SMTP server: its port, and the folder it writes received messages to.
pub struct Sink {
    pub port: u16,
    pub out: PathBuf,
    child: Child,
}

impl Sink {
    pub fn start(python: &Path, out: &Path, args: &[&str]) -> Sink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/deliver/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(out)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the SMTP sink starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the sink prints its port, not {line:?}"));
        Sink { port, out: out.to_path_buf(), child }
    }

    /// Every accepted message: (envelope recipients, raw text), in arrival order.
    pub fn received(&self) -> Vec<(Vec<String>, String)> {
        let mut names: Vec<_> = std::fs::read_dir(&self.out)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| {
                let raw = std::fs::read_to_string(self.out.join(n)).unwrap();
                let rcpt = std::fs::read_to_string(self.out.join(n.replace(".eml", ".rcpt"))).unwrap();
                (rcpt.lines().map(String::from).collect(), raw)
            })
            .collect()
    }

    /// Every DATA answer: (code, Message-ID).
    pub fn answers(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(self.out.join("answers.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' ').map(|(a, b)| (a.to_string(), b.to_string())))
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request a loopback HTTP receiver got: its headers (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct Request {
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// A loopback HTTP receiver answering with `statuses` in turn, then `then`.
pub struct Hook {
    pub url: String,
    pub got: Arc<Mutex<Vec<Request>>>,
}

pub fn hook(statuses: &[u16], then: u16) -> Hook {
    let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
    let port = server.server_addr().to_ip().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut queue: VecDeque<u16> = statuses.iter().copied().collect();
    let seen = got.clone();
    std::thread::spawn(move || {
        for mut req in server.incoming_requests() {
            let mut body = String::new();
            req.as_reader().read_to_string(&mut body).unwrap();
            let headers = req
                .headers()
                .iter()
                .map(|h| (h.field.as_str().as_str().to_lowercase(), h.value.as_str().to_string()))
                .collect();
            seen.lock().unwrap().push(Request { headers, body });
            let status = queue.pop_front().unwrap_or(then);
            let _ = req.respond(tiny_http::Response::from_string("ok").with_status_code(status));
        }
    });
    Hook { url: format!("http://127.0.0.1:{port}/hook"), got }
}

const KEY: &str = "test-hmac-key-0123456789";

/// Runs `ims deliver --json` as the automation identity with the webhook secrets in
/// the environment.
fn deliver(repo: &Repo, env: &[(&str, &str)]) -> Value {
    let out = deliver_cmd(repo, env).output().unwrap();
    assert!(out.status.success(), "ims deliver failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn deliver_cmd(repo: &Repo, env: &[(&str, &str)]) -> Command {
    let actor = who("automation");
    let mut cmd = Command::new(ims_bin());
    cmd.current_dir(&repo.path)
        .args(["deliver", "--json"])
        .env("IMS_NOW", &repo.now)
        .env("IMS_ACTOR", &actor)
        .env("IMS_SIGNING_KEY", &repo.keys[&actor])
        .env("IMS_STATE_DIR", repo.tmp.path().join("state"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Sets `notifications` as the incident manager.
fn configure(repo: &Repo, value: &str) {
    repo.ok(&who("incident_manager"), &["config", "set", "notifications", value]);
}

/// The value of header `name` in a raw message (unfolded).
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw).replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

fn verify_passes(repo: &Repo) {
    let out = repo.run(&who("auditor"), &["verify"]);
    assert!(
        out.status.success(),
        "ims verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn at(repo: &mut Repo, hhmm: &str) {
    repo.now = format!("2026-11-26T{hhmm}:00Z");
}

#[test]
fn assigned_escalated_resolved_sends_exactly_the_expected_messages() {
    let Some(python) = aiosmtpd_python() else { return };
    let mut repo = Repo::with_everyone();
    let sink = Sink::start(&python, &repo.tmp.path().join("mail"), &[]);
    let ops = hook(&[], 200);
    let pager = hook(&[], 200);
    let env = [
        ("IMS_TEST_OPS_URL", ops.url.as_str()),
        ("IMS_TEST_PAGER_URL", pager.url.as_str()),
        ("IMS_TEST_PAGER_KEY", KEY),
    ];
    let sd = who("service_desk");
    let id = repo.incident("Checkout fails");
    // A communication from before notifications were configured is never sent.
    repo.ok(&sd, &["incident", "notify", &id, "--to", "stakeholders", "--channel", "email", "--message", "old news"]);

    at(&mut repo, "09:10");
    configure(
        &repo,
        &format!(
            "{{from: ims@example.com, smtp: {{host: 127.0.0.1, port: {}, security: none}}, \
             chat: {{ops: {{kind: slack, url_env: IMS_TEST_OPS_URL}}, \
                     pager: {{kind: webhook, url_env: IMS_TEST_PAGER_URL, key_env: IMS_TEST_PAGER_KEY}}}}, \
             recipients: {{IT_staff: {{email: [oncall@example.com], chat: [ops]}}, \
                           stakeholders: {{email: [board@example.com], services: {{shop: {{email: [shop-owner@example.com]}}}}}}, \
                           executives: {{chat: [pager]}}}}, \
             retry: {{max_attempts: 3, backoff: 1m}}}}",
            sink.port
        ),
    );
    let config = repo.ok(&who("auditor"), &["config", "show"]);
    assert_eq!(config["config"]["notifications"]["since"], "2026-11-26T09:10:00Z", "the start time is recorded");

    at(&mut repo, "09:20");
    repo.ok(&sd, &["incident", "assign", &id, "--team", "L1", "--assignee", &who("L1")]);
    repo.ok(&who("L1"), &["incident", "escalate", &id, "--to", "L3", "--reason", "needs L3"]);
    repo.ok(
        &who("L3"),
        &[
            "incident",
            "notify",
            &id,
            "--to",
            "stakeholders",
            "--channel",
            "email",
            "--message",
            "Checkout is back.\n\nWe keep watching.",
        ],
    );
    repo.ok(
        &who("L3"),
        &["incident", "notify", &id, "--to", "executives", "--channel", "ims", "--message", "Checkout restored"],
    );
    repo.ok(
        &who("L3"),
        &["incident", "notify", &id, "--to", "executives", "--channel", "meeting", "--message", "Briefed the board"],
    );
    repo.ok(&who("L3"), &["incident", "resolve", &id, "--summary", "fixed", "--fix-applied", "--service-restored"]);
    let coms: Vec<Value> = repo.show(&id)["record"]["communications"].as_array().unwrap().clone();
    let com = |to: &str, channel: &str| {
        coms.iter()
            .find(|c| c["recipients"] == to && c["channel"] == channel && c["at"] != "2026-11-26T09:00:00Z")
            .unwrap()["communication_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ack, esc, fixed, exec) =
        (com("end_users", "ims"), com("IT_staff", "ims"), com("stakeholders", "email"), com("executives", "ims"));

    at(&mut repo, "09:30");
    let doc = deliver(&repo, &env);
    let sent = doc["sent"].as_array().unwrap();
    let mut got: Vec<(String, String)> =
        sent.iter().map(|s| (s["about"].as_str().unwrap().into(), s["recipient"].as_str().unwrap().into())).collect();
    got.sort();
    let mut want = vec![
        (ack.clone(), format!("email:{sd}")),
        (esc.clone(), "chat:ops".to_string()),
        (fixed.clone(), "email:board@example.com".to_string()),
        (fixed.clone(), "email:shop-owner@example.com".to_string()),
        (exec.clone(), "chat:pager".to_string()),
    ];
    want.sort();
    assert_eq!(got, want, "exactly the owed messages: {doc}");
    assert!(sent.iter().all(|s| s["result"] == "sent"), "{doc}");
    assert!(doc["commit"].is_string(), "one commit records the run");

    // The mail: three messages, each to its one recipient, threaded under the incident.
    let mail = sink.received();
    let mut rcpts: Vec<String> = mail.iter().flat_map(|(r, _)| r.clone()).collect();
    rcpts.sort();
    let mut want_rcpts = vec!["board@example.com".to_string(), "shop-owner@example.com".into(), sd.clone()];
    want_rcpts.sort();
    assert_eq!(rcpts, want_rcpts, "the reporter and the stakeholders, by email");
    let thread = format!("<{id}@example.com>");
    for (rcpt, raw) in &mail {
        let mid = header(raw, "Message-ID").expect("a Message-ID");
        let record = sent.iter().find(|s| s["recipient"] == format!("email:{}", rcpt[0])).unwrap();
        assert_eq!(mid, format!("<{}>", record["message_id"].as_str().unwrap()), "the recorded Message-ID");
        assert!(mid.starts_with(&format!("<{}.", record["about"].as_str().unwrap())), "derived from the communication");
        assert_eq!(header(raw, "In-Reply-To").as_deref(), Some(thread.as_str()), "{raw}");
        assert_eq!(header(raw, "References").as_deref(), Some(thread.as_str()));
        assert_eq!(header(raw, "To").as_deref(), Some(rcpt[0].as_str()));
        assert!(header(raw, "From").unwrap().contains("<ims@example.com>"));
        let subject = header(raw, "Subject").unwrap();
        assert!(subject.contains(&format!("[{id}]")) && subject.contains("Checkout fails"), "{subject}");
        assert!(header(raw, "Content-Type").unwrap().starts_with("multipart/alternative"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8"), "{raw}");
        assert!(raw.contains("Content-Type: text/html; charset=utf-8"), "{raw}");
        assert!(header(raw, "Date").is_some());
    }
    let board = &mail.iter().find(|(r, _)| r[0] == "board@example.com").unwrap().1;
    assert!(board.contains("Checkout is back.") && board.contains("<p>We keep watching.</p>"), "{board}");
    assert!(!mail.iter().any(|(_, raw)| raw.contains("old news")), "nothing from before the start");

    // Chat: the slack target got the escalation, the signed webhook the executives' note.
    let ops_got = ops.got.lock().unwrap().clone();
    assert_eq!(ops_got.len(), 1);
    let slack: Value = serde_json::from_str(&ops_got[0].body).unwrap();
    assert!(slack["text"].as_str().unwrap().contains(&id), "{slack}");
    assert!(ops_got[0].headers["idempotency-key"].starts_with(&format!("{esc}.")));
    let pager_got = pager.got.lock().unwrap().clone();
    assert_eq!(pager_got.len(), 1);
    let body: Value = serde_json::from_str(&pager_got[0].body).unwrap();
    assert_eq!((body["incident_id"].as_str(), body["about"].as_str()), (Some(id.as_str()), Some(exec.as_str())));
    assert_eq!(body["message"], "Checkout restored");
    assert_eq!(
        pager_got[0].headers["x-ims-signature"],
        ims::deliver::webhook::signature(KEY.as_bytes(), pager_got[0].body.as_bytes()),
        "signed with the key"
    );

    // Nothing is owed any more: a second run sends nothing and commits nothing.
    let head = repo.git(&["rev-parse", "HEAD"]);
    let again = deliver(&repo, &env);
    assert_eq!(again["sent"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(sink.received().len(), 3);

    // The record: one delivery file, every message delivered.
    let rec = repo.git(&["show", &format!("HEAD:records/deliveries/{id}.yaml")]);
    assert_eq!(rec.matches("state: \"delivered\"").count(), 5, "{rec}");
    let log = repo.git(&["log", "-1", "--format=%B"]);
    assert!(log.contains("Ims-Procedure: communication.deliver/1"), "{log}");
    verify_passes(&repo);
}

#[test]
fn temporary_failures_are_retried_and_a_failing_target_ends_failed() {
    let Some(python) = aiosmtpd_python() else { return };
    let mut repo = Repo::with_everyone();
    let sink = Sink::start(&python, &repo.tmp.path().join("mail"), &["--fail-first", "1"]);
    let ops = hook(&[429], 200);
    let down = hook(&[], 500);
    let env =
        [("IMS_TEST_OPS_URL", ops.url.as_str()), ("IMS_TEST_DOWN_URL", down.url.as_str()), ("IMS_TEST_DOWN_KEY", KEY)];
    configure(
        &repo,
        &format!(
            "{{from: ims@example.com, smtp: {{host: 127.0.0.1, port: {}, security: none}}, \
             chat: {{ops: {{kind: slack, url_env: IMS_TEST_OPS_URL}}, down: {{kind: webhook, url_env: IMS_TEST_DOWN_URL, key_env: IMS_TEST_DOWN_KEY}}}}, \
             recipients: {{IT_staff: {{email: [oncall@example.com]}}, stakeholders: {{chat: [ops]}}, executives: {{chat: [down]}}}}, \
             retry: {{max_attempts: 2, backoff: 1m}}}}",
            sink.port
        ),
    );
    let id = repo.incident("Search is slow");
    let l1 = who("L1");
    repo.ok(&l1, &["incident", "notify", &id, "--to", "IT_staff", "--channel", "email", "--message", "look at search"]);
    repo.ok(&l1, &["incident", "notify", &id, "--to", "stakeholders", "--channel", "ims", "--message", "search slow"]);
    repo.ok(&l1, &["incident", "notify", &id, "--to", "executives", "--channel", "ims", "--message", "FYI"]);

    at(&mut repo, "09:05");
    let first = deliver(&repo, &env);
    let results: BTreeSet<(String, String)> = first["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["recipient"].as_str().unwrap().into(), s["result"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        results,
        BTreeSet::from([
            ("email:oncall@example.com".into(), "temporary".into()),
            ("chat:ops".into(), "temporary".into()),
            ("chat:down".into(), "temporary".into()),
        ]),
        "{first}"
    );
    let code = |doc: &Value, r: &str| {
        doc["sent"].as_array().unwrap().iter().find(|s| s["recipient"] == r).unwrap()["code"].clone()
    };
    assert_eq!((code(&first, "email:oncall@example.com"), code(&first, "chat:ops")), (451.into(), 429.into()));
    // Within the backoff nothing is due.
    let early = deliver(&repo, &env);
    assert_eq!(early["sent"].as_array().unwrap().len(), 0, "{early}");

    at(&mut repo, "09:07");
    let second = deliver(&repo, &env);
    let by: BTreeMap<String, String> = second["sent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["recipient"].as_str().unwrap().into(), s["result"].as_str().unwrap().into()))
        .collect();
    assert_eq!(by["email:oncall@example.com"], "sent");
    assert_eq!(by["chat:ops"], "sent");
    assert_eq!(by["chat:down"], "temporary");
    // The SMTP server saw one Message-ID twice: 451, then 250.
    let answers = sink.answers();
    assert_eq!(answers.len(), 2, "{answers:?}");
    assert_eq!((answers[0].0.as_str(), answers[1].0.as_str()), ("451", "250"));
    assert_eq!(answers[0].1, answers[1].1, "the retry carries the same Message-ID");
    let ops_got = ops.got.lock().unwrap().clone();
    assert_eq!(ops_got[0].headers["idempotency-key"], ops_got[1].headers["idempotency-key"]);

    // The failing target used its two attempts: failed, never tried again, and shown.
    at(&mut repo, "10:00");
    let third = deliver(&repo, &env);
    assert_eq!(third["sent"].as_array().unwrap().len(), 0, "{third}");
    assert_eq!(down.got.lock().unwrap().len(), 2);
    let rec = repo.git(&["show", &format!("HEAD:records/deliveries/{id}.yaml")]);
    assert_eq!(rec.matches("state: \"failed\"").count(), 1, "{rec}");
    let sla = repo.ok(&who("auditor"), &["sla", "check"]);
    let failed = sla["failed_deliveries"].as_array().expect("failed deliveries in sla check");
    assert_eq!(failed.len(), 1);
    assert_eq!((failed[0]["recipient"].as_str(), failed[0]["attempts"].as_u64()), (Some("chat:down"), Some(2)));
    let text = repo.run(&who("auditor"), &["sla", "check"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("delivery failed"));
    // And on the internal incident page.
    let out = repo.tmp.path().join("site");
    repo.ok(&who("auditor"), &["site", "build", "--audience", "internal", "--out", out.to_str().unwrap()]);
    let page = std::fs::read_to_string(out.join(format!("incidents/{id}.html"))).unwrap();
    assert!(
        page.contains("Undelivered messages") && page.contains("to chat:down: failed after 2 attempt(s)"),
        "{page}"
    );
    verify_passes(&repo);
}

#[test]
fn a_kill_between_sending_and_committing_resends_only_the_same_message_ids() {
    let Some(python) = aiosmtpd_python() else { return };
    let mut repo = Repo::with_everyone();
    let sink = Sink::start(&python, &repo.tmp.path().join("mail"), &[]);
    configure(
        &repo,
        &format!(
            "{{from: ims@example.com, smtp: {{host: 127.0.0.1, port: {}, security: none}}, \
             recipients: {{stakeholders: {{email: [a@example.com, b@example.com]}}}}}}",
            sink.port
        ),
    );
    let id = repo.incident("Login broken");
    repo.ok(&who("service_desk"), &["incident", "assign", &id, "--team", "L1"]);
    repo.ok(
        &who("L1"),
        &["incident", "notify", &id, "--to", "stakeholders", "--channel", "email", "--message", "working on it"],
    );
    at(&mut repo, "09:05");
    let head = repo.git(&["rev-parse", "HEAD"]);
    // Only the automation identity (or an incident manager) delivers: L1 sends nothing.
    let before = repo.state();
    let out = deliver_cmd(&repo, &[])
        .env("IMS_ACTOR", who("L1"))
        .env("IMS_SIGNING_KEY", &repo.keys[&who("L1")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sink.answers().is_empty(), "nothing was sent");
    assert_eq!(repo.state(), before);

    let log = repo.tmp.path().join("pause.log");
    let mut child = deliver_cmd(&repo, &[])
        .env("IMS_PAUSE_AT", "deliver-sent")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("paused at deliver-sent") {
        assert!(child.try_wait().unwrap().is_none(), "ims ended early: {}", std::fs::read_to_string(&log).unwrap());
        assert!(start.elapsed() < Duration::from_secs(60), "never reached deliver-sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL, after sending and before the commit
    child.wait().unwrap();
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head, "nothing was recorded");
    let first: BTreeSet<String> = sink.answers().into_iter().map(|(_, m)| m).collect();
    assert_eq!(first.len(), 3, "the reporter's acknowledgement and two stakeholders: {first:?}");

    let doc = deliver(&repo, &[]);
    assert_eq!(doc["sent"].as_array().unwrap().len(), 3, "the in-flight messages are sent again: {doc}");
    let all: Vec<String> = sink.answers().into_iter().map(|(_, m)| m).collect();
    assert_eq!(all.len(), 6);
    let after: BTreeSet<String> = all.into_iter().collect();
    assert_eq!(after, first, "no message with a new Message-ID");
    assert_eq!(deliver(&repo, &[])["sent"].as_array().unwrap().len(), 0);
    verify_passes(&repo);
}

#[test]
fn without_notifications_nothing_is_sent_and_secrets_stay_out() {
    let repo = Repo::with_everyone();
    let id = repo.incident("Printer on fire");
    repo.ok(&who("service_desk"), &["incident", "assign", &id, "--team", "L1"]);
    // `ims init` writes the setting empty: nothing is configured, nothing is sent.
    let config = repo.ok(&who("auditor"), &["config", "show"]);
    assert_eq!(config["config"]["notifications"], serde_json::json!({}));
    let head = repo.git(&["rev-parse", "HEAD"]);
    let doc = deliver(&repo, &[]);
    assert_eq!((doc["configured"].as_bool(), doc["sent"].as_array().map(Vec::len)), (Some(false), Some(0)));
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);

    // A secret written into the settings is refused, and nothing changes.
    let before = repo.state();
    let err = repo.fails(
        &who("incident_manager"),
        &[
            "config",
            "set",
            "notifications",
            "{from: ims@example.com, smtp: {host: mail.example.com, port: 587, security: starttls, username: ims, password: hunter2hunter2}}",
        ],
        3,
    );
    assert!(err.contains("notifications.smtp.password") && err.contains("password_env"), "{err}");
    let err = repo.fails(
        &who("incident_manager"),
        &["config", "set", "notifications", "{chat: {ops: {kind: slack, url: 'https://chat.example.com/hooks/abc'}}}"],
        3,
    );
    assert!(err.contains("url_env or url_file"), "{err}");
    assert_eq!(repo.state(), before, "nothing changed");
}

#[test]
fn the_assignee_is_reminded_once_when_the_update_cadence_passes() {
    let Some(python) = aiosmtpd_python() else { return };
    let mut repo = Repo::with_everyone();
    let sink = Sink::start(&python, &repo.tmp.path().join("mail"), &[]);
    configure(
        &repo,
        &format!("{{from: ims@example.com, smtp: {{host: 127.0.0.1, port: {}, security: none}}}}", sink.port),
    );
    let id = repo.incident("VPN drops");
    let l1 = who("L1");
    repo.ok(&who("service_desk"), &["incident", "assign", &id, "--team", "L1", "--assignee", &l1]);
    repo.ok(
        &l1,
        &[
            "incident",
            "prioritize",
            &id,
            "--priority",
            "medium",
            "--severity",
            "medium",
            "--justification",
            "one office",
        ],
    );
    at(&mut repo, "09:01");
    assert_eq!(deliver(&repo, &[])["sent"].as_array().unwrap().len(), 1, "the acknowledgement only");

    // Medium priority: an update every 4h. At 13:30 none was made since 09:00.
    at(&mut repo, "13:30");
    let doc = deliver(&repo, &[]);
    let sent = doc["sent"].as_array().unwrap();
    assert_eq!(sent.len(), 1, "{doc}");
    assert_eq!(sent[0]["recipient"], format!("email:{l1}"));
    assert!(sent[0]["about"].as_str().unwrap().starts_with(&format!("{id}.update.")), "{doc}");
    let mail = sink.received();
    let raw = &mail.last().unwrap().1;
    assert_eq!(mail.last().unwrap().0, vec![l1.clone()]);
    assert!(header(raw, "Subject").unwrap().contains("an update is due"), "{raw}");
    assert_eq!(header(raw, "In-Reply-To"), Some(format!("<{id}@example.com>")));
    // Once per lapse.
    at(&mut repo, "13:45");
    assert_eq!(deliver(&repo, &[])["sent"].as_array().unwrap().len(), 0);
    // An update restarts the cadence; the next lapse is reminded under a new key.
    at(&mut repo, "14:00");
    repo.ok(
        &l1,
        &["incident", "notify", &id, "--to", "stakeholders", "--channel", "meeting", "--message", "call held"],
    );
    at(&mut repo, "17:00");
    assert_eq!(deliver(&repo, &[])["sent"].as_array().unwrap().len(), 0, "within the cadence");
    at(&mut repo, "18:30");
    let doc = deliver(&repo, &[]);
    assert_eq!(doc["sent"].as_array().unwrap().len(), 1, "{doc}");
    assert_ne!(doc["sent"][0]["message_id"], sent[0]["message_id"]);
    verify_passes(&repo);
}

#[test]
fn a_repository_without_the_setting_behaves_as_before_and_migrate_offers_it() {
    // The v3 fixture's ims.yaml predates `notifications`: deliver has nothing to do.
    let bundle = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/history-v3.bundle");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("repo");
    assert!(Command::new("git").arg("clone").arg("-q").arg(&bundle).arg(&dir).status().unwrap().success());
    assert!(!std::fs::read_to_string(dir.join("ims.yaml")).unwrap().contains("notifications"));
    let head = || {
        String::from_utf8(Command::new("git").current_dir(&dir).args(["rev-parse", "HEAD"]).output().unwrap().stdout)
    };
    let before = head().unwrap();
    let out = Command::new(ims_bin())
        .current_dir(&dir)
        .args(["deliver", "--json"])
        .env("IMS_ACTOR", "im@example.com")
        .env_remove("IMS_SIGNING_KEY")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["configured"], false);
    assert_eq!(head().unwrap(), before, "nothing recorded");

    // A repository made without it: migrate offers `notifications: {}` and adds it.
    let repo = Repo::new();
    let im = who("incident_manager");
    repo.ok(&im, &["config", "set", "notifications", "null"]);
    assert!(!std::fs::read_to_string(repo.path.join("ims.yaml")).unwrap().contains("notifications"));
    let doc = repo.ok(&im, &["migrate"]);
    let missing: Vec<&str> =
        doc["missing_settings"].as_array().unwrap().iter().filter_map(|m| m["key"].as_str()).collect();
    assert!(missing.contains(&"notifications"), "{doc}");
    repo.ok(&im, &["migrate", "--settings"]);
    assert_eq!(repo.ok(&im, &["config", "show"])["config"]["notifications"], serde_json::json!({}));
}

/// The attack review: a hand-edited ims.yaml (an unsigned commit) adding a recipient and
/// pointing the SMTP login at a secret must send nothing: deliver acts only on a history
/// that verifies.
#[test]
fn a_hand_edited_settings_file_sends_nothing() {
    let Some(python) = aiosmtpd_python() else { return };
    let repo = Repo::with_everyone();
    let sink = Sink::start(&python, &repo.tmp.path().join("mail"), &[]);
    let id = repo.incident("Checkout fails");
    configure(
        &repo,
        &format!(
            "{{from: ims@example.com, smtp: {{host: 127.0.0.1, port: {}, security: none}}, \
             recipients: {{IT_staff: {{email: [oncall@example.com]}}}}}}",
            sink.port
        ),
    );
    let yaml = std::fs::read_to_string(repo.path.join("ims.yaml")).unwrap();
    let forged = yaml.replace("oncall@example.com", "attacker@evil.example");
    assert_ne!(forged, yaml);
    std::fs::write(repo.path.join("ims.yaml"), forged).unwrap();
    repo.git(&["commit", "-qam", "a hand edit"]);
    repo.ok(&who("L1"), &["incident", "assign", &id, "--team", "L2"]);
    let out = deliver_cmd(&repo, &[]).output().unwrap();
    assert_eq!(out.status.code(), Some(7), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not verify"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(sink.received().is_empty(), "nothing sent: {:?}", sink.received());
    // A relative secret file (inside the working tree, where any pusher writes) is refused.
    let out =
        repo.run(&who("incident_manager"), &["config", "set", "notifications.smtp.password_file", "docs/password.txt"]);
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}
