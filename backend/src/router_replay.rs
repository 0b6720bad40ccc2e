//! `statewall replay --config FILE.rsc [--iface NAME=FILE …] [--write-dir DIR] [FILE]`: captures
//! through the whole router as the script configures it; what it sends is written as one pcap
//! per egress interface, and the connection table (with the NAT'd reply tuples) is printed.

use crate::replay::{print_table, Args, ReplayError};
use dataplane::drivers::pcap::{self, Capture};
use dataplane::drivers::router_replay::{self, Sent};
use dataplane::pipeline::{Disposition, Options, Port, Router};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::TsResolution;
use shared::config::RouterConfig;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The interface a lone capture arrives on (RouterOS's first port, the WAN in its defconf).
const DEFAULT_IFACE: &str = "ether1";

fn read(path: &Path) -> Result<Vec<u8>, ReplayError> {
    std::fs::read(path).map_err(|source| ReplayError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// The `NAME=FILE` pairs, or the lone file on `ether1`.
fn inputs(args: &Args) -> Result<Vec<(String, PathBuf)>, ReplayError> {
    let mut v = Vec::new();
    for spec in &args.ifaces {
        match spec.split_once('=') {
            Some((name, file)) if !name.is_empty() && !file.is_empty() => {
                if v.iter().any(|(n, _): &(String, PathBuf)| n == name) {
                    return Err(ReplayError::Usage(format!(
                        "--iface {spec}: interface {name} is given twice"
                    )));
                }
                v.push((name.to_string(), PathBuf::from(file)));
            }
            _ => {
                return Err(ReplayError::Usage(format!(
                    "--iface {spec}: expected NAME=FILE, e.g. --iface ether2=lan.pcap"
                )))
            }
        }
    }
    match (&args.file, v.is_empty()) {
        (Some(f), true) => v.push((DEFAULT_IFACE.to_string(), f.clone())),
        (Some(_), false) => {
            return Err(ReplayError::Usage(
                "give either a capture file or --iface NAME=FILE, not both".into(),
            ))
        }
        (None, true) => {
            return Err(ReplayError::Usage(
                "give a capture file or --iface NAME=FILE".into(),
            ))
        }
        (None, false) => {}
    }
    Ok(v)
}

/// The router's ports: the interfaces captures arrive on, then every other interface the
/// configuration names.
fn port_names(inputs: &[(String, PathBuf)], cfg: &RouterConfig) -> Vec<String> {
    let mut names: Vec<String> = inputs.iter().map(|(n, _)| n.clone()).collect();
    for n in cfg.interface_names() {
        if !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

/// A stable, locally administered MAC address for a port named `name`.
fn port_mac(name: &str) -> [u8; 6] {
    // FNV-1a: deterministic across runs and platforms.
    let mut h: u32 = 0x811c_9dc5;
    for b in name.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    let b = h.to_be_bytes();
    [0x02, 0x53, b[0], b[1], b[2], b[3]]
}

fn write_pcap(path: &Path, frames: &[Sent]) -> Result<(), ReplayError> {
    let err = |message: String| ReplayError::WritePcap {
        path: path.display().to_string(),
        message,
    };
    let file = std::fs::File::create(path).map_err(|e| err(e.to_string()))?;
    // Nanosecond timestamps, so a frame keeps the exact time of the frame that caused it.
    let header = PcapHeader {
        ts_resolution: TsResolution::NanoSecond,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(io::BufWriter::new(file), header)
        .map_err(|e| err(e.to_string()))?;
    for s in frames {
        let ts = Duration::from_nanos(s.timestamp_ns);
        w.write_packet(&PcapPacket::new(ts, s.frame.len() as u32, &s.frame))
            .map_err(|e| err(e.to_string()))?;
    }
    w.into_writer().flush().map_err(|e| err(e.to_string()))
}

fn describe(d: Disposition, names: &[String]) -> String {
    let name = |i: u16| names.get(usize::from(i)).map_or("?", String::as_str);
    match d {
        Disposition::Forwarded(i) => format!("forwarded {}", name(i)),
        Disposition::Local => "local".into(),
        Disposition::Arp => "arp".into(),
        Disposition::Queued => "queued (waiting for ARP)".into(),
        Disposition::Reassembling => "held (reassembling)".into(),
        Disposition::Dropped(r) => format!("dropped ({})", r.as_str()),
    }
}

pub fn run(args: &Args) -> Result<(), ReplayError> {
    let Some(config) = &args.config else {
        return Err(ReplayError::Usage("--config is required".into()));
    };
    let text = String::from_utf8(read(config)?).map_err(|_| ReplayError::Config {
        path: config.display().to_string(),
        errors: vec!["the file is not UTF-8 text".into()],
    })?;
    let cfg = RouterConfig::from_rsc(&text).map_err(|errors| ReplayError::Config {
        path: config.display().to_string(),
        errors: errors.iter().map(|e| e.to_string()).collect(),
    })?;
    let inputs = inputs(args)?;
    if let Some(dir) = &args.write_dir {
        std::fs::create_dir_all(dir).map_err(|e| ReplayError::WritePcap {
            path: dir.display().to_string(),
            message: e.to_string(),
        })?;
    }
    let files: Vec<Vec<u8>> = inputs
        .iter()
        .map(|(_, p)| read(p))
        .collect::<Result<_, _>>()?;
    let captures: Vec<Capture<'_>> = inputs
        .iter()
        .zip(&files)
        .map(|((_, p), bytes)| {
            pcap::read_capture(bytes).map_err(|source| ReplayError::Capture {
                path: p.display().to_string(),
                source,
            })
        })
        .collect::<Result<_, _>>()?;

    let names = port_names(&inputs, &cfg);
    let ports = names
        .iter()
        .map(|n| Port {
            name: n.clone(),
            mac: port_mac(n),
            mtu: 1500,
        })
        .collect();
    let opts = Options {
        accept_any_mac: true,
        verify_checksums: !args.ignore_checksums,
        ..Options::default()
    };
    let mut router = Router::new(ports, &cfg, opts);
    let feeds: Vec<(u16, &Capture<'_>)> = captures
        .iter()
        .enumerate()
        .map(|(i, c)| (i as u16, c))
        .collect();
    let rep = router_replay::run(&mut router, &feeds);

    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.verdicts {
        for r in &rep.received {
            writeln!(
                out,
                "{} {} {}",
                names[usize::from(r.iface)],
                r.number,
                describe(r.disposition, &names)
            )?;
        }
    }
    if let Some(dir) = &args.write_dir {
        for (i, frames) in rep.sent.iter().enumerate() {
            write_pcap(&dir.join(format!("{}.pcap", names[i])), frames)?;
        }
    }
    print_table(router.conntrack_mut(), rep.end, args.format, &mut out)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_macs_are_stable_and_locally_administered() {
        let a = port_mac("ether1");
        assert_eq!(a, port_mac("ether1"));
        assert_ne!(a, port_mac("ether2"));
        assert_eq!(a[0] & 0x03, 0x02);
    }
}
