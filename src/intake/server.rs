//! `ims intake serve`'s HTTP endpoint: each payload is authenticated, checked as the
//! ingest procedure will check it, written durably to the inbox, then answered 200; the
//! inbox is drained by [`super::watch`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::Utc;
use serde_json::json;

use super::http;
use crate::error::{Error, Kind, Result};
use crate::model::config::Intake;
use crate::procedures::event::ingest::{EventInput, Ingest};
use crate::repo::{caps, Repo};
use crate::run::pause_point;

use super::inbox::{ingest_input, intake_settings};

/// The intake settings as the inbox's last pass read them, shared with the receivers so
/// a payload is never judged by an older configuration than the one that ingests it.
pub type Settings = std::sync::Arc<std::sync::RwLock<Intake>>;

/// Connections served at once; more are answered 503 at once. Each holds a thread for
/// at most [`REQUEST_DEADLINE`] plus the time to check and store its payload.
const MAX_CONNECTIONS: usize = 256;

/// Connections served at once from one sender (one IPv4 address, one IPv6 /64): one
/// host opening idle connections must not fill the whole cap and starve `/healthz` and
/// every other sender.
const MAX_PER_PEER: usize = 16;

/// How long a sender has to send a whole request, headers and body.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);

/// What every receiver needs.
struct Receiver {
    inbox: PathBuf,
    /// The checker thread (see [`Checker`]).
    checker: Checker,
    /// SHA-256 of the token; compared digest to digest, in constant time.
    token: Option<[u8; 32]>,
    settings: Settings,
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// Reads a token file as Prometheus reads `credentials_file`: the whole file, trimmed.
pub fn read_token(path: &Path) -> Result<[u8; 32]> {
    let bytes = crate::repo::read_capped(path, caps::KEY, "--token-file")?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(format!("--token-file {}: not UTF-8 text", path.display())))?;
    let token = text.trim();
    if token.len() < 16 || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::invalid(format!(
            "--token-file {}: the token must be at least 16 visible ASCII characters, with no spaces inside",
            path.display()
        )));
    }
    Ok(digest(token.as_bytes()))
}

/// Starts the endpoint on `listen`: empties `inbox` of payloads whose sender never had
/// its 200, binds, and serves on its own threads. The settings returned are shared with
/// the inbox's drain ([`super::watch::drain`]), which refreshes them on every pass.
pub fn start(repo: &Repo, actor: &str, listen: &str, inbox: &Path, token: Option<[u8; 32]>) -> Result<Settings> {
    std::fs::create_dir_all(inbox).map_err(|e| Error::invalid(format!("{}: {e}", inbox.display())))?;
    // A `.tmp` file is a payload whose sender never had its 200: it will send it again.
    for entry in std::fs::read_dir(inbox)?.flatten() {
        if entry.path().extension().is_some_and(|x| x == "tmp") {
            std::fs::remove_file(entry.path())?;
        }
    }
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| Error::invalid(format!("--listen {listen}: cannot listen: {e}")))?;
    let settings: Settings = std::sync::Arc::new(std::sync::RwLock::new(intake_settings(repo)?));
    let checker = Checker::start(repo.root(), actor)?;
    let receiver =
        std::sync::Arc::new(Receiver { inbox: inbox.to_path_buf(), checker, token, settings: settings.clone() });
    std::thread::spawn(move || accept(listener, receiver));
    Ok(settings)
}

/// The sender a connection counts against: its IPv4 address, or its IPv6 /64 (one host
/// commonly holds a whole /64).
fn peer_key(addr: std::net::SocketAddr) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv6Addr};
    match addr.ip() {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        v4 => v4,
    }
}

/// The connections open, in all and per sender.
#[derive(Default)]
struct Open {
    total: usize,
    per_peer: std::collections::HashMap<std::net::IpAddr, usize>,
}

/// One connection's place under the caps, given back when it is dropped.
struct Slot {
    open: std::sync::Arc<std::sync::Mutex<Open>>,
    peer: std::net::IpAddr,
}

impl Slot {
    /// A place for a connection from `peer`, or why there is none.
    fn take(open: &std::sync::Arc<std::sync::Mutex<Open>>, peer: std::net::IpAddr) -> Option<Slot> {
        let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
        let mine = o.per_peer.get(&peer).copied().unwrap_or(0);
        if o.total >= MAX_CONNECTIONS || mine >= MAX_PER_PEER {
            return None;
        }
        o.total += 1;
        o.per_peer.insert(peer, mine + 1);
        Some(Slot { open: open.clone(), peer })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.total -= 1;
        if let Some(n) = o.per_peer.get_mut(&self.peer) {
            *n -= 1;
            if *n == 0 {
                o.per_peer.remove(&self.peer);
            }
        }
    }
}

/// Takes connections, each on its own thread, at most [`MAX_CONNECTIONS`] at once and
/// [`MAX_PER_PEER`] from one sender.
fn accept(listener: std::net::TcpListener, receiver: std::sync::Arc<Receiver>) {
    let open = std::sync::Arc::new(std::sync::Mutex::new(Open::default()));
    loop {
        let (stream, peer) = match listener.accept() {
            Ok((stream, addr)) => (stream, peer_key(addr)),
            Err(_) => {
                // Out of descriptors, or a connection reset before it was taken.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let Some(slot) = Slot::take(&open, peer) else {
            // Answered here and at once: no lingering read may hold up the accept loop.
            use std::io::Write;
            let _ = stream.set_nonblocking(true);
            let body = refusal("too many connections; try again");
            let head = format!(
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = (&stream).write_all(&[head.as_bytes(), &body].concat());
            continue;
        };
        let receiver = receiver.clone();
        // The slot moves into the thread; if no thread can be made, it is dropped here
        // with the connection, and its place is given back.
        let spawned = std::thread::Builder::new().spawn(move || {
            let _slot = slot;
            serve_one(stream, &receiver);
        });
        if spawned.is_err() {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn refusal(reason: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({ "ok": false, "error": reason })).unwrap_or_default()
}

/// Answers one connection's one request.
fn serve_one(mut stream: std::net::TcpStream, receiver: &Receiver) {
    let deadline = std::time::Instant::now() + REQUEST_DEADLINE;
    let (head, start) = match http::read_head(&mut stream, deadline) {
        Ok(read) => read,
        Err(r) => return http::respond(stream, r.status, &[], &refusal(&r.reason)),
    };
    let (code, extra, body) = match route(&mut stream, receiver, &head, start, deadline) {
        Ok(body) => (200, vec![], body),
        Err((code, extra, reason)) => (code, extra, json!({ "ok": false, "error": reason })),
    };
    http::respond(stream, code, &extra, &serde_json::to_vec(&body).unwrap_or_default());
}

type Refused = (u16, Vec<(&'static str, &'static str)>, String);

fn route(
    stream: &mut std::net::TcpStream,
    receiver: &Receiver,
    head: &http::Head,
    start: Vec<u8>,
    deadline: std::time::Instant,
) -> std::result::Result<serde_json::Value, Refused> {
    let refuse = |r: http::Refusal| (r.status, vec![], r.reason);
    match (head.path.as_str(), head.method.as_str()) {
        ("/healthz" | "/-/healthy", "GET" | "HEAD") => return Ok(json!({ "ok": true })),
        ("/healthz" | "/-/healthy", _) => return Err((405, vec![("Allow", "GET, HEAD")], "use GET".into())),
        ("/alerts", "POST") => {}
        ("/alerts", _) => {
            return Err((405, vec![("Allow", "POST")], "POST an Alertmanager webhook or native events".into()))
        }
        (path, _) => return Err((404, vec![], format!("{path}: not found; payloads go to POST /alerts"))),
    }
    if let Some(token) = &receiver.token {
        let given = head.one("authorization").map_err(refuse)?.and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        });
        // Digest against digest: the comparison takes the same time whatever the token.
        let same =
            given.is_some_and(|g| digest(g.as_bytes()).iter().zip(token).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0);
        if !same {
            let reason = if given.is_some() {
                "the bearer token is not the one configured"
            } else {
                "a bearer token is required"
            };
            return Err((401, vec![("WWW-Authenticate", "Bearer realm=\"ims\"")], reason.into()));
        }
    }
    let length = http::body_length(head, caps::PAYLOAD).map_err(refuse)?;
    http::continue_if_expected(stream, head);
    let bytes = http::read_body(stream, start, length, deadline).map_err(refuse)?;
    let settings = receiver.settings.read().map(|s| s.clone()).unwrap_or_else(|e| e.into_inner().clone());
    let events = crate::intake::parse(&bytes, &settings.service_labels).map_err(|e| (400, vec![], e.message))?;
    if events.len() > settings.max_alerts() {
        return Err((
            413,
            vec![],
            format!(
                "payload: {} alerts, over intake.max_alerts_per_payload ({}); send them in smaller groups",
                events.len(),
                settings.max_alerts()
            ),
        ));
    }
    // Refused now, not after the 200: whatever the procedure would refuse later.
    let count = events.len();
    let opened = receiver.checker.check(events).map_err(|e| match e.kind {
        Kind::Internal | Kind::Conflict => (503, vec![], format!("checking the payload: {}", e.message)),
        _ => (400, vec![], e.into_message()),
    })?;
    if opened > settings.max_incidents() {
        return Err((
            400,
            vec![],
            format!(
                "payload: would open {opened} incidents, over intake.max_incidents_per_payload ({})",
                settings.max_incidents()
            ),
        ));
    }
    match store(&receiver.inbox, &bytes) {
        Ok(name) => Ok(json!({ "ok": true, "file": name, "events": count })),
        Err(e) => Err((503, vec![], format!("storing the payload: {e}"))),
    }
}

/// A payload to check and where to send the verdict.
type Job = (Vec<EventInput>, std::sync::mpsc::SyncSender<Result<usize>>);

/// The receivers' one way to the repository: a thread that keeps it open and runs
/// `event.ingest` on each payload alone without committing, at the tip of the moment.
/// Opening the repository for every request (config files, refs, a cold object cache,
/// `ims.yaml` parsed again on a fresh thread) cost several times the dry run itself; on
/// one long-lived thread the repository, libgit2's caches and the parsed `ims.yaml` and
/// people stay warm, and the check is still the procedure's own, at the current tip.
struct Checker {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Checker {
    fn start(root: &Path, actor: &str) -> Result<Checker> {
        let repo = Repo::discover(root)?;
        let (root, actor) = (root.to_path_buf(), actor.to_string());
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("intake-check".into())
            .spawn(move || {
                let mut repo = Some(repo);
                for (events, answer) in rx {
                    let verdict = match repo.take().map_or_else(|| Repo::discover(&root), Ok) {
                        Ok(r) => {
                            // A procedure that panics fails this payload, not the checker.
                            let verdict =
                                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| dry_run(&r, &actor, events)))
                                    .unwrap_or_else(|_| Err(Error::internal("checking the payload failed")));
                            // A repository that failed on us is opened afresh next time.
                            if !verdict.as_ref().is_err_and(|e| e.kind == Kind::Internal) {
                                repo = Some(r);
                            }
                            verdict
                        }
                        Err(e) => Err(e),
                    };
                    let _ = answer.send(verdict);
                }
            })
            .map_err(|e| Error::internal(format!("intake serve: cannot start the checker: {e}")))?;
        Ok(Checker { jobs: tx })
    }

    /// The incidents the payload would open now, or the reason it would be refused.
    fn check(&self, events: Vec<EventInput>) -> Result<usize> {
        let (answer, verdict) = std::sync::mpsc::sync_channel(1);
        self.jobs.send((events, answer)).map_err(|_| Error::internal("the payload checker has stopped"))?;
        verdict.recv().map_err(|_| Error::internal("the payload checker has stopped"))?
    }
}

/// Runs `event.ingest` on the payload alone without committing: the incidents it would
/// open now, or the reason it would be refused.
fn dry_run(repo: &Repo, actor: &str, events: Vec<EventInput>) -> Result<usize> {
    let now = crate::run::procedure_now(repo)?;
    let effect =
        crate::run::unless_nothing_new(crate::run::dry_run::<Ingest>(repo, actor, &ingest_input(events, now), now))?;
    Ok(effect.map_or(0, |effect| {
        effect
            .actions
            .iter()
            .filter(|a| a.action == crate::model::enums::AuditAction::Create && a.ref_type == "incident")
            .count()
    }))
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
