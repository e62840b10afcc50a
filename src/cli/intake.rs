//! `ims event ingest` and `ims watch`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use clap::Subcommand;
use serde_json::json;

use super::Env;
use crate::error::{Error, Kind, Result};
use crate::ids::{new_id, RecordKind};
use crate::model::event::AlertStatus;
use crate::procedures::event::ingest::{EventInput, Ingest, Input, NewIds};
use crate::repo::{caps, Repo};
use crate::run::Identity;

#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Record monitoring events (native format or an Alertmanager webhook payload);
    /// qualifying alerts open incidents, repeats attach to them.
    Ingest {
        /// A file, or `-` for standard input.
        file: String,
    },
}

/// Ingests events in one commit; `None` when every event was already recorded.
pub fn ingest(repo: &Repo, identity: &Identity, events: Vec<EventInput>) -> Result<Option<crate::run::Outcome>> {
    // One clock for the ids and the procedure: the ids' date is the record's folder.
    let now = crate::run::procedure_now(repo)?;
    let mut new_ids = std::collections::BTreeMap::new();
    for e in events.iter().filter(|e| e.status == AlertStatus::Firing) {
        new_ids.entry(e.fingerprint.clone()).or_insert_with(|| {
            let inc = new_id(RecordKind::Incident, now);
            let com = new_id(RecordKind::Incident, now).replacen("INC-", "COM-", 1);
            let esc = new_id(RecordKind::Incident, now).replacen("INC-", "COM-", 1);
            NewIds { incident_id: inc, communication_id: com, escalation_id: esc }
        });
    }
    match crate::run::run_at::<Ingest>(repo, identity, &Input { events, new_ids }, now) {
        Ok(outcome) => Ok(Some(outcome)),
        Err(e) if e.kind == Kind::Precondition && e.message.contains("nothing new") => Ok(None),
        Err(e) => Err(e),
    }
}

fn service_labels(repo: &Repo) -> Result<Vec<String>> {
    Ok(crate::model::config(&repo.snapshot(repo.tip()?)?)?.intake.service_labels)
}

pub fn event(env: &Env, command: EventCommand) -> Result<()> {
    let EventCommand::Ingest { file } = command;
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let bytes = if file == "-" {
        crate::repo::read_capped_from(std::io::stdin(), caps::PAYLOAD, "standard input")?
    } else {
        crate::repo::read_capped(Path::new(&file), caps::PAYLOAD, "event file")?
    };
    let events = crate::intake::parse(&bytes, &service_labels(&repo)?)?;
    let count = events.len();
    match ingest(&repo, &identity, events)? {
        Some(outcome) => {
            env.report(&outcome.effect, outcome.commit);
        }
        None => env.ui.data(json!({ "ok": true, "id": null, "commit": null, "events": count, "new": 0 }), || {
            format!("nothing new: all {count} events were already recorded")
        }),
    }
    Ok(())
}

fn move_into(file: &Path, dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let target = dir.join(file.file_name().unwrap_or_default());
    std::fs::rename(file, &target)?;
    Ok(target)
}

/// One pass over the inbox: rejects what does not parse (with a reason file), ingests
/// the rest in one commit, and only then moves it to `processed/`.
fn sweep(repo: &Repo, identity: &Identity, dir: &Path, labels: &[String]) -> Result<(usize, usize, usize)> {
    let files = crate::intake::pending(dir)?;
    if files.is_empty() {
        return Ok((0, 0, 0));
    }
    let config = crate::model::config(&repo.snapshot(repo.tip()?)?)?;
    let mut events = Vec::new();
    let mut good = Vec::new();
    let mut rejected = 0;
    for f in files {
        let parsed = crate::repo::read_capped(&f, caps::PAYLOAD, "inbox file")
            .and_then(|b| crate::intake::parse(&b, labels))
            .and_then(|ev| {
                // A payload naming a service outside the allowlist is rejected on its own.
                for e in &ev {
                    crate::procedures::event::ingest::check_service(&config, e)?;
                }
                Ok(ev)
            });
        match parsed {
            Ok(mut ev) => {
                events.append(&mut ev);
                good.push(f);
            }
            Err(e) => {
                let reject = dir.join("rejected");
                std::fs::create_dir_all(&reject)?;
                let name = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
                std::fs::write(reject.join(format!("{name}.reason")), format!("{}\n", e.message))?;
                move_into(&f, &reject)?;
                rejected += 1;
            }
        }
    }
    let count = events.len();
    if !events.is_empty() {
        ingest(repo, identity, events)?;
        pause_point("after-commit");
    }
    for (i, f) in good.iter().enumerate() {
        move_into(f, &dir.join("processed"))?;
        if i == 0 && good.len() > 1 {
            pause_point("during-move");
        }
    }
    Ok((good.len(), rejected, count))
}

/// A fault-injection point for the crash tests: with `IMS_PAUSE_AT=<name>` the process
/// says where it is on standard error and waits there to be killed.
fn pause_point(name: &str) {
    if std::env::var("IMS_PAUSE_AT").is_ok_and(|v| v == name) {
        eprintln!("ims: paused at {name}");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}

pub fn watch(env: &Env, dir: PathBuf) -> Result<()> {
    let dir = if dir.is_absolute() { dir } else { env.dir.join(dir) };
    if !dir.is_dir() {
        return Err(Error::invalid(format!("{}: not a directory", dir.display())));
    }
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    drain(env, &repo, &identity, &dir, None)
}

/// Ingests the inbox now and each time something lands in it, until killed. Each pass
/// reads `intake.service_labels` afresh and shares it with the HTTP receivers, if any, so
/// a payload is never judged by an older configuration than the one that ingests it.
fn drain(env: &Env, repo: &Repo, identity: &Identity, dir: &Path, shared: Option<&Labels>) -> Result<()> {
    use notify::Watcher;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |e: notify::Result<notify::Event>| {
        // Reads (ours among them) are not arrivals.
        if e.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })
    .map_err(|e| Error::internal(format!("watch: {e}")))?;
    watcher.watch(dir, notify::RecursiveMode::NonRecursive).map_err(|e| Error::internal(format!("watch: {e}")))?;
    env.ui.status(&format!("watching {}; Ctrl-C to stop", dir.display()));
    loop {
        // Files that landed while ims was down, or since the last pass.
        let pass = service_labels(repo).and_then(|labels| {
            if let Some(shared) = shared {
                *shared.write().unwrap_or_else(|e| e.into_inner()) = labels.clone();
            }
            sweep(repo, identity, dir, &labels)
        });
        match pass {
            Ok((0, 0, _)) => {}
            Ok((files, rejected, events)) => {
                env.ui.status(&format!("ingested {events} events from {files} files; rejected {rejected} files"))
            }
            Err(e) if e.kind == Kind::Internal => env.ui.status(&format!("error: {} (will retry)", e.message)),
            Err(e) => env.ui.status(&format!("error: {}", e.message)),
        }
        // Wait for something to land; poll too, in case an event was missed. Let a
        // burst settle so it costs one commit, but never wait more than a second for it.
        let _ = rx.recv_timeout(Duration::from_secs(2));
        let settle = std::time::Instant::now();
        while settle.elapsed() < Duration::from_secs(1) && rx.recv_timeout(Duration::from_millis(150)).is_ok() {}
    }
}

#[derive(Debug, Subcommand)]
pub enum IntakeCommand {
    /// An HTTP endpoint for Alertmanager's `webhook_configs` (or any sender of the native
    /// format): each payload is checked, written durably to the inbox, then answered 200,
    /// and ingested like `ims watch` does.
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:9099.
        #[arg(long, value_name = "ADDR")]
        listen: String,
        /// The inbox folder (default `.git/ims/inbox`, outside the working tree).
        #[arg(long, value_name = "DIR")]
        inbox: Option<PathBuf>,
    },
}

/// `intake.service_labels`, as the inbox's last pass read it.
type Labels = std::sync::Arc<std::sync::RwLock<Vec<String>>>;

/// Threads answering requests.
const RECEIVERS: usize = 4;

/// Payloads larger than this are refused (413): Alertmanager's are a few kilobytes.
const MAX_PAYLOAD: u64 = 4 << 20;

pub fn intake(env: &Env, command: IntakeCommand) -> Result<()> {
    let IntakeCommand::Serve { listen, inbox } = command;
    let repo = env.repo()?;
    let identity = env.identity(&repo)?;
    let inbox = match inbox {
        Some(d) if d.is_absolute() => d,
        Some(d) => env.dir.join(d),
        None => repo.git.path().join("ims/inbox"),
    };
    std::fs::create_dir_all(&inbox).map_err(|e| Error::invalid(format!("{}: {e}", inbox.display())))?;
    // A `.tmp` file is a payload whose sender never had its 200: it will send it again.
    for entry in std::fs::read_dir(&inbox)?.flatten() {
        if entry.path().extension().is_some_and(|x| x == "tmp") {
            std::fs::remove_file(entry.path())?;
        }
    }
    let server = tiny_http::Server::http(&listen)
        .map_err(|e| Error::invalid(format!("--listen {listen}: cannot listen: {e}")))?;
    let labels: Labels = std::sync::Arc::new(std::sync::RwLock::new(service_labels(&repo)?));
    env.ui.status(&format!("listening on http://{listen}/ ; inbox {}", inbox.display()));
    // A few receivers, so one slow sender does not hold up the others.
    let server = std::sync::Arc::new(server);
    for _ in 0..RECEIVERS {
        let (server, labels, dir) = (server.clone(), labels.clone(), inbox.clone());
        std::thread::spawn(move || {
            while let Ok(mut request) = server.recv() {
                let current = labels.read().map(|l| l.clone()).unwrap_or_default();
                let (code, body) = receive(&dir, &current, &mut request);
                let _ = answer(request, code, &body);
            }
        });
    }
    drain(env, &repo, &identity, &inbox, Some(&labels))
}

fn answer(request: tiny_http::Request, code: u16, body: &serde_json::Value) -> std::io::Result<()> {
    let header = tiny_http::Header::from_bytes("Content-Type", "application/json").expect("a valid header");
    let payload = serde_json::to_vec(body).unwrap_or_default();
    request.respond(tiny_http::Response::from_data(payload).with_status_code(code).with_header(header))
}

/// Checks one request and, when it carries a payload ims can read, stores it.
fn receive(dir: &Path, labels: &[String], request: &mut tiny_http::Request) -> (u16, serde_json::Value) {
    use std::io::Read;
    match (request.method(), request.url()) {
        (tiny_http::Method::Get, "/healthz" | "/-/healthy") => return (200, json!({ "ok": true })),
        (tiny_http::Method::Post, _) => {}
        _ => return (405, json!({ "ok": false, "error": "POST an Alertmanager webhook or native events" })),
    }
    let mut bytes = Vec::new();
    if let Err(e) = request.as_reader().take(MAX_PAYLOAD + 1).read_to_end(&mut bytes) {
        return (400, json!({ "ok": false, "error": format!("reading the payload: {e}") }));
    }
    if bytes.len() as u64 > MAX_PAYLOAD {
        return (413, json!({ "ok": false, "error": format!("payload over {MAX_PAYLOAD} bytes") }));
    }
    // Refused payloads are never stored: the sender learns why at once.
    let events = match crate::intake::parse(&bytes, labels) {
        Ok(events) => events.len(),
        Err(e) => return (400, json!({ "ok": false, "error": e.message })),
    };
    match store(dir, &bytes) {
        Ok(name) => (200, json!({ "ok": true, "file": name, "events": events })),
        Err(e) => (503, json!({ "ok": false, "error": format!("storing the payload: {e}") })),
    }
}

/// Writes a payload durably: to a `.tmp` file, synced, renamed into place, and the
/// folder synced, so a 200 is only ever sent for a payload that survives a crash.
fn store(dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    use std::io::Write;
    static SEQUENCE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("{}-{seq:06}-{}.json", Utc::now().format("%Y%m%dT%H%M%S%.9fZ"), std::process::id());
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    let half = bytes.len() / 2;
    file.write_all(&bytes[..half])?;
    pause_point("http-write");
    file.write_all(&bytes[half..])?;
    file.sync_all()?;
    std::fs::rename(&tmp, dir.join(&name))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(name)
}
