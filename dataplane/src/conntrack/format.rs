//! The table as people read it: `conntrack -L` lines (netfilter.md §6.1) and RouterOS entries.

use super::entry::{status, Conn, ProtoState};
use super::tuple::{Address, Dir, Tuple};
use crate::time::Instant;
use crate::wire::{PROTO_ICMP, PROTO_TCP};
use shared::connection::{format_id, ConnectionEntry};
use shared::duration::Duration;
use std::fmt::Write;

/// The protocol name `conntrack` prints.
pub fn proto_name(proto: u8) -> &'static str {
    match proto {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "icmpv6",
        132 => "sctp",
        136 => "udplite",
        _ => "unknown",
    }
}

fn write_tuple<A: Address>(out: &mut String, t: &Tuple<A>) {
    let _ = write!(out, "src={} dst={} ", t.src, t.dst);
    if t.proto == PROTO_ICMP {
        let _ = write!(
            out,
            "type={} code={} id={} ",
            t.icmp_type(),
            t.icmp_code(),
            t.sport
        );
    } else if t.has_ports() {
        let _ = write!(out, "sport={} dport={} ", t.sport, t.dport);
    }
}

/// One `conntrack -L` line (with accounting on, as `nf_conntrack_acct=1`).
pub fn conntrack_line<A: Address>(c: &Conn<A>, now: Instant) -> String {
    let mut out = String::with_capacity(200);
    let proto = c.tuples[0].proto;
    let _ = write!(
        out,
        "{:<8} {} {} ",
        proto_name(proto),
        proto,
        c.time_left(now).as_secs()
    );
    if let ProtoState::Tcp(t) = &c.proto {
        let _ = write!(out, "{} ", t.state.conntrack_name());
    }
    write_tuple(&mut out, &c.tuples[0]);
    let _ = write!(out, "packets={} bytes={} ", c.packets[0], c.bytes[0]);
    if !c.has(status::SEEN_REPLY) {
        out.push_str("[UNREPLIED] ");
    }
    write_tuple(&mut out, &c.tuples[1]);
    let _ = write!(out, "packets={} bytes={} ", c.packets[1], c.bytes[1]);
    if c.has(status::ASSURED) {
        out.push_str("[ASSURED] ");
    }
    out.push_str("mark=0 use=1");
    out
}

fn address<A: Address>(addr: A, port: u16, with_port: bool) -> String {
    if with_port {
        format!("{addr}:{port}")
    } else {
        addr.to_string()
    }
}

/// The entry as `/ip firewall connection` shows it.
pub fn routeros_entry<A: Address>(c: &Conn<A>, now: Instant) -> ConnectionEntry {
    let o = &c.tuples[0];
    let r = &c.tuples[1];
    let ports = o.has_ports();
    let icmp = o.proto == PROTO_ICMP;
    let rate = |d: Dir| u64::from(c.rate.bytes_per_sec(now, d)) * 8;
    ConnectionEntry {
        id: format_id(c.id),
        protocol: match proto_name(o.proto) {
            "unknown" => o.proto.to_string(),
            name => name.to_string(),
        },
        src_address: address(o.src, o.sport, ports),
        dst_address: address(o.dst, o.dport, ports),
        reply_src_address: address(r.src, r.sport, ports),
        reply_dst_address: address(r.dst, r.dport, ports),
        tcp_state: match &c.proto {
            ProtoState::Tcp(t) if o.proto == PROTO_TCP => Some(t.state.routeros_name().to_string()),
            _ => None,
        },
        icmp_type: icmp.then(|| u64::from(o.icmp_type())),
        icmp_code: icmp.then(|| u64::from(o.icmp_code())),
        icmp_id: icmp.then(|| u64::from(o.sport)),
        timeout: Duration::from_std(c.time_left(now)),
        orig_packets: c.packets[0],
        orig_bytes: c.bytes[0],
        repl_packets: c.packets[1],
        repl_bytes: c.bytes[1],
        orig_rate: rate(Dir::Orig),
        repl_rate: rate(Dir::Reply),
        seen_reply: c.has(status::SEEN_REPLY),
        assured: c.has(status::ASSURED),
        confirmed: c.has(status::CONFIRMED),
        dying: c.has(status::DYING),
        srcnat: c.has(status::SRC_NAT),
        dstnat: c.has(status::DST_NAT),
        expected: false,
        fasttrack: false,
    }
}
