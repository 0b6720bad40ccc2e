//! ICMP errors about translated packets (`nf_nat_icmp_reply_translation`).
//!
//! An error about a translated packet quotes that packet as it was seen *after* translation;
//! the host it goes back to must see the packet it sent. So the quoted header gets the opposite
//! manip with the other direction's tuple as it stands (the quoted packet travelled the other
//! way), the ICMP checksum is recomputed over the whole message (the quoted bytes changed), and
//! the outer header is rewritten like any packet of the connection at this hook.
//!
//! Bounds: one pass over the ICMP message to verify its checksum and one to recompute it (a
//! router's error is at most 576 bytes by RFC 1812; any message is bounded by its frame).

use super::rewrite::{manip_pkt, Depth, Ipv4Mut, RewriteError, Rewritten};
use super::{applies, Hook, Manip};
use crate::conntrack::{status, Conn, Dir};
use crate::wire::{checksum, icmp_is_error, PROTO_ICMP};
use std::net::Ipv4Addr;

const ICMP_REDIRECT: u8 = 5;

/// Translates an ICMP error RELATED to `conn` and travelling in direction `dir` of it, in place
/// (`ip`: from the outer IPv4 header to the end). Refuses a message whose ICMP checksum is
/// wrong (the recomputation would otherwise launder it) and a redirect about a translated
/// connection, as netfilter does; the caller drops the packet on any error. Nothing is written
/// unless the whole translation can be made.
///
/// The quoted transport checksum is updated when it is within the quote: UDP always (unless 0),
/// TCP only when the quote holds the whole 20-byte header (netfilter's rule); an echo quoted in
/// the error gets its id and checksum restored.
pub fn rewrite_icmp_error(
    ip: &mut [u8],
    conn: &Conn<Ipv4Addr>,
    dir: Dir,
    hook: Hook,
) -> Result<Rewritten, RewriteError> {
    let manip = hook.manip();
    let mut outer = Ipv4Mut::new_checked(ip)?;
    if outer.proto() != PROTO_ICMP || outer.later_fragment() {
        return Err(RewriteError::NotIcmpError);
    }
    let icmp = outer.l4();
    if icmp.len() < 8 {
        return Err(RewriteError::Truncated("ICMP header"));
    }
    if !icmp_is_error(icmp[0]) {
        return Err(RewriteError::NotIcmpError);
    }
    if !checksum::verify(0, icmp) {
        return Err(RewriteError::BadIcmpChecksum);
    }
    if icmp[0] == ICMP_REDIRECT && conn.has(status::SRC_NAT | status::DST_NAT) {
        return Err(RewriteError::RedirectThroughNat);
    }
    if !applies(conn, dir, manip) {
        return Ok(Rewritten::default());
    }
    let other = conn.tuples[dir.flip().index()];
    let Some(target) = other.invert() else {
        return Ok(Rewritten::default());
    };

    let inner = {
        let mut quoted = Ipv4Mut::new_quoted(&mut icmp[8..])?;
        manip_pkt(&mut quoted, &other, manip.opposite(), Depth::Quoted)?
    };
    icmp[2..4].copy_from_slice(&[0, 0]);
    let sum = checksum::finish(checksum::sum(0, icmp));
    icmp[2..4].copy_from_slice(&sum.to_be_bytes());

    // The outer protocol is ICMP and the message an error: only the address changes.
    let addr = outer.set_addr(
        manip,
        match manip {
            Manip::Src => target.src,
            Manip::Dst => target.dst,
        },
    );
    Ok(Rewritten {
        addr,
        port: false,
        quoted: inner.addr || inner.port,
    })
}
