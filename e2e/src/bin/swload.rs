//! `swload`: the loads of `scripts/bench-vs-kernel.sh`, small enough that the tool is never the
//! router's limit (lab.md, "How to reproduce": the `fwd` tool's blast, serve and conn).
//!
//! - `swload blast ADDR:PORT SECS SIZE`: one thread `send()`s UDP payloads of SIZE bytes as fast
//!   as it can for SECS seconds (the sink should drop them, so nothing answers).
//! - `swload serve ADDR:PORT SECS`: accepts TCP connections and closes them at once, for SECS
//!   seconds; listen backlog 4096 (std's 128 overflows under a connect loop, lab.md).
//! - `swload conn ADDR:PORT SECS`: one client thread, closed loop: connect, then close with a RST
//!   (`SO_LINGER` 0, so no TIME_WAIT), for SECS seconds.
//! - `swload spray ADDR FIRST_PORT COUNT RATE`: one UDP datagram to each of COUNT consecutive
//!   destination ports of ADDR from one socket, at most RATE a second: COUNT new connection
//!   entries in a router's table (the dashboard's benchmark fills the table with it).
//! - `swload defconf LAN WAN`: prints RouterOS's defconf with those ports, as `statewall run`
//!   imports it (the benchmark's router configuration starts from it).
//!
//! Each prints one line of `key=value` figures on stdout.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use libc::{listen, setsockopt, SOL_SOCKET, SO_LINGER};
const BACKLOG: i32 = 4096;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["blast", addr, secs, size] => (|| blast(parse(addr)?, secs_of(secs)?, parse(size)?))(),
        ["serve", addr, secs] => (|| serve(parse(addr)?, secs_of(secs)?))(),
        ["conn", addr, secs] => (|| conn(parse(addr)?, secs_of(secs)?))(),
        ["spray", addr, first, count, rate] => {
            (|| spray(parse(addr)?, parse(first)?, parse(count)?, parse(rate)?))()
        }
        ["defconf", lan, wan] => {
            print!("{}", shared::config::defconf(lan, wan).to_rsc());
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: swload blast ADDR:PORT SECS SIZE | serve ADDR:PORT SECS | \
                 conn ADDR:PORT SECS | spray ADDR FIRST_PORT COUNT RATE | defconf LAN WAN"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("swload: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse<T: std::str::FromStr>(s: &str) -> io::Result<T> {
    s.parse()
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, format!("cannot read {s:?}")))
}

fn secs_of(s: &str) -> io::Result<Duration> {
    parse::<f64>(s).map(Duration::from_secs_f64)
}

fn blast(to: SocketAddr, secs: Duration, size: usize) -> io::Result<()> {
    let sock = UdpSocket::bind("0.0.0.0:0")?;
    sock.connect(to)?;
    let payload = vec![0x5au8; size];
    let (mut sent, mut errors) = (0u64, 0u64);
    let start = Instant::now();
    // The clock is read once per 256 sends: a send costs about a microsecond here.
    while start.elapsed() < secs {
        for _ in 0..256 {
            match sock.send(&payload) {
                Ok(_) => sent += 1,
                Err(_) => errors += 1,
            }
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "sent={sent} errors={errors} secs={t:.2} pps={:.0}",
        sent as f64 / t
    );
    Ok(())
}

fn spray(to: std::net::Ipv4Addr, first: u16, count: u32, rate: u32) -> io::Result<()> {
    let last = u32::from(first) + count.saturating_sub(1);
    if first == 0 || count == 0 || last > 65_535 || rate == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "ports must lie within 1-65535, and count and rate be above 0",
        ));
    }
    let sock = UdpSocket::bind("0.0.0.0:0")?;
    let start = Instant::now();
    let mut errors = 0u64;
    for (i, port) in (u32::from(first)..=last).enumerate() {
        // Paced: datagram i leaves no earlier than i / rate seconds after the start.
        let due = Duration::from_secs_f64(i as f64 / f64::from(rate));
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        if sock.send_to(b"statewall", (to, port as u16)).is_err() {
            errors += 1;
        }
    }
    let t = start.elapsed().as_secs_f64();
    println!("sent={count} errors={errors} secs={t:.2}");
    Ok(())
}

fn serve(addr: SocketAddr, secs: Duration) -> io::Result<()> {
    let listener = TcpListener::bind(addr)?;
    // SAFETY: listen(2) again on our own listening socket, only to raise its backlog.
    if unsafe { listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            // Dropping the stream closes it; a client's RST may have come first, which is fine.
            if stream.is_ok() {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    });
    std::thread::sleep(secs);
    println!(
        "accepted={}",
        accepted.load(std::sync::atomic::Ordering::Relaxed)
    );
    Ok(())
}

fn conn(to: SocketAddr, secs: Duration) -> io::Result<()> {
    let linger: [i32; 2] = [1, 0]; // struct linger { l_onoff = 1, l_linger = 0 }
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut last_error = None;
    let start = Instant::now();
    while start.elapsed() < secs {
        match TcpStream::connect_timeout(&to, Duration::from_secs(1)) {
            Ok(stream) => {
                // SAFETY: setsockopt(2) on our own socket with a live, correctly sized value.
                let r = unsafe {
                    setsockopt(
                        stream.as_raw_fd(),
                        SOL_SOCKET,
                        SO_LINGER,
                        linger.as_ptr().cast(),
                        std::mem::size_of_val(&linger) as u32,
                    )
                };
                if r != 0 {
                    return Err(io::Error::last_os_error());
                }
                ok += 1;
            }
            Err(e) => {
                failed += 1;
                last_error = Some(e);
            }
        }
    }
    let t = start.elapsed().as_secs_f64();
    print!(
        "connections={ok} failed={failed} secs={t:.2} cps={:.0}",
        ok as f64 / t
    );
    match last_error {
        Some(e) => println!(" last_error={:?}", e.to_string()),
        None => println!(),
    }
    Ok(())
}
