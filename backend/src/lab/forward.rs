//! The loopback forwarder: the dashboard listens on the router's LAN address, which only the lab
//! LAN reaches; this makes it reachable from the host's browser.
//!
//! It listens on `127.0.0.1:<port>` in the host's namespace; for each connection a thread enters
//! a LAN host's namespace, opens the connection to the dashboard from there, and pipes the two
//! together both ways.

use super::servers::accept_until;
use super::LabError;
use std::collections::HashMap;
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Connections forwarded at once; more are closed at once.
const MAX_CONNECTIONS: usize = 64;
/// How long opening the connection on the lab side may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Binds the forwarder's listener on `127.0.0.1:port` (0: any free port).
pub(crate) fn bind(port: u16) -> Result<TcpListener, LabError> {
    TcpListener::bind(("127.0.0.1", port)).map_err(|e| {
        if e.kind() == io::ErrorKind::AddrInUse {
            LabError::PortBusy(port)
        } else {
            LabError::Io {
                context: format!("listening on 127.0.0.1:{port}"),
                source: e,
            }
        }
    })
}

/// Copies each way until both sides have finished sending, passing each end-of-stream on as a
/// half close. Returns the bytes copied a → b and b → a.
pub fn pipe(a: TcpStream, b: TcpStream) -> io::Result<(u64, u64)> {
    let (a2, b2) = (a.try_clone()?, b.try_clone()?);
    let back = thread::Builder::new()
        .name("forward-back".into())
        .spawn(move || one_way(&b2, &a2))?;
    let there = one_way(&a, &b);
    let back = back.join().unwrap_or(0);
    Ok((there, back))
}

/// Copies `from` → `to` until end of stream or an error; then half-closes `to` (on an error,
/// both, so the other direction ends too).
fn one_way(mut from: &TcpStream, mut to: &TcpStream) -> u64 {
    let mut copied = 0u64;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match io::Read::read(&mut from, &mut buf) {
            Ok(0) => {
                let _ = to.shutdown(Shutdown::Write);
                return copied;
            }
            Ok(n) => {
                if io::Write::write_all(&mut to, &buf[..n]).is_err() {
                    break;
                }
                copied += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
    copied
}

/// The open connections, so a stopping lab can end them (a browser keeps them open).
#[derive(Default)]
struct Open {
    next: AtomicU64,
    streams: Mutex<HashMap<u64, TcpStream>>,
}

impl Open {
    fn add(&self, s: &TcpStream) -> Option<u64> {
        let mut streams = self.streams.lock().ok()?;
        if streams.len() >= MAX_CONNECTIONS {
            return None;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        streams.insert(id, s.try_clone().ok()?);
        Some(id)
    }

    fn remove(&self, id: u64) {
        if let Ok(mut streams) = self.streams.lock() {
            streams.remove(&id);
        }
    }

    fn len(&self) -> usize {
        self.streams.lock().map_or(0, |s| s.len())
    }

    fn shutdown_all(&self) {
        if let Ok(streams) = self.streams.lock() {
            for s in streams.values() {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

/// Serves until `stop`: each connection on `listener` is piped to what `connect` opens (on the
/// connection's own thread). Then ends the open connections and waits (a bounded time) for
/// their threads.
pub(crate) fn run<C>(listener: TcpListener, connect: C, stop: Arc<AtomicBool>)
where
    C: Fn() -> io::Result<TcpStream> + Clone + Send + 'static,
{
    let open = Arc::new(Open::default());
    accept_until(&listener, &stop, |client, peer| {
        let Some(id) = open.add(&client) else {
            return;
        };
        let (connect, open2) = (connect.clone(), open.clone());
        let spawned = thread::Builder::new()
            .name(format!("forward-{peer}"))
            .spawn(move || {
                match connect() {
                    Ok(upstream) => {
                        if let Err(e) = pipe(client, upstream) {
                            tracing::debug!(%peer, error = %e, "forwarder: pipe");
                        }
                    }
                    Err(e) => tracing::warn!("forwarder: {e}"),
                }
                open2.remove(id);
            });
        if spawned.is_err() {
            open.remove(id);
        }
    });
    open.shutdown_all();
    let deadline = Instant::now() + Duration::from_secs(5);
    while open.len() > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
}

/// Connects to `target` with a socket made inside `ns` (the calling thread moves there).
pub(crate) fn connect_from(ns: &str, target: SocketAddr) -> io::Result<TcpStream> {
    let context = |e: io::Error| io::Error::new(e.kind(), format!("{target} from {ns}: {e}"));
    super::netns::enter(ns).map_err(context)?;
    TcpStream::connect_timeout(&target, CONNECT_TIMEOUT).map_err(context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A connected pair of loopback sockets.
    fn pair() -> (TcpStream, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (b, _) = l.accept().unwrap();
        (a, b)
    }

    #[test]
    fn pipe_copies_both_ways_and_passes_half_closes_on() {
        // client ⇄ (c_in | pipe | s_in) ⇄ server
        let (mut client, c_in) = pair();
        let (s_in, mut server) = pair();
        let piping = thread::spawn(move || pipe(c_in, s_in).unwrap());

        client.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
        client.shutdown(Shutdown::Write).unwrap();
        let mut req = Vec::new();
        server.read_to_end(&mut req).unwrap();
        assert_eq!(req, b"GET / HTTP/1.0\r\n\r\n");

        // The server can still answer after the client's half close.
        let body = vec![7u8; 300_000];
        server.write_all(&body).unwrap();
        server.shutdown(Shutdown::Write).unwrap();
        let mut resp = Vec::new();
        client.read_to_end(&mut resp).unwrap();
        assert_eq!(resp, body);

        assert_eq!(piping.join().unwrap(), (18, 300_000));
    }

    #[test]
    fn a_reset_on_one_side_ends_both() {
        let (client, c_in) = pair();
        let (s_in, mut server) = pair();
        let piping = thread::spawn(move || pipe(c_in, s_in).unwrap());
        drop(client);
        let mut rest = Vec::new();
        // The server sees the end of the stream; the pipe returns.
        server.read_to_end(&mut rest).unwrap();
        drop(server);
        piping.join().unwrap();
    }

    #[test]
    fn a_busy_port_is_named() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let err = bind(port).unwrap_err();
        assert!(matches!(err, LabError::PortBusy(p) if p == port), "{err:?}");
        assert!(err.to_string().contains(&format!("127.0.0.1:{port}")));
    }

    #[test]
    fn the_forwarder_pipes_to_its_target_and_ends_open_connections_on_stop() {
        // The target: an echo server on loopback, reached from the host's own namespace.
        let target = TcpListener::bind("127.0.0.1:0").unwrap();
        let target_addr = target.local_addr().unwrap();
        let echo = thread::spawn(move || {
            let (s, _) = target.accept().unwrap();
            let mut buf = [0u8; 64];
            let n = (&s).read(&mut buf).unwrap();
            (&s).write_all(&buf[..n]).unwrap();
            // Keep the connection open, as a dashboard websocket would, until the stop ends it.
            let _ = (&s).read(&mut buf);
        });
        let listener = bind(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let fwd = {
            let stop = stop.clone();
            thread::spawn(move || run(listener, move || TcpStream::connect(target_addr), stop))
        };
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
        stop.store(true, Ordering::Relaxed);
        fwd.join().unwrap();
        // The open connection was ended by the stop, and the target saw it end.
        let mut rest = Vec::new();
        assert_eq!(c.read_to_end(&mut rest).unwrap_or(0), 0);
        echo.join().unwrap();
    }
}
