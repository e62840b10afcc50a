//! Monitoring intake's shell: the inbox ([`inbox`]: one sweep ingests what landed and
//! files it under `processed/` or `rejected/`), the watcher that drains it ([`watch`],
//! with the pure mapping of file events to wake-ups), the HTTP endpoint ([`server`])
//! and the HTTP it speaks ([`http`]). Reading a payload into events is pure and lives in
//! the core ([`ims_core::intake`], re-exported here).

pub mod inbox;
pub mod server;
pub mod watch;

pub use ims_core::intake::*;
pub use inbox::pending;

/// The HTTP/1.1 that `ims intake serve` speaks: one request per connection, read under
/// a deadline and within size caps, so a slow or hostile sender holds one connection for
/// a few seconds at most and never a receiver's memory.
pub mod http {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    use std::time::Instant;

    /// The request line and headers together.
    pub const HEAD_MAX: usize = 16 << 10;
    /// Headers in one request.
    pub const HEADERS_MAX: usize = 64;

    /// A request's line and headers.
    #[derive(Debug)]
    pub struct Head {
        pub method: String,
        /// The path, without any query.
        pub path: String,
        headers: Vec<(String, String)>,
    }

    impl Head {
        /// Every value of a header, by case-insensitive name.
        pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
            self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
        }

        /// The one value of a header; `Err` when it is given more than once.
        pub fn one<'a>(&'a self, name: &'a str) -> Result<Option<&'a str>, Refusal> {
            let mut values = self.all(name);
            let first = values.next();
            if values.next().is_some() {
                return Err(Refusal::new(400, format!("header {name} given more than once")));
            }
            Ok(first)
        }
    }

    /// A request refused before it was read whole: the status and why.
    #[derive(Debug)]
    pub struct Refusal {
        pub status: u16,
        pub reason: String,
    }

    impl Refusal {
        pub fn new(status: u16, reason: impl Into<String>) -> Refusal {
            Refusal { status, reason: reason.into() }
        }
    }

    /// Reads what the stream has, waiting no later than `deadline`.
    fn read_some(stream: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> Result<usize, Refusal> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Refusal::new(408, "the request was not sent in time"));
        }
        stream.set_read_timeout(Some(left)).map_err(|e| Refusal::new(400, e.to_string()))?;
        match stream.read(buf) {
            Ok(0) => Err(Refusal::new(400, "the connection closed mid-request")),
            Ok(n) => Ok(n),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                Err(Refusal::new(408, "the request was not sent in time"))
            }
            Err(e) => Err(Refusal::new(400, format!("reading the request: {e}"))),
        }
    }

    /// Reads the request line and headers; returns them and the body bytes read with them.
    pub fn read_head(stream: &mut TcpStream, deadline: Instant) -> Result<(Head, Vec<u8>), Refusal> {
        let mut bytes = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(i) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                break i;
            }
            if bytes.len() > HEAD_MAX {
                return Err(Refusal::new(431, format!("request line and headers over {HEAD_MAX} bytes")));
            }
            let n = read_some(stream, &mut buf, deadline)?;
            bytes.extend_from_slice(&buf[..n]);
        };
        if end > HEAD_MAX {
            return Err(Refusal::new(431, format!("request line and headers over {HEAD_MAX} bytes")));
        }
        let rest = bytes.split_off(end + 4);
        let text = std::str::from_utf8(&bytes[..end]).map_err(|_| Refusal::new(400, "headers are not UTF-8"))?;
        Ok((parse_head(text)?, rest))
    }

    fn token(s: &str) -> bool {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    }

    /// Parses a request line and headers strictly: anything ambiguous (a folded header,
    /// a space before a colon, a control character) is refused rather than guessed at.
    pub fn parse_head(text: &str) -> Result<Head, Refusal> {
        let bad = |why: &str| Refusal::new(400, why.to_string());
        let mut lines = text.split("\r\n");
        let line = lines.next().unwrap_or_default();
        let mut parts = line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("malformed request line"));
        };
        if !token(method) || !target.starts_with('/') || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(bad("malformed request line"));
        }
        if version != "HTTP/1.1" && version != "HTTP/1.0" {
            return Err(Refusal::new(505, format!("{version} is not HTTP/1.1")));
        }
        let mut headers = Vec::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { return Err(bad("malformed header line")) };
            if !token(name) {
                return Err(bad("malformed header name"));
            }
            let value = value.trim_matches([' ', '\t']);
            if value.chars().any(|c| c.is_control() && c != '\t') {
                return Err(bad("control character in a header"));
            }
            headers.push((name.to_string(), value.to_string()));
            if headers.len() > HEADERS_MAX {
                return Err(Refusal::new(431, format!("more than {HEADERS_MAX} headers")));
            }
        }
        let path = target.split('?').next().unwrap_or(target).to_string();
        Ok(Head { method: method.to_string(), path, headers })
    }

    /// The declared body length: required (no chunked bodies), at most `limit`.
    pub fn body_length(head: &Head, limit: u64) -> Result<usize, Refusal> {
        if head.all("transfer-encoding").next().is_some() {
            return Err(Refusal::new(411, "send the payload with a Content-Length (chunked bodies are not accepted)"));
        }
        let Some(length) = head.one("content-length")? else {
            return Err(Refusal::new(411, "a Content-Length is required"));
        };
        let length: u64 = match length.parse() {
            Ok(n) if length.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(Refusal::new(400, format!("Content-Length `{length}` is not a number"))),
        };
        if length > limit {
            return Err(Refusal::new(413, format!("payload of {length} bytes is over the limit of {limit} bytes")));
        }
        Ok(length as usize)
    }

    /// Reads the rest of a body of `length` bytes, no later than `deadline`.
    pub fn read_body(
        stream: &mut TcpStream,
        mut body: Vec<u8>,
        length: usize,
        deadline: Instant,
    ) -> Result<Vec<u8>, Refusal> {
        if body.len() > length {
            return Err(Refusal::new(400, "more bytes than the Content-Length (one request per connection)"));
        }
        let mut buf = [0u8; 16 << 10];
        while body.len() < length {
            let want = (length - body.len()).min(buf.len());
            let n = read_some(stream, &mut buf[..want], deadline)?;
            body.extend_from_slice(&buf[..n]);
        }
        Ok(body)
    }

    /// Writes one response and closes the connection politely: our side first, then
    /// what the sender still had in flight is read away for a moment, so the answer is
    /// not lost to a reset.
    pub fn respond(mut stream: TcpStream, status: u16, extra: &[(&str, &str)], body: &[u8]) {
        let reason = match status {
            100 => "Continue",
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            408 => "Request Timeout",
            411 => "Length Required",
            413 => "Content Too Large",
            431 => "Request Header Fields Too Large",
            503 => "Service Unavailable",
            505 => "HTTP Version Not Supported",
            _ => "Error",
        };
        let mut head = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
            body.len()
        );
        for (name, value) in extra {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.set_write_timeout(Some(std::time::Duration::from_secs(5)));
        if stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body)).is_err() {
            return;
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let deadline = Instant::now() + std::time::Duration::from_millis(500);
        let (mut buf, mut drained) = ([0u8; 4096], 0);
        while drained < (256 << 10) {
            match read_some(&mut stream, &mut buf, deadline) {
                Ok(n) => drained += n,
                Err(_) => break,
            }
        }
    }

    /// Tells a sender that waits for it (`Expect: 100-continue`, as curl does) to send
    /// the body.
    pub fn continue_if_expected(stream: &mut TcpStream, head: &Head) {
        if head.all("expect").any(|v| v.eq_ignore_ascii_case("100-continue")) {
            let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn heads_are_parsed_strictly() {
            let h = parse_head("POST /alerts?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nauthorization: Bearer t")
                .unwrap();
            assert_eq!((h.method.as_str(), h.path.as_str()), ("POST", "/alerts"));
            assert_eq!(h.one("Authorization").unwrap(), Some("Bearer t"));
            assert_eq!(body_length(&h, 100).unwrap(), 12);
            assert_eq!(body_length(&h, 10).unwrap_err().status, 413);
            for bad in [
                "POST /alerts HTTP/1.1\r\nHost : a",
                "POST /alerts HTTP/1.1\r\n folded",
                "POST alerts HTTP/1.1",
                "POST /a b HTTP/1.1",
                "POST /alerts HTTP/1.1\r\nX: a\u{1b}b",
            ] {
                assert_eq!(parse_head(bad).unwrap_err().status, 400, "{bad:?}");
            }
            assert_eq!(parse_head("GET / HTTP/2.0").unwrap_err().status, 505);
            let two = parse_head("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2").unwrap();
            assert_eq!(body_length(&two, 100).unwrap_err().status, 400);
            let chunked = parse_head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked").unwrap();
            assert_eq!(body_length(&chunked, 100).unwrap_err().status, 411);
            let plus = parse_head("POST / HTTP/1.1\r\nContent-Length: +5").unwrap();
            assert_eq!(body_length(&plus, 100).unwrap_err().status, 400);
        }
    }
}
