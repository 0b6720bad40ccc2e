//! `statewall replay FILE`: every frame of a capture through connection tracking at its capture
//! time; then the table, as `conntrack -L` prints it or as RouterOS JSON.

use dataplane::conntrack::{format, Conntrack, MAX_ENTRIES_CEILING};
use dataplane::drivers::pcap;
use dataplane::drivers::replay::{track_frame, ReplayOptions};
use dataplane::time::Instant;
use dataplane::wire::ParseOptions;
use shared::tracking::{Enabled, TrackingSettings};
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The capture file (pcap or pcapng). With `--config` and no `--iface`, it arrives on the
    /// interface named `ether1`.
    pub(crate) file: Option<PathBuf>,
    /// A RouterOS script (`.rsc`) configuring the router: the captures then go through the whole
    /// packet flow (filter, NAT, routing) instead of connection tracking alone.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// `NAME=FILE`: the capture FILE arrives on the router's interface NAME (repeatable; needs
    /// `--config`).
    #[arg(long = "iface", value_name = "NAME=FILE")]
    pub(crate) ifaces: Vec<String>,
    /// Write one pcap per egress interface into this directory, named after the interface
    /// (needs `--config`).
    #[arg(long)]
    pub(crate) write_dir: Option<PathBuf>,
    /// How to print the table.
    #[arg(long, value_enum, default_value_t = Format::Conntrack)]
    pub(crate) format: Format,
    /// First print one line per packet: its number and its connection state.
    #[arg(long)]
    pub(crate) verdicts: bool,
    /// Do not verify TCP/UDP/ICMP checksums (for captures taken where checksum offload left
    /// them unfilled).
    #[arg(long)]
    pub(crate) ignore_checksums: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub(crate) enum Format {
    /// As `conntrack -L` prints it.
    Conntrack,
    /// RouterOS `/ip firewall connection` entries, as the REST API returns them.
    Json,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{path}: {source}")]
    Read { path: String, source: io::Error },
    #[error("{path}: {source}")]
    Capture {
        path: String,
        source: pcap::CaptureError,
    },
    #[error("writing output: {0}")]
    Output(#[from] io::Error),
    #[error("encoding JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Usage(String),
    #[error("{path}: the configuration has {} error(s):\n{}", .errors.len(), .errors.join("\n"))]
    Config { path: String, errors: Vec<String> },
    #[error("writing {path}: {message}")]
    WritePcap { path: String, message: String },
}

pub fn run(args: &Args) -> Result<(), ReplayError> {
    if args.config.is_some() {
        return crate::router_replay::run(args);
    }
    if !args.ifaces.is_empty() || args.write_dir.is_some() {
        return Err(ReplayError::Usage(
            "--iface and --write-dir replay through the router: give its --config".into(),
        ));
    }
    let Some(file) = &args.file else {
        return Err(ReplayError::Usage("give a capture file".into()));
    };
    let path = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|source| ReplayError::Read {
        path: path.clone(),
        source,
    })?;
    let capture = pcap::read_capture(&bytes).map_err(|source| ReplayError::Capture {
        path: path.clone(),
        source,
    })?;
    let opts = ReplayOptions {
        parse: ParseOptions {
            verify_checksums: !args.ignore_checksums,
        },
    };
    // Without a configuration every packet is tracked, as at netfilter's prerouting hook.
    let settings = TrackingSettings {
        enabled: Enabled::Yes,
        ..TrackingSettings::default()
    };
    let mut ct = Conntrack::new(settings, MAX_ENTRIES_CEILING);
    let out = io::stdout();
    let mut out = io::BufWriter::new(out.lock());
    let mut now = Instant::ZERO;
    for frame in &capture.frames {
        let v = track_frame(&mut ct, frame, opts);
        now = now.max(Instant::from_nanos(frame.timestamp_ns));
        if args.verdicts {
            match v.reason {
                Some(reason) => writeln!(out, "{} {} ({reason})", frame.number, v.word)?,
                None => writeln!(out, "{} {}", frame.number, v.word)?,
            }
        }
    }
    print_table(&mut ct, now, args.format, &mut out)?;
    out.flush()?;
    Ok(())
}

/// The table at `now`, as `conntrack -L` lines or RouterOS JSON.
pub(crate) fn print_table(
    ct: &mut Conntrack,
    now: Instant,
    format: Format,
    out: &mut impl Write,
) -> Result<(), ReplayError> {
    ct.expire(now);
    let mut entries: Vec<_> = ct.entries(now).collect();
    entries.sort_by_key(|c| c.id);
    match format {
        Format::Conntrack => {
            for c in &entries {
                writeln!(out, "{}", format::conntrack_line(c, now))?;
            }
            out.flush()?;
            eprintln!("statewall: {} flow entries have been shown.", entries.len());
        }
        Format::Json => {
            let rows: Vec<_> = entries
                .iter()
                .map(|c| format::routeros_entry(c, now))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &rows)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
