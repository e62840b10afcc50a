//! The HTTP side of `ims site serve`: the built files, read-only, over HTTP/1.1 (one
//! request per connection, as [`crate::intake::http`] reads them), with a small script
//! added to each HTML page that reloads it when a rebuild finished.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What the server serves: the built folder, and the count of builds so far (which a
/// page polls to know when to reload).
#[derive(Clone)]
pub struct Served {
    pub root: PathBuf,
    pub generation: Arc<AtomicU64>,
}

/// The path the pages poll; it answers the build count.
pub const RELOAD_PATH: &str = "/__ims/build";

/// Connections served at once; more are answered 503.
const MAX_CONNECTIONS: usize = 64;

/// Added before `</body>` of each page served (never to the files on disk).
const RELOAD_SCRIPT: &str = "<script>(function(){var seen=null;setInterval(function(){fetch('/__ims/build',{cache:'no-store'}).then(function(r){return r.text();}).then(function(t){if(seen!==null&&t!==seen)location.reload();seen=t;}).catch(function(){});},1000);})();</script>\n";

/// Serves connections until the process ends.
pub fn accept(listener: TcpListener, served: Served) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming().flatten() {
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::SeqCst);
            let _ = respond(stream, 503, "text/plain", b"busy\n", false);
            continue;
        }
        let (served, open) = (served.clone(), open.clone());
        std::thread::spawn(move || {
            serve_one(stream, &served);
            open.fetch_sub(1, Ordering::SeqCst);
        });
    }
}

fn serve_one(mut stream: TcpStream, served: &Served) {
    let head = match crate::intake::http::read_head(&mut stream, Instant::now() + Duration::from_secs(5)) {
        Ok((head, _)) => head,
        Err(refusal) => {
            let _ = respond(stream, refusal.status, "text/plain", format!("{}\n", refusal.reason).as_bytes(), false);
            return;
        }
    };
    let head_only = head.method == "HEAD";
    if head.method != "GET" && !head_only {
        let _ = respond(stream, 405, "text/plain", b"only GET and HEAD\n", false);
        return;
    }
    if head.path == RELOAD_PATH {
        let n = served.generation.load(Ordering::SeqCst).to_string();
        let _ = respond(stream, 200, "text/plain", n.as_bytes(), head_only);
        return;
    }
    let Some(file) = resolve(&served.root, &head.path) else {
        let _ = respond(stream, 404, "text/plain", b"not found\n", head_only);
        return;
    };
    match std::fs::read(&file) {
        Ok(mut bytes) => {
            let kind = content_type(&file);
            if kind.starts_with("text/html") {
                bytes = with_reload(bytes);
            }
            let _ = respond(stream, 200, kind, &bytes, head_only);
        }
        Err(_) => {
            let _ = respond(stream, 404, "text/plain", b"not found\n", head_only);
        }
    }
}

/// The file a request path names inside `root`: percent-decoded, a folder meaning its
/// `index.html`; `None` for anything reaching outside it (`..`, a symbolic link out).
pub fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode(path)?;
    let mut rel = PathBuf::new();
    for part in Path::new(decoded.trim_start_matches('/')).components() {
        match part {
            Component::Normal(p) => rel.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    let mut file = root.join(&rel);
    if decoded.ends_with('/') || file.is_dir() {
        file = file.join("index.html");
    }
    let real = std::fs::canonicalize(&file).ok()?;
    let root = std::fs::canonicalize(root).ok()?;
    (real.starts_with(&root) && real.is_file()).then_some(real)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let s = String::from_utf8(out).ok()?;
    (!s.contains('\0') && !s.contains('\\')).then_some(s)
}

fn with_reload(mut bytes: Vec<u8>) -> Vec<u8> {
    let at = bytes.windows(7).rposition(|w| w == b"</body>").unwrap_or(bytes.len());
    bytes.splice(at..at, RELOAD_SCRIPT.bytes());
    bytes
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/atom+xml; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn respond(mut stream: TcpStream, status: u16, kind: &str, body: &[u8], head_only: bool) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_site() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("site/kb")).unwrap();
        std::fs::write(dir.path().join("site/index.html"), "x").unwrap();
        std::fs::write(dir.path().join("site/kb/a b.html"), "x").unwrap();
        std::fs::write(dir.path().join("secret"), "x").unwrap();
        let root = dir.path().join("site");
        assert!(resolve(&root, "/").unwrap().ends_with("site/index.html"));
        assert!(resolve(&root, "/kb/a%20b.html?q=1").unwrap().ends_with("kb/a b.html"));
        for bad in ["/../secret", "/kb/../../secret", "/%2e%2e/secret", "/missing.html", "/%zz"] {
            assert_eq!(resolve(&root, bad), None, "{bad}");
        }
        assert_eq!(with_reload(b"<p>x</p></body></html>".to_vec()).windows(8).position(|w| w == b"<script>"), Some(8));
    }
}
