//! TCP connection tracking, as Linux's `nf_conntrack_proto_tcp.c` (6.1 … mainline) does it.
//!
//! The state machine is the kernel's table ([`TRANSITIONS`]): packet class × old state → new
//! state, kept as data so it can be read against netfilter.md §1.3 line by line. The special cases
//! the table cannot express (§1.4: reopening a closed connection, RST validation, challenge ACKs,
//! resync after an ignored SYN, simultaneous open) and window tracking (§1.6, after Guido van
//! Rooij) follow in code, in the kernel's order.
//!
//! Bounds: one segment costs a table lookup and a constant amount of arithmetic; options were
//! already read by `wire`.

use crate::wire::{seq_after, seq_before, tcp_flags as f, TcpMeta};
use std::fmt;

/// TCP conntrack states, numbered as the kernel numbers them (`enum tcp_conntrack`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TcpState {
    None = 0,
    SynSent = 1,
    SynRecv = 2,
    Established = 3,
    FinWait = 4,
    CloseWait = 5,
    LastAck = 6,
    TimeWait = 7,
    Close = 8,
    SynSent2 = 9,
}

impl TcpState {
    const ALL: [TcpState; 10] = [
        TcpState::None,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::Established,
        TcpState::FinWait,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::SynSent2,
    ];

    /// The name `conntrack -L` prints.
    pub fn conntrack_name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }

    /// The `tcp-state` value RouterOS shows for a connection.
    pub fn routeros_name(self) -> &'static str {
        match self {
            TcpState::None => "none",
            TcpState::SynSent | TcpState::SynSent2 => "syn-sent",
            TcpState::SynRecv => "syn-received",
            TcpState::Established => "established",
            TcpState::FinWait => "fin-wait",
            TcpState::CloseWait => "close-wait",
            TcpState::LastAck => "last-ack",
            TcpState::TimeWait => "time-wait",
            TcpState::Close => "close",
        }
    }

    /// Closing states: an entry in one of them may be early-dropped even when assured
    /// (`tcp_can_early_drop`).
    pub fn is_closing(self) -> bool {
        matches!(
            self,
            TcpState::FinWait
                | TcpState::LastAck
                | TcpState::TimeWait
                | TcpState::Close
                | TcpState::CloseWait
        )
    }
}

impl fmt::Display for TcpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.conntrack_name())
    }
}

/// Packet classes (`get_conntrack_index`): the table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Class {
    Syn = 0,
    SynAck = 1,
    Fin = 2,
    Ack = 3,
    Rst = 4,
    None = 5,
}

impl Class {
    /// RST first, then SYN (with ACK: SYN/ACK), FIN, ACK — the kernel's order.
    pub fn of(flags: u8) -> Class {
        if flags & f::RST != 0 {
            Class::Rst
        } else if flags & f::SYN != 0 {
            if flags & f::ACK != 0 {
                Class::SynAck
            } else {
                Class::Syn
            }
        } else if flags & f::FIN != 0 {
            Class::Fin
        } else if flags & f::ACK != 0 {
            Class::Ack
        } else {
            Class::None
        }
    }
}

// Table cell values: a state number, or one of these two.
const IV: u8 = 10; // invalid
const IG: u8 = 11; // ignore
const NO: u8 = TcpState::None as u8;
const SS: u8 = TcpState::SynSent as u8;
const SR: u8 = TcpState::SynRecv as u8;
const ES: u8 = TcpState::Established as u8;
const FW: u8 = TcpState::FinWait as u8;
const CW: u8 = TcpState::CloseWait as u8;
const LA: u8 = TcpState::LastAck as u8;
const TW: u8 = TcpState::TimeWait as u8;
const CL: u8 = TcpState::Close as u8;
const S2: u8 = TcpState::SynSent2 as u8;
const _: () = assert!(NO == 0);

/// `tcp_conntracks[dir][class][old state]` from the kernel (netfilter.md §1.3).
#[rustfmt::skip]
pub const TRANSITIONS: [[[u8; 10]; 6]; 2] = [
    // ORIGINAL direction (from the connection's initiator)
    [
        //          NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */ [SS, SS, IG, IG, IG, IG, IG, SS, SS, S2],
        /* synack */ [IV, IV, SR, IV, IV, IV, IV, IV, IV, SR],
        /* fin    */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        /* ack    */ [ES, IV, ES, ES, CW, CW, TW, TW, CL, IV],
        /* rst    */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /* none   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
    // REPLY direction (from the responder)
    [
        //          NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */ [IV, S2, IV, IV, IV, IV, IV, SS, IV, S2],
        /* synack */ [IV, SR, IG, IG, IG, IG, IG, IG, IG, SR],
        /* fin    */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        /* ack    */ [IV, IG, SR, ES, CW, CW, TW, TW, CL, IG],
        /* rst    */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /* none   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
];

/// Per-direction window-tracking flags (`IP_CT_TCP_FLAG_*`).
pub mod dir_flags {
    pub const WINDOW_SCALE: u8 = 0x01;
    pub const SACK_PERM: u8 = 0x02;
    pub const CLOSE_INIT: u8 = 0x04;
    pub const BE_LIBERAL: u8 = 0x08;
    pub const DATA_UNACKNOWLEDGED: u8 = 0x10;
    pub const MAXACK_SET: u8 = 0x20;
}
use dir_flags as df;

// `last_flags` bits beyond the per-direction ones.
const EXP_CHALLENGE_ACK: u8 = 0x40;
const SIMULTANEOUS_OPEN: u8 = 0x80;

const MAX_WSCALE: u8 = 14;
const MAX_RETRANS: u8 = 3;

/// What one direction has sent, for window checks (`struct ip_ct_tcp_state`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    pub end: u32,
    pub maxend: u32,
    pub maxwin: u32,
    pub maxack: u32,
    pub scale: u8,
    pub flags: u8,
}

/// The TCP part of a connection entry (`struct ip_ct_tcp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConn {
    pub state: TcpState,
    pub seen: [Seen; 2],
    last_index: Class,
    last_dir: u8,
    retrans: u8,
    last_flags: u8,
    last_wscale: u8,
    last_win: u16,
    last_seq: u32,
    last_ack: u32,
    last_end: u32,
}

/// Timeout classes a TCP verdict may ask for; the engine maps them to the configured values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpTimeout {
    State(TcpState),
    MaxRetrans,
    Unacknowledged,
}

/// The settings the TCP tracker reads.
#[derive(Debug, Clone, Copy)]
pub struct TcpPolicy {
    /// `loose-tcp-tracking`: pick up connections from a mid-stream ACK.
    pub loose: bool,
    /// `nf_conntrack_tcp_be_liberal`: only out-of-window RSTs are invalid.
    pub liberal: bool,
    /// The configured timeouts, in nanoseconds.
    pub timeouts: TcpTimeouts,
}

/// Timeouts in nanoseconds, indexed by state number; then max-retrans and unacknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpTimeouts {
    pub by_state: [u64; 10],
    pub max_retrans: u64,
    pub unacknowledged: u64,
}

impl TcpTimeouts {
    pub fn get(&self, t: TcpTimeout) -> u64 {
        match t {
            TcpTimeout::State(s) => self.by_state[s as usize],
            TcpTimeout::MaxRetrans => self.max_retrans,
            TcpTimeout::Unacknowledged => self.unacknowledged,
        }
    }
}

/// What the engine must do with the connection after a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// In window: refresh the timeout to this many nanoseconds (unless `refresh` is false), and
    /// set ASSURED if asked.
    Accept {
        timeout: u64,
        refresh: bool,
        assure: bool,
    },
    /// Only reply so far was a RST: account the packet, then delete the entry.
    Kill,
    /// Passed without a state change or timer refresh (`NF_ACCEPT` from the ignore paths).
    Ignore,
    /// Invalid; if `shorten` is set, lower the entry's timeout to at most that many nanoseconds.
    Invalid {
        reason: &'static str,
        shorten: Option<u64>,
    },
    /// A SYN reopening a closed or aborted connection: delete the entry and track the SYN anew.
    Reopen,
}

/// `tcp_error`: header flag combinations the kernel accepts (after masking ECE, CWR and PSH).
pub fn valid_flags(flags: u8) -> bool {
    let flags = flags & !(f::ECE | f::CWR | f::PSH);
    matches!(
        flags,
        x if x == f::SYN
            || x == f::SYN | f::URG
            || x == f::SYN | f::ACK
            || x == f::RST
            || x == f::RST | f::ACK
            || x == f::FIN | f::ACK
            || x == f::FIN | f::ACK | f::URG
            || x == f::ACK
            || x == f::ACK | f::URG
    )
}

/// `seq + payload + SYN + FIN`.
fn segment_end(seg: &TcpMeta) -> u32 {
    seg.seq
        .wrapping_add(seg.payload_len)
        .wrapping_add(u32::from(seg.has(f::SYN)))
        .wrapping_add(u32::from(seg.has(f::FIN)))
}

/// `tcp_options`: reads window scale and SACK-permitted into a direction's state.
fn read_options(seen: &mut Seen, seg: &TcpMeta) {
    seen.scale = 0;
    seen.flags &= df::BE_LIBERAL;
    if seg.sack_perm {
        seen.flags |= df::SACK_PERM;
    }
    if let Some(ws) = seg.wscale {
        seen.scale = ws.min(MAX_WSCALE);
        seen.flags |= df::WINDOW_SCALE;
    }
}

impl TcpConn {
    /// `tcp_new`: the state for the first segment of a connection, or `None` if this segment may
    /// not create one (it is then invalid).
    pub fn new(seg: &TcpMeta, loose: bool) -> Option<TcpConn> {
        let class = Class::of(seg.flags);
        let next = TRANSITIONS[0][class as usize][TcpState::None as usize];
        if next >= IV {
            return None;
        }
        let mut seen = [Seen::default(); 2];
        let end = segment_end(seg);
        let win = u32::from(seg.window).max(1);
        if next == SS {
            seen[0].end = end;
            seen[0].maxwin = win;
            seen[0].maxend = end;
            read_options(&mut seen[0], seg);
        } else if !loose {
            return None;
        } else {
            // Mid-stream pickup: the history is lost, so assume SACK and check windows liberally,
            // as the window scale is unknown.
            seen[0].end = end;
            seen[0].maxwin = win;
            seen[0].maxend = end.wrapping_add(win);
            seen[0].flags = df::SACK_PERM | df::BE_LIBERAL;
            seen[1].flags = df::SACK_PERM | df::BE_LIBERAL;
        }
        Some(TcpConn {
            state: TcpState::None,
            seen,
            last_index: Class::None,
            last_dir: 0,
            retrans: 0,
            last_flags: 0,
            last_wscale: 0,
            last_win: 0,
            last_seq: 0,
            last_ack: 0,
            last_end: 0,
        })
    }

    /// True if both sides' unacknowledged-data flag or the state allows early drop.
    pub fn can_early_drop(&self) -> bool {
        self.state.is_closing()
    }

    /// `nf_conntrack_tcp_packet` after `tcp_error`/`tcp_new`. `dir` is 0 for the original
    /// direction, 1 for the reply; `seen_reply` and `assured` are the entry's status bits before
    /// this packet.
    pub fn packet(
        &mut self,
        dir: usize,
        seg: &TcpMeta,
        seen_reply: bool,
        assured: bool,
        policy: &TcpPolicy,
    ) -> Verdict {
        let index = Class::of(seg.flags);
        let mut old_state = self.state;
        let mut new_state = TRANSITIONS[dir][index as usize][old_state as usize];
        let ack_seq = seg.ack;

        // Special cases the table cannot express, in the kernel's order.
        let mut skip_window = false;
        if new_state == SS && old_state >= TcpState::TimeWait {
            // RFC 1122 reopen: if someone closed (FIN) or the last packet this way was a RST,
            // the old entry goes and the SYN starts a fresh one.
            let close_init = (self.seen[dir].flags | self.seen[1 - dir].flags) & df::CLOSE_INIT;
            if close_init != 0
                || (usize::from(self.last_dir) == dir && self.last_index == Class::Rst)
            {
                return Verdict::Reopen;
            }
            return self.ignore(dir, index, seg, old_state);
        }
        if new_state == IG {
            if index == Class::SynAck
                && self.last_index == Class::Syn
                && usize::from(self.last_dir) != dir
                && ack_seq == self.last_end
            {
                // This SYN/ACK answers a SYN we ignored: client and server are in sync and we
                // are not. Resync from what we noted of that SYN.
                old_state = TcpState::SynSent;
                new_state = SR;
                let ld = usize::from(self.last_dir);
                self.seen[ld].end = self.last_end;
                self.seen[ld].maxend = self.last_end;
                self.seen[ld].maxwin = u32::from(self.last_win).max(1);
                self.seen[ld].scale = self.last_wscale;
                self.last_flags &= !EXP_CHALLENGE_ACK;
                self.seen[ld].flags = self.last_flags;
                self.seen[dir] = Seen::default();
            } else {
                return self.ignore(dir, index, seg, old_state);
            }
        } else if new_state == IV {
            return Verdict::Invalid {
                reason: "invalid state transition",
                shorten: None,
            };
        } else if new_state == TW {
            if old_state == TcpState::LastAck
                && index == Class::Ack
                && usize::from(self.last_dir) != dir
                && self.last_index == Class::Syn
                && self.last_flags & EXP_CHALLENGE_ACK != 0
            {
                // RFC 5961 challenge ACK to a spurious SYN: it does not ack the last FIN.
                self.last_flags &= !EXP_CHALLENGE_ACK;
                return Verdict::Ignore;
            }
        } else if new_state == S2 {
            self.last_flags |= SIMULTANEOUS_OPEN;
        } else if new_state == SR {
            if dir == 1 && index == Class::Ack && self.last_flags & SIMULTANEOUS_OPEN != 0 {
                new_state = ES;
            }
        } else if new_state == CL && index == Class::Rst {
            match self.check_rst(dir, seg, old_state, seen_reply, assured) {
                RstCheck::Invalid => {
                    return Verdict::Invalid {
                        reason: "RST out of window",
                        shorten: None,
                    }
                }
                RstCheck::KeepState => new_state = old_state as u8,
                RstCheck::SkipWindow => skip_window = true,
                RstCheck::Check => {}
            }
        }

        if !skip_window {
            match self.in_window(dir, index, seg, policy.liberal) {
                Window::Accept => {}
                Window::Ignore => return Verdict::Ignore,
                Window::Invalid(reason) => {
                    return Verdict::Invalid {
                        reason,
                        shorten: self.shorten_on_invalid(dir, index, assured, policy),
                    }
                }
            }
        }

        // In window from here on.
        let new_state = TcpState::ALL[usize::from(new_state)];
        self.last_index = index;
        self.last_dir = dir as u8;
        self.state = new_state;
        if old_state != new_state && new_state == TcpState::FinWait {
            self.seen[dir].flags |= df::CLOSE_INIT;
        }

        let t = &policy.timeouts;
        let state_timeout = t.get(TcpTimeout::State(new_state));
        let mut timeout = if self.retrans >= MAX_RETRANS && state_timeout > t.max_retrans {
            t.max_retrans
        } else if index == Class::Rst {
            t.get(TcpTimeout::State(TcpState::Close))
        } else if (self.seen[0].flags | self.seen[1].flags) & df::DATA_UNACKNOWLEDGED != 0
            && state_timeout > t.unacknowledged
        {
            t.unacknowledged
        } else if self.last_win == 0 && state_timeout > t.max_retrans {
            t.max_retrans
        } else {
            state_timeout
        };

        let mut assure = false;
        let mut refresh = true;
        if !seen_reply {
            if seg.has(f::RST) {
                // The only answer was a RST: no connection to keep.
                return Verdict::Kill;
            }
            if index == Class::Syn && old_state == TcpState::SynSent {
                // A retransmitted SYN must not keep the entry (and its NAT) alive forever.
                refresh = false;
            }
            if new_state == TcpState::Established && timeout > t.unacknowledged {
                timeout = t.unacknowledged;
            }
        } else if !assured
            && matches!(old_state, TcpState::SynRecv | TcpState::Established)
            && new_state == TcpState::Established
        {
            assure = true;
        }
        Verdict::Accept {
            timeout,
            refresh,
            assure,
        }
    }

    /// The ignore path: note the packet for a later resync and let it pass unchanged.
    fn ignore(&mut self, dir: usize, index: Class, seg: &TcpMeta, old_state: TcpState) -> Verdict {
        self.last_index = index;
        self.last_dir = dir as u8;
        self.last_seq = seg.seq;
        self.last_end = segment_end(seg);
        self.last_win = seg.window;
        if index == Class::Syn && dir == 0 {
            // A SYN in the original direction: the server will answer with a SYN/ACK (resync) or
            // a challenge ACK. Keep its options for the resync.
            let mut opts = Seen::default();
            read_options(&mut opts, seg);
            self.last_flags = opts.flags & (df::WINDOW_SCALE | df::SACK_PERM);
            self.last_wscale = opts.scale;
            if old_state == TcpState::LastAck {
                self.last_flags |= EXP_CHALLENGE_ACK;
            }
        }
        if old_state == TcpState::SynSent && index == Class::Ack && dir == 1 {
            // Possibly a challenge ACK answering our SYN.
            self.last_ack = seg.ack;
        }
        Verdict::Ignore
    }

    fn check_rst(
        &self,
        dir: usize,
        seg: &TcpMeta,
        old_state: TcpState,
        seen_reply: bool,
        assured: bool,
    ) -> RstCheck {
        // When closing, the tuple may already be reused: skip the checks.
        if self.state.is_closing() {
            return RstCheck::SkipWindow;
        }
        let peer = &self.seen[1 - dir];
        let mut keep = false;
        if peer.flags & df::MAXACK_SET != 0 && self.last_index != Class::Syn {
            if seq_before(seg.seq, peer.maxack) {
                return RstCheck::Invalid;
            }
            let established = self.state == TcpState::Established;
            let exact = seg.seq == peer.maxack;
            let train = self.last_index == Class::Ack
                && usize::from(self.last_dir) == dir
                && seg.seq == self.last_end;
            if established && !exact && !train {
                // Inexact RST: keep the state so a challenge ACK can follow.
                keep = true;
            }
        }
        if ((seen_reply && self.last_index == Class::Syn)
            || (!assured && self.last_index == Class::Ack))
            && seg.ack == self.last_end
        {
            // RST answering a SYN or half-open ACK we let through: no window check.
            return RstCheck::SkipWindow;
        }
        if old_state == TcpState::SynSent
            && self.last_index == Class::Ack
            && self.last_dir == 1
            && seg.seq == self.last_ack
        {
            // RST answering a challenge ACK we let through.
            return RstCheck::SkipWindow;
        }
        if keep {
            RstCheck::KeepState
        } else {
            RstCheck::Check
        }
    }

    /// `nf_tcp_handle_invalid`: an assured connection whose out-of-window FIN/RST follows a
    /// FIN/RST from the other side should not linger for the established timeout.
    fn shorten_on_invalid(
        &self,
        dir: usize,
        index: Class,
        assured: bool,
        policy: &TcpPolicy,
    ) -> Option<u64> {
        if !assured || !matches!(index, Class::Fin | Class::Rst) {
            return None;
        }
        if usize::from(self.last_dir) != dir && matches!(self.last_index, Class::Fin | Class::Rst) {
            Some(policy.timeouts.unacknowledged)
        } else {
            None
        }
    }

    /// `tcp_init_sender`.
    fn init_sender(&mut self, dir: usize, seg: &TcpMeta, end: u32, win: u32) {
        let (sender, receiver) = split(&mut self.seen, dir);
        sender.end = end;
        sender.maxend = end;
        sender.maxwin = win.max(1);
        read_options(sender, seg);
        // RFC 1323: scaling only when both sides sent the option.
        if !(sender.flags & df::WINDOW_SCALE != 0 && receiver.flags & df::WINDOW_SCALE != 0) {
            sender.scale = 0;
            receiver.scale = 0;
        }
    }

    /// `tcp_in_window`.
    fn in_window(
        &mut self,
        dir: usize,
        index: Class,
        seg: &TcpMeta,
        liberal_sysctl: bool,
    ) -> Window {
        let mut seq = seg.seq;
        let mut ack = seg.ack;
        let win_raw = seg.window;
        let mut win = u32::from(win_raw);
        let mut end = segment_end(seg);
        let receiver_sack = self.seen[1 - dir].flags & df::SACK_PERM != 0;
        let mut sack = if receiver_sack {
            seg.sack.unwrap_or(ack)
        } else {
            ack
        };

        if self.seen[dir].maxwin == 0 {
            if seg.has(f::SYN) {
                self.init_sender(dir, seg, end, win);
                if !seg.has(f::ACK) {
                    // Simultaneous open.
                    return Window::Accept;
                }
            } else {
                // Mid-stream: use what this packet tells.
                let (sender, receiver) = split(&mut self.seen, dir);
                sender.end = end;
                let swin = win << sender.scale;
                sender.maxwin = swin.max(1);
                sender.maxend = end.wrapping_add(sender.maxwin);
                if receiver.maxwin == 0 {
                    receiver.end = sack;
                    receiver.maxend = sack;
                } else if sack == receiver.end.wrapping_add(1) {
                    // Likely a reply to a keepalive.
                    receiver.end = receiver.end.wrapping_add(1);
                }
            }
        } else if seg.has(f::SYN)
            && seq_after(end, self.seen[dir].end)
            && matches!(self.state, TcpState::SynSent | TcpState::SynRecv)
        {
            // RFC 793: a reinitialised sender uses higher sequence numbers; start over.
            self.init_sender(dir, seg, end, win);
        }

        let liberal = liberal_sysctl || self.seen[dir].flags & df::BE_LIBERAL != 0;
        let (sender, receiver) = split(&mut self.seen, dir);

        if !seg.has(f::ACK) || (seg.has(f::RST) && ack == 0) {
            // No ACK (or a broken stack's RST with ack 0): pretend it acked what we expect.
            ack = receiver.end;
            sack = receiver.end;
        }
        if seg.has(f::RST) && seq == 0 && self.state == TcpState::SynSent {
            // RST answering a SYN.
            seq = sender.end;
            end = sender.end;
        }

        let max_ack_window = sender.maxwin.max(66000);
        let seq_ok = seq_before(seq, sender.maxend.wrapping_add(1));
        if !seq_ok {
            let overshot = end.wrapping_sub(sender.maxend).wrapping_add(1);
            let ack_ok = seq_after(
                sack,
                receiver.end.wrapping_sub(max_ack_window).wrapping_sub(1),
            );
            let in_recv_win = receiver.maxwin != 0
                && seq_after(
                    end,
                    sender.end.wrapping_sub(receiver.maxwin).wrapping_sub(1),
                );
            if in_recv_win
                && ack_ok
                && overshot <= receiver.maxwin
                && seq_before(sack, receiver.end.wrapping_add(1))
            {
                // A sender that overshoots the receiver's window: let the data be acked later.
                sender.end = end;
                sender.flags |= df::DATA_UNACKNOWLEDGED;
                return liberal_or(liberal, Window::Ignore);
            }
            return liberal_or(
                liberal,
                Window::Invalid("SEQ is over upper bound (over the window of the receiver)"),
            );
        }
        if !seq_before(sack, receiver.end.wrapping_add(1)) {
            return liberal_or(
                liberal,
                Window::Invalid("ACK is over upper bound (ACKed data not seen yet)"),
            );
        }
        let in_recv_win = receiver.maxwin == 0
            || seq_after(
                end,
                sender.end.wrapping_sub(receiver.maxwin).wrapping_sub(1),
            );
        if !in_recv_win {
            // Already acknowledged data retransmitted.
            return liberal_or(liberal, Window::Ignore);
        }
        if !seq_after(
            sack,
            receiver.end.wrapping_sub(max_ack_window).wrapping_sub(1),
        ) {
            // ACK under the lower bound (possibly overly delayed).
            return liberal_or(liberal, Window::Ignore);
        }

        if !seg.has(f::SYN) {
            win <<= sender.scale;
        }
        let swin = win.wrapping_add(sack.wrapping_sub(ack));
        if sender.maxwin < swin {
            sender.maxwin = swin;
        }
        if seq_after(end, sender.end) {
            sender.end = end;
            sender.flags |= df::DATA_UNACKNOWLEDGED;
        }
        if seg.has(f::ACK) {
            if sender.flags & df::MAXACK_SET == 0 {
                sender.maxack = ack;
                sender.flags |= df::MAXACK_SET;
            } else if seq_after(ack, sender.maxack) {
                sender.maxack = ack;
            }
        }
        if receiver.maxwin != 0 && seq_after(end, sender.maxend) {
            receiver.maxwin = receiver
                .maxwin
                .wrapping_add(end.wrapping_sub(sender.maxend));
        }
        if seq_after(sack.wrapping_add(win), receiver.maxend.wrapping_sub(1)) {
            receiver.maxend = sack.wrapping_add(win);
            if win == 0 {
                receiver.maxend = receiver.maxend.wrapping_add(1);
            }
        }
        if ack == receiver.end {
            receiver.flags &= !df::DATA_UNACKNOWLEDGED;
        }

        if index == Class::Ack {
            if usize::from(self.last_dir) == dir
                && self.last_seq == seq
                && self.last_ack == ack
                && self.last_end == end
                && self.last_win == win_raw
            {
                self.retrans = self.retrans.saturating_add(1);
            } else {
                self.last_dir = dir as u8;
                self.last_seq = seq;
                self.last_ack = ack;
                self.last_end = end;
                self.last_win = win_raw;
                self.retrans = 0;
            }
        }
        Window::Accept
    }
}

enum RstCheck {
    Invalid,
    KeepState,
    SkipWindow,
    Check,
}

enum Window {
    Accept,
    Ignore,
    Invalid(&'static str),
}

/// `nf_tcp_log_invalid`: with liberal tracking every window failure is accepted.
fn liberal_or(liberal: bool, w: Window) -> Window {
    if liberal {
        Window::Accept
    } else {
        w
    }
}

fn split(seen: &mut [Seen; 2], dir: usize) -> (&mut Seen, &mut Seen) {
    let [a, b] = seen;
    if dir == 0 {
        (a, b)
    } else {
        (b, a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_classes_follow_the_kernel_order() {
        assert_eq!(Class::of(f::RST | f::ACK), Class::Rst);
        assert_eq!(Class::of(f::SYN | f::ACK), Class::SynAck);
        assert_eq!(Class::of(f::FIN | f::ACK), Class::Fin);
        assert_eq!(Class::of(f::ACK | f::PSH), Class::Ack);
        assert_eq!(Class::of(0), Class::None);
    }

    #[test]
    fn only_the_kernels_flag_combinations_are_valid() {
        for ok in [
            f::SYN,
            f::SYN | f::ACK,
            f::RST,
            f::RST | f::ACK,
            f::FIN | f::ACK,
            f::ACK,
            f::ACK | f::PSH,
            f::ACK | f::URG,
            f::SYN | f::ECE | f::CWR,
        ] {
            assert!(valid_flags(ok), "{ok:#x}");
        }
        for bad in [
            0,
            f::FIN,
            f::SYN | f::FIN,
            f::SYN | f::RST,
            f::PSH,
            f::FIN | f::PSH,
        ] {
            assert!(!valid_flags(bad), "{bad:#x}");
        }
    }

    #[test]
    fn table_matches_the_reference_rows() {
        use TcpState as S;
        let orig = |c: Class, s: S| TRANSITIONS[0][c as usize][s as usize];
        let reply = |c: Class, s: S| TRANSITIONS[1][c as usize][s as usize];
        assert_eq!(orig(Class::Syn, S::TimeWait), SS); // reopen (RFC 1122)
        assert_eq!(orig(Class::Ack, S::None), ES); // mid-stream pickup
        assert_eq!(orig(Class::Ack, S::SynSent), IV); // no SYN/ACK seen yet
        assert_eq!(reply(Class::Syn, S::SynSent), S2); // simultaneous open
        assert_eq!(reply(Class::Ack, S::SynSent), IG); // half-open / challenge ACK
        assert_eq!(reply(Class::SynAck, S::Established), IG);
        assert_eq!(orig(Class::Fin, S::Established), FW);
        assert_eq!(reply(Class::Ack, S::LastAck), TW);
        assert!(TRANSITIONS
            .iter()
            .all(|d| d[Class::None as usize] == [IV; 10]));
    }
}
