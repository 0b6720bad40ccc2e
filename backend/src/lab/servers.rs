//! The lab's servers: a small HTTP server (a page, and `/download?bytes=N`) on the "internet"
//! (192.0.2.10) and on the LAN (198.51.100.20), and a DNS-like UDP responder (192.0.2.53:53)
//! that echoes each query behind a marker.
//!
//! Both tell the client which address they saw it come from (`X-Client:` and the DNS marker),
//! so the traffic generator checks the router's NAT, not only that something answered.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Connections one HTTP server serves at once; more are closed at once.
const MAX_CONNECTIONS: usize = 32;
/// The largest download served.
pub const MAX_DOWNLOAD: u64 = 1 << 30;
/// How long a server waits on a silent or stalled client.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How often blocked loops look at the stop flag.
const POLL: Duration = Duration::from_millis(50);
/// The longest request head read.
const MAX_HEAD: usize = 4096;

/// The first bytes of every DNS-like reply: `swlab-dns <client ip:port> <query>`.
pub const DNS_MARKER: &str = "swlab-dns";

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `GET /` (or any path but the two below): the page.
    Page,
    /// `GET /download?bytes=N`: N bytes.
    Download(u64),
    /// A request that is not a GET.
    Bad,
}

/// Parses a request head (the bytes before the blank line).
pub fn parse_request(head: &[u8]) -> Request {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    if words.next() != Some("GET") {
        return Request::Bad;
    }
    let target = words.next().unwrap_or("/");
    if let Some(query) = target.strip_prefix("/download?") {
        let bytes = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("bytes="))
            .and_then(|n| n.parse::<u64>().ok());
        return match bytes {
            Some(n) if n <= MAX_DOWNLOAD => Request::Download(n),
            _ => Request::Bad,
        };
    }
    Request::Page
}

/// The end of the head in `buf`: the index just past `\r\n\r\n`.
pub(crate) fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Serves HTTP on `listener` until `stop`, then waits (a bounded time) for the connections in
/// flight. `name` appears in the page so clients can tell which server answered.
pub(crate) fn serve_http(listener: TcpListener, name: &'static str, stop: Arc<AtomicBool>) {
    let active = Arc::new(AtomicUsize::new(0));
    accept_until(&listener, &stop, |stream, peer| {
        if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
            return;
        }
        active.fetch_add(1, Ordering::Relaxed);
        let (active2, stop) = (active.clone(), stop.clone());
        let spawned = thread::Builder::new()
            .name(format!("http-{peer}"))
            .spawn(move || {
                if let Err(e) = handle_http(stream, peer, name, &stop) {
                    tracing::debug!(%peer, error = %e, "{name}: connection ended");
                }
                active2.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            active.fetch_sub(1, Ordering::Relaxed);
        }
    });
    let deadline = Instant::now() + IO_TIMEOUT;
    while active.load(Ordering::Relaxed) > 0 && Instant::now() < deadline {
        thread::sleep(POLL);
    }
}

/// Accepts connections until `stop`, handing each to `on_conn`.
pub(crate) fn accept_until(
    listener: &TcpListener,
    stop: &AtomicBool,
    mut on_conn: impl FnMut(TcpStream, SocketAddr),
) {
    if let Err(e) = listener.set_nonblocking(true) {
        tracing::warn!(error = %e, "listener: cannot poll for stop; serving nothing");
        return;
    }
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((stream, peer)) => {
                if stream.set_nonblocking(false).is_ok() {
                    on_conn(stream, peer);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(e) => {
                tracing::debug!(error = %e, "accept");
                thread::sleep(POLL);
            }
        }
    }
}

fn handle_http(
    mut stream: TcpStream,
    peer: SocketAddr,
    name: &str,
    stop: &AtomicBool,
) -> io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while head_end(&head).is_none() {
        let n = stream.read(&mut buf)?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    match parse_request(&head) {
        Request::Page => {
            let body = format!(
                "<!doctype html>\n<title>{name}</title>\n<h1>statewall lab: {name}</h1>\n\
                 <p>You came from {peer}.</p>\n"
            );
            write!(
                stream,
                "HTTP/1.0 200 OK\r\nServer: {name}\r\nX-Client: {peer}\r\n\
                 Content-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
        }
        Request::Download(bytes) => {
            write!(
                stream,
                "HTTP/1.0 200 OK\r\nServer: {name}\r\nX-Client: {peer}\r\n\
                 Content-Type: application/octet-stream\r\nContent-Length: {bytes}\r\n\
                 Connection: close\r\n\r\n"
            )?;
            let chunk = [0x5au8; 64 * 1024];
            let mut left = bytes;
            while left > 0 && !stop.load(Ordering::Relaxed) {
                let n = left.min(chunk.len() as u64) as usize;
                stream.write_all(&chunk[..n])?;
                left -= n as u64;
            }
        }
        Request::Bad => {
            stream.write_all(
                b"HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
        }
    }
    stream.flush()
}

/// The DNS-like reply to a query from `peer`.
pub fn dns_reply(query: &[u8], peer: SocketAddr) -> Vec<u8> {
    let mut reply = format!("{DNS_MARKER} {peer} ").into_bytes();
    reply.extend_from_slice(query);
    reply
}

/// Checks a DNS-like reply to `query`: the client address the server saw.
pub fn check_dns_reply(reply: &[u8], query: &[u8]) -> Result<SocketAddr, String> {
    let bad = || format!("unexpected reply {:?}", String::from_utf8_lossy(reply));
    let rest = reply
        .strip_prefix(DNS_MARKER.as_bytes())
        .and_then(|r| r.strip_prefix(b" "))
        .ok_or_else(bad)?;
    let space = rest.iter().position(|&b| b == b' ').ok_or_else(bad)?;
    let peer = std::str::from_utf8(&rest[..space])
        .ok()
        .and_then(|p| p.parse().ok())
        .ok_or_else(bad)?;
    if &rest[space + 1..] != query {
        return Err(format!("reply does not echo the query: {}", bad()));
    }
    Ok(peer)
}

/// Answers DNS-like queries on `sock` until `stop`.
pub(crate) fn serve_dns(sock: UdpSocket, stop: Arc<AtomicBool>) {
    if let Err(e) = sock.set_read_timeout(Some(POLL)) {
        tracing::warn!(error = %e, "dns: cannot poll for stop; serving nothing");
        return;
    }
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        match sock.recv_from(&mut buf) {
            Ok((n, peer)) => {
                let reply = dns_reply(&buf[..n.min(512)], peer);
                if let Err(e) = sock.send_to(&reply, peer) {
                    tracing::debug!(%peer, error = %e, "dns: reply");
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                tracing::debug!(error = %e, "dns: receive");
                thread::sleep(POLL);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(parse_request(b"GET / HTTP/1.0\r\n\r\n"), Request::Page);
        assert_eq!(
            parse_request(b"GET /index.html HTTP/1.1\r\n"),
            Request::Page
        );
        assert_eq!(
            parse_request(b"GET /download?bytes=1234 HTTP/1.0\r\n\r\n"),
            Request::Download(1234)
        );
        assert_eq!(
            parse_request(b"GET /download?x=1&bytes=5 HTTP/1.0\r\n"),
            Request::Download(5)
        );
        assert_eq!(
            parse_request(b"GET /download?bytes=99999999999999 HTTP/1.0\r\n"),
            Request::Bad
        );
        assert_eq!(
            parse_request(b"GET /download?bytes=x HTTP/1.0\r\n"),
            Request::Bad
        );
        assert_eq!(parse_request(b"POST / HTTP/1.0\r\n"), Request::Bad);
        assert_eq!(parse_request(b""), Request::Bad);
    }

    #[test]
    fn the_head_ends_at_the_blank_line() {
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n\r\nbody"), Some(18));
        assert_eq!(head_end(b"GET / HTTP/1.0\r\n"), None);
    }

    #[test]
    fn dns_replies_round_trip() {
        let peer: SocketAddr = "203.0.113.2:40000".parse().unwrap();
        let reply = dns_reply(b"q 17 example.test", peer);
        assert_eq!(check_dns_reply(&reply, b"q 17 example.test"), Ok(peer));
        assert!(check_dns_reply(&reply, b"q 18 example.test").is_err());
        assert!(check_dns_reply(b"nonsense", b"q").is_err());
    }

    #[test]
    fn the_http_server_serves_a_page_and_a_download_on_loopback() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let server = {
            let stop = stop.clone();
            thread::spawn(move || serve_http(listener, "test server", stop))
        };
        let get = |path: &str| {
            let mut s = TcpStream::connect(addr).unwrap();
            write!(s, "GET {path} HTTP/1.0\r\n\r\n").unwrap();
            let mut out = Vec::new();
            s.read_to_end(&mut out).unwrap();
            (s.local_addr().unwrap(), out)
        };
        let (me, page) = get("/");
        let page = String::from_utf8(page).unwrap();
        assert!(page.starts_with("HTTP/1.0 200 OK\r\n"), "{page}");
        assert!(page.contains(&format!("X-Client: {me}\r\n")), "{page}");
        assert!(page.contains("statewall lab: test server"), "{page}");
        let (_, download) = get("/download?bytes=100000");
        let body = head_end(&download).unwrap();
        assert_eq!(download.len() - body, 100_000);
        stop.store(true, Ordering::Relaxed);
        server.join().unwrap();
    }
}
