//! Capture files in, timestamped frames out.
//!
//! Reads classic pcap (either byte order, microsecond or nanosecond timestamps) and pcapng
//! (any number of sections and interfaces; enhanced, simple and the obsolete packet blocks) from a
//! byte slice. Frames borrow from that slice; nothing is copied.
//!
//! The `pcap-file` crate's slice parsers do the container framing, byte-order detection and the
//! pcapng section and interface bookkeeping (including the interface options). The few fixed
//! packet-record fields are decoded here, because pcap-file 2.0.0's packet blocks return
//! timestamps as raw ticks labelled as nanoseconds (it ignores `if_tsresol`), reject packet
//! option lists that omit `opt_endofopt`, and read the obsolete packet block's timestamp in the
//! wrong word order on little-endian files. (Section and interface blocks still go through
//! pcap-file, so an option list there without `opt_endofopt` is reported as corrupt.)
//!
//! Input is untrusted: no input can make this module panic, and every error names the packet
//! (1-based) and the byte offset of the record where the file broke.
//!
//! Bounds: work is linear in the file size; [`read_capture`] allocates one [`Frame`] per packet
//! (the frame data itself is borrowed), [`frames`] allocates nothing per packet.

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgParser;
use pcap_file::{Endianness, PcapError};

/// The largest captured length accepted, as in libpcap (`MAXIMUM_SNAPLEN`). A larger length
/// field is corruption, not a big packet.
pub const MAX_CAPTURED_LEN: u32 = 262_144;

const PCAP_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;
const BLOCK_MIN_LEN: usize = 12;

const SECTION_HEADER_BLOCK: u32 = 0x0A0D_0D0A;
const INTERFACE_DESCRIPTION_BLOCK: u32 = 1;
const PACKET_BLOCK: u32 = 2;
const SIMPLE_PACKET_BLOCK: u32 = 3;
const ENHANCED_PACKET_BLOCK: u32 = 6;

/// The link-layer header at the start of each frame (the tcpdump.org `LINKTYPE_*` registry).
///
/// The engine speaks Ethernet; the others are reported so the caller can strip or reject them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// `LINKTYPE_ETHERNET` (1): DIX Ethernet II / 802.3.
    Ethernet,
    /// `LINKTYPE_LINUX_SLL` (113): Linux "cooked" capture v1, 16-byte header (`tcpdump -i any`).
    LinuxSll,
    /// `LINKTYPE_LINUX_SLL2` (276): Linux "cooked" capture v2, 20-byte header.
    LinuxSll2,
    /// `LINKTYPE_RAW` (101): a bare IP packet, version 4 or 6 by its first nibble.
    RawIp,
    /// `LINKTYPE_IPV4` (228): a bare IPv4 packet.
    Ipv4,
    /// Any other link type, by its registry number.
    Other(u32),
}

impl LinkType {
    /// Maps a `LINKTYPE_*` number to a link type.
    pub fn from_code(code: u32) -> Self {
        match code {
            1 => LinkType::Ethernet,
            113 => LinkType::LinuxSll,
            276 => LinkType::LinuxSll2,
            101 => LinkType::RawIp,
            228 => LinkType::Ipv4,
            other => LinkType::Other(other),
        }
    }

    /// The `LINKTYPE_*` number.
    pub fn code(self) -> u32 {
        match self {
            LinkType::Ethernet => 1,
            LinkType::LinuxSll => 113,
            LinkType::LinuxSll2 => 276,
            LinkType::RawIp => 101,
            LinkType::Ipv4 => 228,
            LinkType::Other(code) => code,
        }
    }
}

/// Which container the frames came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureFormat {
    /// Classic libpcap format.
    Pcap {
        /// Header and record fields are big-endian (magic `a1 b2 ..`).
        big_endian: bool,
        /// Timestamps carry nanoseconds (magic `..3c 4d`) rather than microseconds.
        nanosecond: bool,
        /// The snapshot length from the file header.
        snaplen: u32,
    },
    /// pcapng; resolution, link type and snaplen are per interface.
    PcapNg,
}

/// One captured frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// 1-based position among the file's packets (pcapng's non-packet blocks are not counted).
    pub number: u64,
    /// Byte offset of this packet's record (pcap) or block (pcapng) in the file.
    pub offset: usize,
    /// Capture time, nanoseconds since the Unix epoch. A pcapng simple packet block has no
    /// timestamp; it inherits the previous frame's (0 if it is the first).
    pub timestamp_ns: u64,
    /// Link-layer header type of `data`.
    pub link_type: LinkType,
    /// pcapng interface id (index of the Interface Description Block in its section); 0 for pcap.
    pub interface: u32,
    /// Length of the frame on the wire.
    pub original_len: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
    /// `data` is shorter than `original_len`: the capture's snaplen cut the frame.
    pub snapped: bool,
}

/// A whole capture file, read eagerly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture<'a> {
    /// The container format.
    pub format: CaptureFormat,
    /// Every frame, in file order.
    pub frames: Vec<Frame<'a>>,
}

impl Capture<'_> {
    /// How many frames the snaplen cut short.
    pub fn snapped(&self) -> usize {
        self.frames.iter().filter(|f| f.snapped).count()
    }
}

/// Why a capture file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    /// Zero bytes.
    #[error("empty file: no capture header")]
    Empty,
    /// The first four bytes are no pcap or pcapng magic.
    #[error("not a pcap or pcapng file: unknown magic {}{}", hex4(.found), magic_hint(.found))]
    UnknownMagic {
        /// The first four bytes of the file.
        found: [u8; 4],
    },
    /// The file ends inside its header.
    #[error("truncated file header: {what} needs {need} bytes, the file has {have}")]
    TruncatedHeader {
        /// Which header.
        what: &'static str,
        /// Bytes the header needs (as declared, for a pcapng section header).
        need: u64,
        /// Bytes present.
        have: usize,
    },
    /// The file header is present but invalid.
    #[error("corrupt file header: {0}")]
    BadHeader(String),
    /// A packet record (or, in pcapng, the block before the next packet) is broken.
    #[error("packet {packet} at byte offset {offset}: {problem}")]
    Record {
        /// 1-based number of the packet being read (for a non-packet pcapng block: of the next one).
        packet: u64,
        /// Byte offset of the record or block in the file.
        offset: usize,
        /// What is wrong with it.
        problem: RecordProblem,
    },
}

/// What is wrong with one record or block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordProblem {
    /// Fewer bytes left than a record or block header needs.
    #[error("truncated {what} header (needs {need} bytes, {remain} remain)")]
    TruncatedHeader {
        /// "record" (pcap) or "block" (pcapng).
        what: &'static str,
        /// Header size.
        need: usize,
        /// Bytes left in the file.
        remain: usize,
    },
    /// The length field points past the end of the file.
    #[error("truncated {what} (header says {declared} bytes, {remain} remain)")]
    Truncated {
        /// "record" (pcap: the captured length, after the 16-byte record header) or "block"
        /// (pcapng: the block total length, from the block start).
        what: &'static str,
        /// The length the header declares.
        declared: u64,
        /// The bytes actually left.
        remain: usize,
    },
    /// More bytes captured than were on the wire.
    #[error("captured length {captured} exceeds original length {original}")]
    CapturedExceedsOriginal {
        /// Captured length field.
        captured: u32,
        /// Original length field.
        original: u32,
    },
    /// A captured length no real capture produces.
    #[error("captured length {0} exceeds the {MAX_CAPTURED_LEN}-byte maximum")]
    TooLong(u32),
    /// The sub-second part of a pcap timestamp is not below one second.
    #[error("timestamp fraction {0} is not below one second")]
    BadTimestampFraction(u32),
    /// The timestamp is before 1970 or after the year 2554 once converted.
    #[error("timestamp does not fit in u64 nanoseconds since the epoch")]
    TimestampOverflow,
    /// A pcapng packet refers to an interface not described in its section.
    #[error("packet names interface {id}, but the section describes {known}")]
    UnknownInterface {
        /// The interface id in the packet.
        id: u32,
        /// How many interfaces the section has described so far.
        known: usize,
    },
    /// An interface's `if_tsresol` cannot be represented.
    #[error("interface {interface}: unsupported if_tsresol {value:#04x}")]
    BadTsResol {
        /// The interface id.
        interface: usize,
        /// The option's value.
        value: u8,
    },
    /// A pcapng block is malformed.
    #[error("{block}: {detail}")]
    CorruptBlock {
        /// Block type name.
        block: &'static str,
        /// What the parser found.
        detail: String,
    },
}

fn hex4(b: &[u8; 4]) -> String {
    format!("{:02x} {:02x} {:02x} {:02x}", b[0], b[1], b[2], b[3])
}

fn magic_hint(b: &[u8; 4]) -> &'static str {
    match b {
        [0x1f, 0x8b, ..] => " (gzip: decompress it first)",
        [0xa1, 0xb2, 0xcd, 0x34] | [0x34, 0xcd, 0xb2, 0xa1] => {
            " (Kuznetzov's modified pcap: not supported)"
        }
        _ => "",
    }
}

/// Reads a whole capture file.
///
/// Stops at the first broken record and returns its error: replaying the frames before a
/// corruption would silently test less than the file claims.
pub fn read_capture(bytes: &[u8]) -> Result<Capture<'_>, CaptureError> {
    let it = frames(bytes)?;
    let format = it.format();
    let frames = it.collect::<Result<Vec<_>, _>>()?;
    Ok(Capture { format, frames })
}

/// Opens a capture file for reading frame by frame.
///
/// The header is checked here; each record is checked as the iterator reaches it. The iterator
/// ends after the first error.
pub fn frames(bytes: &[u8]) -> Result<Frames<'_>, CaptureError> {
    let magic: [u8; 4] = match bytes {
        [] => return Err(CaptureError::Empty),
        [a, b, c, d, ..] => [*a, *b, *c, *d],
        short => {
            return Err(CaptureError::TruncatedHeader {
                what: "magic number",
                need: 4,
                have: short.len(),
            })
        }
    };
    let state = match magic {
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => open_pcap(bytes)?,
        [0x0a, 0x0d, 0x0d, 0x0a] => open_pcapng(bytes)?,
        found => return Err(CaptureError::UnknownMagic { found }),
    };
    Ok(Frames {
        bytes,
        pos: bytes.len() - state.1.len(),
        state: state.0,
        read: 0,
        last_ts: 0,
        done: false,
    })
}

fn open_pcap(bytes: &[u8]) -> Result<(State, &[u8]), CaptureError> {
    let (rest, parser) = PcapParser::new(bytes).map_err(|e| match e {
        PcapError::IncompleteBuffer => CaptureError::TruncatedHeader {
            what: "pcap file header",
            need: PCAP_HEADER_LEN as u64,
            have: bytes.len(),
        },
        other => CaptureError::BadHeader(other.to_string()),
    })?;
    let header = parser.header();
    // The upper bits of the link-type field carry FCS information (pcap spec, "LinkType").
    let link_type = LinkType::from_code(u32::from(header.datalink) & 0xFFFF);
    let state = State::Pcap {
        parser,
        big_endian: header.endianness == Endianness::Big,
        nanosecond: header.ts_resolution == pcap_file::TsResolution::NanoSecond,
        snaplen: header.snaplen,
        link_type,
    };
    Ok((state, rest))
}

fn open_pcapng(bytes: &[u8]) -> Result<(State, &[u8]), CaptureError> {
    let (rest, parser) = PcapNgParser::new(bytes).map_err(|e| match e {
        PcapError::IncompleteBuffer => CaptureError::TruncatedHeader {
            what: "pcapng section header block",
            need: peek_block_len(bytes, true).unwrap_or(BLOCK_MIN_LEN as u64),
            have: bytes.len(),
        },
        other => CaptureError::BadHeader(format!("section header block: {}", detail(&other))),
    })?;
    let state = State::PcapNg {
        parser,
        interfaces: Vec::new(),
    };
    Ok((state, rest))
}

/// The frames of a capture file, in file order. Made by [`frames`].
pub struct Frames<'a> {
    bytes: &'a [u8],
    /// Offset of the next record.
    pos: usize,
    state: State,
    /// Packets returned so far.
    read: u64,
    /// Timestamp of the previous frame, for pcapng simple packet blocks.
    last_ts: u64,
    done: bool,
}

enum State {
    Pcap {
        parser: PcapParser,
        big_endian: bool,
        nanosecond: bool,
        snaplen: u32,
        link_type: LinkType,
    },
    PcapNg {
        parser: PcapNgParser,
        /// The current section's interfaces, in id order.
        interfaces: Vec<Interface>,
    },
}

/// What a pcapng Interface Description Block says about its packets.
#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: LinkType,
    snaplen: u32,
    resolution: TsResolution,
    /// `if_tsoffset`: seconds to add to every timestamp.
    offset_s: i64,
}

/// A pcapng timestamp unit: 10^-n or 2^-n seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TsResolution {
    Decimal(u32),
    Binary(u32),
}

impl TsResolution {
    /// Decodes `if_tsresol`; `None` when the unit cannot be computed in 128 bits.
    fn from_option(value: u8) -> Option<Self> {
        let exp = u32::from(value & 0x7f);
        if value & 0x80 == 0 {
            // 10^38 is the largest power of ten below 2^128.
            (exp <= 38).then_some(TsResolution::Decimal(exp))
        } else {
            Some(TsResolution::Binary(exp))
        }
    }

    /// Converts ticks to nanoseconds; `None` past u64.
    fn to_ns(self, ticks: u64) -> Option<u64> {
        let t = u128::from(ticks);
        let ns = match self {
            TsResolution::Decimal(e) if e <= 9 => t * 10u128.pow(9 - e),
            TsResolution::Decimal(e) => t / 10u128.pow(e - 9),
            // ticks · 10^9 < 2^94, so the product cannot overflow; a shift by up to 127 is defined.
            TsResolution::Binary(k) => (t * 1_000_000_000) >> k,
        };
        u64::try_from(ns).ok()
    }
}

impl<'a> Frames<'a> {
    /// The container format of this file.
    pub fn format(&self) -> CaptureFormat {
        match &self.state {
            State::Pcap {
                big_endian,
                nanosecond,
                snaplen,
                ..
            } => CaptureFormat::Pcap {
                big_endian: *big_endian,
                nanosecond: *nanosecond,
                snaplen: *snaplen,
            },
            State::PcapNg { .. } => CaptureFormat::PcapNg,
        }
    }

    fn fail(&mut self, problem: RecordProblem) -> CaptureError {
        self.done = true;
        CaptureError::Record {
            packet: self.read + 1,
            offset: self.pos,
            problem,
        }
    }

    fn next_pcap(&mut self) -> Option<Result<Frame<'a>, CaptureError>> {
        let State::Pcap {
            parser,
            big_endian,
            nanosecond,
            link_type,
            ..
        } = &self.state
        else {
            return None;
        };
        let (big_endian, nanosecond, link_type) = (*big_endian, *nanosecond, *link_type);
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return None;
        }
        // Check the length fields before pcap-file does, so the error can say what they claim.
        if rest.len() < PCAP_RECORD_HEADER_LEN {
            return Some(Err(self.fail(RecordProblem::TruncatedHeader {
                what: "record",
                need: PCAP_RECORD_HEADER_LEN,
                remain: rest.len(),
            })));
        }
        let field = |at| read_u32(rest, at, big_endian).unwrap_or(0);
        let (frac, captured, original) = (field(4), field(8), field(12));
        let body = rest.len() - PCAP_RECORD_HEADER_LEN;
        let frac_limit = if nanosecond { 1_000_000_000 } else { 1_000_000 };
        let problem = if captured > MAX_CAPTURED_LEN {
            Some(RecordProblem::TooLong(captured))
        } else if captured as usize > body {
            Some(RecordProblem::Truncated {
                what: "record",
                declared: u64::from(captured),
                remain: body,
            })
        } else if captured > original {
            Some(RecordProblem::CapturedExceedsOriginal { captured, original })
        } else if frac >= frac_limit {
            Some(RecordProblem::BadTimestampFraction(frac))
        } else {
            None
        };
        if let Some(problem) = problem {
            return Some(Err(self.fail(problem)));
        }
        let (next, raw) = match parser.next_raw_packet(rest) {
            Ok(ok) => ok,
            Err(e) => {
                let problem = RecordProblem::CorruptBlock {
                    block: "packet record",
                    detail: detail(&e),
                };
                return Some(Err(self.fail(problem)));
            }
        };
        let frac_ns = if nanosecond {
            raw.ts_frac
        } else {
            raw.ts_frac * 1000
        };
        // u32::MAX seconds · 10^9 + 10^9 < 2^64: cannot overflow.
        let timestamp_ns = u64::from(raw.ts_sec) * 1_000_000_000 + u64::from(frac_ns);
        let data: &'a [u8] =
            rest.get(PCAP_RECORD_HEADER_LEN..PCAP_RECORD_HEADER_LEN + raw.data.len())?;
        Some(Ok(self.emit(
            next,
            timestamp_ns,
            link_type,
            0,
            original,
            data,
        )))
    }

    /// Records a returned frame and advances past its record.
    fn emit(
        &mut self,
        next: &[u8],
        timestamp_ns: u64,
        link_type: LinkType,
        interface: u32,
        original_len: u32,
        data: &'a [u8],
    ) -> Frame<'a> {
        self.read += 1;
        self.last_ts = timestamp_ns;
        let frame = Frame {
            number: self.read,
            offset: self.pos,
            timestamp_ns,
            link_type,
            interface,
            original_len,
            data,
            snapped: data.len() < original_len as usize,
        };
        self.pos = self.bytes.len() - next.len();
        frame
    }

    fn next_pcapng(&mut self) -> Option<Result<Frame<'a>, CaptureError>> {
        loop {
            let bytes: &'a [u8] = self.bytes;
            let rest: &'a [u8] = bytes.get(self.pos..).unwrap_or_default();
            if rest.is_empty() {
                return None;
            }
            let State::PcapNg { parser, .. } = &self.state else {
                return None;
            };
            let big_endian = parser.section().endianness == Endianness::Big;
            if rest.len() < BLOCK_MIN_LEN {
                return Some(Err(self.fail(RecordProblem::TruncatedHeader {
                    what: "block",
                    need: BLOCK_MIN_LEN,
                    remain: rest.len(),
                })));
            }
            if let Some(declared) = peek_block_len(rest, big_endian) {
                if declared > rest.len() as u64 {
                    return Some(Err(self.fail(RecordProblem::Truncated {
                        what: "block",
                        declared,
                        remain: rest.len(),
                    })));
                }
            }
            let block_type = read_u32(rest, 0, big_endian).unwrap_or(0);
            let State::PcapNg { parser, interfaces } = &mut self.state else {
                return None;
            };
            let (next, raw) = match parser.next_raw_block(rest) {
                Ok(ok) => ok,
                Err(e) => {
                    let problem = RecordProblem::CorruptBlock {
                        block: block_name(block_type),
                        detail: detail(&e),
                    };
                    return Some(Err(self.fail(problem)));
                }
            };
            let body: &'a [u8] = rest.get(8..8 + raw.body.len()).unwrap_or_default();
            match raw.type_ {
                SECTION_HEADER_BLOCK => interfaces.clear(),
                INTERFACE_DESCRIPTION_BLOCK => {
                    let id = interfaces.len();
                    let described = parser.interfaces().last().map(|idb| describe(idb, id));
                    match described {
                        Some(Ok(iface)) => interfaces.push(iface),
                        Some(Err(problem)) => return Some(Err(self.fail(problem))),
                        None => return None,
                    }
                }
                ENHANCED_PACKET_BLOCK | PACKET_BLOCK => {
                    let id = if raw.type_ == PACKET_BLOCK {
                        read_u16(body, 0, big_endian).map(u32::from)
                    } else {
                        read_u32(body, 0, big_endian)
                    }
                    .unwrap_or(0);
                    let iface = interfaces.get(id as usize).copied().ok_or(
                        RecordProblem::UnknownInterface {
                            id,
                            known: interfaces.len(),
                        },
                    );
                    return Some(self.packet_block(raw.type_, body, next, big_endian, id, iface));
                }
                SIMPLE_PACKET_BLOCK => {
                    let iface = interfaces
                        .first()
                        .copied()
                        .ok_or(RecordProblem::UnknownInterface { id: 0, known: 0 });
                    return Some(self.simple_packet_block(body, next, big_endian, iface));
                }
                // Name resolution, interface statistics, journal, custom, unknown: not frames.
                _ => {}
            }
            self.pos = self.bytes.len() - next.len();
        }
    }

    /// An Enhanced Packet Block, or the obsolete Packet Block (same fixed part, except that the
    /// interface id is 16 bits followed by a 16-bit drop count).
    fn packet_block(
        &mut self,
        block_type: u32,
        body: &'a [u8],
        next: &'a [u8],
        big_endian: bool,
        interface: u32,
        iface: Result<Interface, RecordProblem>,
    ) -> Result<Frame<'a>, CaptureError> {
        let name = block_name(block_type);
        let fixed = |at| read_u32(body, at, big_endian);
        let (Some(ts_high), Some(ts_low), Some(captured), Some(original)) =
            (fixed(4), fixed(8), fixed(12), fixed(16))
        else {
            return Err(self.fail(RecordProblem::CorruptBlock {
                block: name,
                detail: format!("body is {} bytes, the fixed part needs 20", body.len()),
            }));
        };
        let iface = iface.map_err(|problem| self.fail(problem))?;
        if captured > MAX_CAPTURED_LEN {
            return Err(self.fail(RecordProblem::TooLong(captured)));
        }
        let Some(data) = body.get(20..20 + captured as usize) else {
            return Err(self.fail(RecordProblem::CorruptBlock {
                block: name,
                detail: format!(
                    "captured length {captured} does not fit in the {}-byte body",
                    body.len()
                ),
            }));
        };
        if captured > original {
            return Err(self.fail(RecordProblem::CapturedExceedsOriginal { captured, original }));
        }
        let ticks = (u64::from(ts_high) << 32) | u64::from(ts_low);
        let Some(timestamp_ns) = iface
            .resolution
            .to_ns(ticks)
            .and_then(|ns| apply_offset(ns, iface.offset_s))
        else {
            return Err(self.fail(RecordProblem::TimestampOverflow));
        };
        Ok(self.emit(
            next,
            timestamp_ns,
            iface.link_type,
            interface,
            original,
            data,
        ))
    }

    /// A Simple Packet Block: interface 0, no timestamp, captured length implied by the block
    /// length, the original length and interface 0's snaplen.
    fn simple_packet_block(
        &mut self,
        body: &'a [u8],
        next: &'a [u8],
        big_endian: bool,
        iface: Result<Interface, RecordProblem>,
    ) -> Result<Frame<'a>, CaptureError> {
        let iface = iface.map_err(|problem| self.fail(problem))?;
        let Some(original) = read_u32(body, 0, big_endian) else {
            return Err(self.fail(RecordProblem::CorruptBlock {
                block: block_name(SIMPLE_PACKET_BLOCK),
                detail: "body shorter than the 4-byte original length".into(),
            }));
        };
        let padded = body.get(4..).unwrap_or_default();
        let mut captured = padded.len().min(original as usize);
        if iface.snaplen != 0 {
            captured = captured.min(iface.snaplen as usize);
        }
        let data = padded.get(..captured).unwrap_or_default();
        let ts = self.last_ts;
        Ok(self.emit(next, ts, iface.link_type, 0, original, data))
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<Frame<'a>, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = match self.state {
            State::Pcap { .. } => self.next_pcap(),
            State::PcapNg { .. } => self.next_pcapng(),
        };
        if item.is_none() {
            self.done = true;
        }
        item
    }
}

impl std::iter::FusedIterator for Frames<'_> {}

/// Reads what an Interface Description Block says about its packets; `id` is its index.
fn describe(idb: &InterfaceDescriptionBlock<'_>, id: usize) -> Result<Interface, RecordProblem> {
    let mut resolution = TsResolution::Decimal(6);
    let mut offset_s = 0;
    for option in &idb.options {
        match option {
            InterfaceDescriptionOption::IfTsResol(value) => {
                resolution =
                    TsResolution::from_option(*value).ok_or(RecordProblem::BadTsResol {
                        interface: id,
                        value: *value,
                    })?;
            }
            // The spec defines if_tsoffset as a signed count of seconds; pcap-file reads it unsigned.
            InterfaceDescriptionOption::IfTsOffset(s) => offset_s = *s as i64,
            _ => {}
        }
    }
    Ok(Interface {
        link_type: LinkType::from_code(u32::from(idb.linktype)),
        snaplen: idb.snaplen,
        resolution,
        offset_s,
    })
}

fn apply_offset(ns: u64, offset_s: i64) -> Option<u64> {
    let total = i128::from(ns) + i128::from(offset_s) * 1_000_000_000;
    u64::try_from(total).ok()
}

fn read_u32(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let raw: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

fn read_u16(b: &[u8], at: usize, big_endian: bool) -> Option<u16> {
    let raw: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
    Some(if big_endian {
        u16::from_be_bytes(raw)
    } else {
        u16::from_le_bytes(raw)
    })
}

/// The block total length of the pcapng block at the start of `b`. A section header block
/// carries its own byte order (its magic at offset 8), every other block the section's.
fn peek_block_len(b: &[u8], section_big_endian: bool) -> Option<u64> {
    let big_endian = if b.get(..4)? == [0x0a, 0x0d, 0x0d, 0x0a] {
        match b.get(8..12)? {
            [0x1a, 0x2b, 0x3c, 0x4d] => true,
            [0x4d, 0x3c, 0x2b, 0x1a] => false,
            _ => return None,
        }
    } else {
        section_big_endian
    };
    read_u32(b, 4, big_endian).map(u64::from)
}

fn block_name(block_type: u32) -> &'static str {
    match block_type {
        SECTION_HEADER_BLOCK => "section header block",
        INTERFACE_DESCRIPTION_BLOCK => "interface description block",
        PACKET_BLOCK => "packet block",
        SIMPLE_PACKET_BLOCK => "simple packet block",
        4 => "name resolution block",
        5 => "interface statistics block",
        ENHANCED_PACKET_BLOCK => "enhanced packet block",
        _ => "block",
    }
}

/// pcap-file's message without its generic prefix.
fn detail(e: &PcapError) -> String {
    match e {
        PcapError::InvalidField(what) => (*what).to_string(),
        PcapError::IncompleteBuffer => "ends early".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Little-endian, microsecond pcap with two Ethernet packets; the second is cut by snaplen.
    #[rustfmt::skip]
    const PCAP_LE_USEC: [u8; 62] = [
        0xd4, 0xc3, 0xb2, 0xa1,   // magic: little-endian, microseconds
        0x02, 0x00, 0x04, 0x00,   // version 2.4
        0x00, 0x00, 0x00, 0x00,   // thiszone
        0x00, 0x00, 0x00, 0x00,   // sigfigs
        0xff, 0xff, 0x00, 0x00,   // snaplen 65535
        0x01, 0x00, 0x00, 0x00,   // LINKTYPE_ETHERNET
        // packet 1, offset 24
        0x00, 0xe1, 0xf5, 0x05,   // ts_sec 100000000
        0x40, 0xe2, 0x01, 0x00,   // ts_usec 123456
        0x04, 0x00, 0x00, 0x00,   // incl_len 4
        0x04, 0x00, 0x00, 0x00,   // orig_len 4
        0xde, 0xad, 0xbe, 0xef,
        // packet 2, offset 44
        0x01, 0xe1, 0xf5, 0x05,   // ts_sec 100000001
        0x3f, 0x42, 0x0f, 0x00,   // ts_usec 999999
        0x02, 0x00, 0x00, 0x00,   // incl_len 2
        0x3c, 0x00, 0x00, 0x00,   // orig_len 60
        0xca, 0xfe,
    ];

    /// The same two packets, big-endian with nanosecond timestamps.
    #[rustfmt::skip]
    const PCAP_BE_NSEC: [u8; 62] = [
        0xa1, 0xb2, 0x3c, 0x4d,   // magic: big-endian, nanoseconds
        0x00, 0x02, 0x00, 0x04,
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0xff, 0xff,
        0x00, 0x00, 0x00, 0x01,
        0x05, 0xf5, 0xe1, 0x00,   // ts_sec 100000000
        0x07, 0x5b, 0xcd, 0x15,   // ts_nsec 123456789
        0x00, 0x00, 0x00, 0x04,
        0x00, 0x00, 0x00, 0x04,
        0xde, 0xad, 0xbe, 0xef,
        0x05, 0xf5, 0xe1, 0x01,   // ts_sec 100000001
        0x3b, 0x9a, 0xc9, 0xff,   // ts_nsec 999999999
        0x00, 0x00, 0x00, 0x02,
        0x00, 0x00, 0x00, 0x3c,
        0xca, 0xfe,
    ];

    /// Little-endian pcapng: interface 0 Ethernet with if_tsresol 9 (ns), interface 1 Linux SLL
    /// without if_tsresol (µs); an EPB on each, then a simple packet block.
    #[rustfmt::skip]
    const PCAPNG_LE: [u8; 156] = [
        // SHB, offset 0
        0x0a, 0x0d, 0x0d, 0x0a,  0x1c, 0x00, 0x00, 0x00,
        0x4d, 0x3c, 0x2b, 0x1a,  0x01, 0x00, 0x00, 0x00,   // byte-order magic, version 1.0
        0xff, 0xff, 0xff, 0xff,  0xff, 0xff, 0xff, 0xff,   // section length unknown
        0x1c, 0x00, 0x00, 0x00,
        // IDB 0, offset 28: Ethernet, snaplen 262144, if_tsresol = 9
        0x01, 0x00, 0x00, 0x00,  0x20, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00,  0x00, 0x00, 0x04, 0x00,
        0x09, 0x00, 0x01, 0x00,  0x09, 0x00, 0x00, 0x00,   // if_tsresol (9), padded
        0x00, 0x00, 0x00, 0x00,                            // opt_endofopt
        0x20, 0x00, 0x00, 0x00,
        // IDB 1, offset 60: Linux SLL, snaplen 0 (none), no options
        0x01, 0x00, 0x00, 0x00,  0x14, 0x00, 0x00, 0x00,
        0x71, 0x00, 0x00, 0x00,  0x00, 0x00, 0x00, 0x00,
        0x14, 0x00, 0x00, 0x00,
        // EPB, offset 80: interface 0, 1700000000.123456789 s in ns ticks, 5 of 5 bytes
        0x06, 0x00, 0x00, 0x00,  0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
        0xfe, 0x9c, 0x97, 0x17,  0x15, 0xcd, 0x85, 0x3d,   // ts high, ts low
        0x05, 0x00, 0x00, 0x00,  0x05, 0x00, 0x00, 0x00,
        0x01, 0x02, 0x03, 0x04,  0x05, 0x00, 0x00, 0x00,
        0x28, 0x00, 0x00, 0x00,
        // EPB, offset 120: interface 1, 1700000001.000001 s in µs ticks, 4 of 100 bytes
        0x06, 0x00, 0x00, 0x00,  0x24, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00,
        0x24, 0x0a, 0x06, 0x00,  0x41, 0x82, 0x2d, 0x18,
        0x04, 0x00, 0x00, 0x00,  0x64, 0x00, 0x00, 0x00,
        0xaa, 0xbb, 0xcc, 0xdd,
        0x24, 0x00, 0x00, 0x00,
    ];
    /// A simple packet block (so interface 0), appended to [`PCAPNG_LE`] at offset 156.
    #[rustfmt::skip]
    const SPB_LE: [u8; 20] = [
        0x03, 0x00, 0x00, 0x00,  0x14, 0x00, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x00,                            // original length 3
        0x07, 0x08, 0x09, 0x00,                            // 3 bytes + 1 padding
        0x14, 0x00, 0x00, 0x00,
    ];

    const CURL_HTTP: &[u8] = include_bytes!("../../../e2e/fixtures/curl-http.pcap");

    fn two_packet_expectations(cap: &Capture<'_>, frac1_ns: u64, frac2_ns: u64) {
        assert_eq!(cap.frames.len(), 2);
        let [a, b] = [cap.frames[0], cap.frames[1]];
        assert_eq!((a.number, a.offset, b.number, b.offset), (1, 24, 2, 44));
        assert_eq!(a.timestamp_ns, 100_000_000 * 1_000_000_000 + frac1_ns);
        assert_eq!(b.timestamp_ns, 100_000_001 * 1_000_000_000 + frac2_ns);
        assert_eq!(a.data, &[0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(b.data, &[0xca, 0xfe]);
        assert_eq!((a.original_len, b.original_len), (4, 60));
        assert!(!a.snapped && b.snapped);
        assert_eq!(cap.snapped(), 1);
        assert!(cap
            .frames
            .iter()
            .all(|f| f.link_type == LinkType::Ethernet && f.interface == 0));
    }

    #[test]
    fn pcap_little_endian_microseconds() {
        let cap = read_capture(&PCAP_LE_USEC).unwrap();
        assert_eq!(
            cap.format,
            CaptureFormat::Pcap {
                big_endian: false,
                nanosecond: false,
                snaplen: 65535
            }
        );
        two_packet_expectations(&cap, 123_456_000, 999_999_000);
    }

    #[test]
    fn pcap_big_endian_nanoseconds() {
        let cap = read_capture(&PCAP_BE_NSEC).unwrap();
        assert_eq!(
            cap.format,
            CaptureFormat::Pcap {
                big_endian: true,
                nanosecond: true,
                snaplen: 65535
            }
        );
        two_packet_expectations(&cap, 123_456_789, 999_999_999);
    }

    /// The other two magic/byte-order combinations, made by flipping the literal files.
    #[test]
    fn pcap_little_endian_nanoseconds_and_big_endian_microseconds() {
        let mut le_nsec = PCAP_LE_USEC;
        le_nsec[..4].copy_from_slice(&[0x4d, 0x3c, 0xb2, 0xa1]);
        // the µs fractions read as ns: 123456 ns and 999999 ns
        let cap = read_capture(&le_nsec).unwrap();
        assert_eq!(
            cap.format,
            CaptureFormat::Pcap {
                big_endian: false,
                nanosecond: true,
                snaplen: 65535
            }
        );
        two_packet_expectations(&cap, 123_456, 999_999);

        let mut be_usec = PCAP_BE_NSEC;
        be_usec[..4].copy_from_slice(&[0xa1, 0xb2, 0xc3, 0xd4]);
        be_usec[28..32].copy_from_slice(&123_456u32.to_be_bytes());
        be_usec[48..52].copy_from_slice(&999_999u32.to_be_bytes());
        let cap = read_capture(&be_usec).unwrap();
        assert_eq!(
            cap.format,
            CaptureFormat::Pcap {
                big_endian: true,
                nanosecond: false,
                snaplen: 65535
            }
        );
        two_packet_expectations(&cap, 123_456_000, 999_999_000);
    }

    #[test]
    fn pcap_other_link_types_are_reported() {
        for (code, link) in [
            (113, LinkType::LinuxSll),
            (276, LinkType::LinuxSll2),
            (101, LinkType::RawIp),
            (228, LinkType::Ipv4),
            (147, LinkType::Other(147)),
        ] {
            let mut file = PCAP_LE_USEC;
            file[20..24].copy_from_slice(&u32::to_le_bytes(code));
            let cap = read_capture(&file).unwrap();
            assert!(cap.frames.iter().all(|f| f.link_type == link), "{code}");
            assert_eq!(link.code(), code);
        }
        // FCS bits in the upper half of the field do not change the link type
        let mut file = PCAP_LE_USEC;
        file[20..24].copy_from_slice(&0x1400_0001u32.to_le_bytes());
        assert_eq!(
            read_capture(&file).unwrap().frames[0].link_type,
            LinkType::Ethernet
        );
    }

    #[test]
    fn pcapng_resolution_and_link_type_per_interface() {
        let mut file = PCAPNG_LE.to_vec();
        file.extend_from_slice(&SPB_LE);
        let cap = read_capture(&file).unwrap();
        assert_eq!(cap.format, CaptureFormat::PcapNg);
        assert_eq!(cap.frames.len(), 3);
        let [a, b, c] = [cap.frames[0], cap.frames[1], cap.frames[2]];

        assert_eq!((a.number, a.offset, a.interface), (1, 80, 0));
        assert_eq!(a.timestamp_ns, 1_700_000_000_123_456_789);
        assert_eq!(a.link_type, LinkType::Ethernet);
        assert_eq!(a.data, &[1, 2, 3, 4, 5]);
        assert!(!a.snapped);

        assert_eq!((b.number, b.offset, b.interface), (2, 120, 1));
        assert_eq!(b.timestamp_ns, 1_700_000_001_000_001_000);
        assert_eq!(b.link_type, LinkType::LinuxSll);
        assert_eq!(
            (b.data, b.original_len, b.snapped),
            (&[0xaa, 0xbb, 0xcc, 0xdd][..], 100, true)
        );

        // the simple packet block: interface 0, padding not part of the data, previous timestamp
        assert_eq!((c.number, c.offset, c.interface), (3, 156, 0));
        assert_eq!(
            (c.data, c.original_len, c.snapped),
            (&[7, 8, 9][..], 3, false)
        );
        assert_eq!(c.timestamp_ns, b.timestamp_ns);
        assert_eq!(cap.snapped(), 1);
    }

    #[test]
    fn pcapng_binary_resolution_and_offset() {
        let mut file = PCAPNG_LE.to_vec();
        // interface 0: if_tsresol 2^-3 s; the first EPB's ticks become eighths of a second
        file[48] = 0x83;
        file[92..100].copy_from_slice(&[0, 0, 0, 0, 17, 0, 0, 0]); // 17 ticks = 2.125 s
        assert_eq!(
            read_capture(&file).unwrap().frames[0].timestamp_ns,
            2_125_000_000
        );

        // an unusable resolution (10^-100) is reported at its interface description block
        file[48] = 100;
        let err = read_capture(&file).unwrap_err();
        assert_eq!(
            err.to_string(),
            "packet 1 at byte offset 28: interface 0: unsupported if_tsresol 0x64"
        );

        assert_eq!(TsResolution::Decimal(12).to_ns(5_000), Some(5));
        assert_eq!(apply_offset(1_000_000_000, -1), Some(0));
        assert_eq!(apply_offset(0, -1), None);
    }

    /// A big-endian pcapng written by pcap-file's own writer, for the byte-order path.
    #[test]
    fn pcapng_big_endian_via_pcap_file_writer() {
        let bytes = to_pcapng(&PCAP_BE_NSEC, Endianness::Big);
        let cap = read_capture(&bytes).unwrap();
        let orig = read_capture(&PCAP_BE_NSEC).unwrap();
        assert_eq!(cap.frames.len(), 2);
        for (a, b) in cap.frames.iter().zip(&orig.frames) {
            assert_eq!(
                (a.timestamp_ns, a.data, a.original_len, a.snapped),
                (b.timestamp_ns, b.data, b.original_len, b.snapped)
            );
        }
    }

    #[test]
    fn pcapng_errors() {
        // a packet before any interface description
        let mut file = PCAPNG_LE[..28].to_vec();
        file.extend_from_slice(&SPB_LE);
        assert_eq!(
            read_capture(&file).unwrap_err().to_string(),
            "packet 1 at byte offset 28: packet names interface 0, but the section describes 0"
        );
        // an EPB naming interface 7
        let mut file = PCAPNG_LE.to_vec();
        file[88] = 7;
        assert_eq!(
            read_capture(&file).unwrap_err().to_string(),
            "packet 1 at byte offset 80: packet names interface 7, but the section describes 2"
        );
        // cut inside the second EPB
        let err = read_capture(&PCAPNG_LE[..140]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "packet 2 at byte offset 120: truncated block (header says 36 bytes, 20 remain)"
        );
        let err = read_capture(&PCAPNG_LE[..130]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "packet 2 at byte offset 120: truncated block header (needs 12 bytes, 10 remain)"
        );
        // trailer length disagreeing with the header
        let mut file = PCAPNG_LE.to_vec();
        file[116] = 0x2c;
        let err = read_capture(&file).unwrap_err();
        assert!(
            matches!(
                err,
                CaptureError::Record {
                    packet: 1,
                    offset: 80,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("enhanced packet block"), "{err}");
        // a truncated section header
        let err = read_capture(&PCAPNG_LE[..20]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "truncated file header: pcapng section header block needs 28 bytes, the file has 20"
        );
    }

    #[test]
    fn truncated_header() {
        let err = read_capture(&PCAP_LE_USEC[..23]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "truncated file header: pcap file header needs 24 bytes, the file has 23"
        );
        let err = read_capture(&PCAP_LE_USEC[..3]).unwrap_err();
        assert_eq!(
            err,
            CaptureError::TruncatedHeader {
                what: "magic number",
                need: 4,
                have: 3
            }
        );
        // header only: a valid, empty capture
        assert!(read_capture(&PCAP_LE_USEC[..24]).unwrap().frames.is_empty());
    }

    #[test]
    fn truncated_record() {
        // cut after 1 of packet 2's 2 data bytes
        let err = read_capture(&PCAP_LE_USEC[..44 + 16 + 1]).unwrap_err();
        assert_eq!(
            err,
            CaptureError::Record {
                packet: 2,
                offset: 44,
                problem: RecordProblem::Truncated {
                    what: "record",
                    declared: 2,
                    remain: 1
                }
            }
        );
        assert_eq!(
            err.to_string(),
            "packet 2 at byte offset 44: truncated record (header says 2 bytes, 1 remain)"
        );
        // cut inside packet 2's record header
        let err = read_capture(&PCAP_LE_USEC[..50]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "packet 2 at byte offset 44: truncated record header (needs 16 bytes, 6 remain)"
        );
        // the iterator hands out packet 1 before failing, then stops
        let mut it = frames(&PCAP_LE_USEC[..50]).unwrap();
        assert_eq!(it.next().unwrap().unwrap().number, 1);
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }

    #[test]
    fn corrupt_record_fields() {
        let mut file = PCAP_LE_USEC;
        file[32..36].copy_from_slice(&5u32.to_le_bytes()); // incl_len 5 > orig_len 4 (and eats into packet 2)
        file[36..40].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(
            read_capture(&file).unwrap_err().to_string(),
            "packet 1 at byte offset 24: captured length 5 exceeds original length 3"
        );
        let mut file = PCAP_LE_USEC;
        file[32..36].copy_from_slice(&0x0100_0004u32.to_le_bytes());
        assert_eq!(
            read_capture(&file).unwrap_err().to_string(),
            "packet 1 at byte offset 24: captured length 16777220 exceeds the 262144-byte maximum"
        );
        let mut file = PCAP_LE_USEC;
        file[28..32].copy_from_slice(&1_000_000u32.to_le_bytes());
        assert_eq!(
            read_capture(&file).unwrap_err().to_string(),
            "packet 1 at byte offset 24: timestamp fraction 1000000 is not below one second"
        );
    }

    #[test]
    fn bad_magic_and_empty_file() {
        assert_eq!(read_capture(&[]).unwrap_err(), CaptureError::Empty);
        let err = read_capture(b"GET / HTTP/1.1\r\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a pcap or pcapng file: unknown magic 47 45 54 20"
        );
        let err = read_capture(&[0x1f, 0x8b, 0x08, 0x00, 0, 0]).unwrap_err();
        assert!(
            err.to_string().ends_with("(gzip: decompress it first)"),
            "{err}"
        );
    }

    /// The real capture from `e2e/scripts/make-fixtures.sh`: ARP then a full TCP/HTTP exchange.
    #[test]
    fn real_fixture_reads() {
        let cap = read_capture(CURL_HTTP).unwrap();
        assert!(matches!(
            cap.format,
            CaptureFormat::Pcap {
                nanosecond: true,
                ..
            }
        ));
        assert!(cap.frames.len() >= 10, "{}", cap.frames.len());
        assert_eq!(cap.snapped(), 0);
        assert!(cap.frames.iter().all(|f| f.link_type == LinkType::Ethernet));
        assert!(cap
            .frames
            .windows(2)
            .all(|w| w[0].timestamp_ns <= w[1].timestamp_ns));
        assert_eq!(
            cap.frames[0].data[12..14],
            [0x08, 0x06],
            "first frame is ARP"
        );
        let ipv4 = cap
            .frames
            .iter()
            .filter(|f| f.data[12..14] == [0x08, 0x00])
            .count();
        assert_eq!(ipv4, cap.frames.len() - 2);
        // the last frame ends exactly at the end of the file
        let last = cap.frames.last().unwrap();
        assert_eq!(last.offset + 16 + last.data.len(), CURL_HTTP.len());
    }

    #[test]
    fn real_fixture_as_pcapng_matches() {
        let ng = to_pcapng(CURL_HTTP, Endianness::Little);
        let a = read_capture(CURL_HTTP).unwrap();
        let b = read_capture(&ng).unwrap();
        assert_eq!(a.frames.len(), b.frames.len());
        for (x, y) in a.frames.iter().zip(&b.frames) {
            assert_eq!(
                (x.number, x.timestamp_ns, x.data, x.original_len),
                (y.number, y.timestamp_ns, y.data, y.original_len)
            );
        }
    }

    /// Every prefix of a valid file either reads cleanly (cut on a record boundary) or fails
    /// with a truncation error at the right packet.
    #[test]
    fn every_prefix_is_ok_or_truncated() {
        let ng = to_pcapng(CURL_HTTP, Endianness::Little);
        for file in [CURL_HTTP, &ng[..]] {
            let full = read_capture(file).unwrap();
            let boundaries: Vec<usize> = full.frames.iter().map(|f| f.offset).collect();
            for len in 1..file.len() {
                match read_capture(&file[..len]) {
                    Ok(cap) => {
                        assert!(
                            boundaries.contains(&len) || len < full.frames[0].offset,
                            "{len}"
                        );
                        assert_eq!(
                            cap.frames.len(),
                            boundaries.iter().filter(|&&b| b < len).count()
                        );
                    }
                    Err(CaptureError::Record {
                        packet, problem, ..
                    }) => {
                        assert_eq!(
                            packet as usize,
                            boundaries.iter().filter(|&&b| b < len).count().max(1),
                            "{len}"
                        );
                        assert!(
                            matches!(
                                problem,
                                RecordProblem::Truncated { .. }
                                    | RecordProblem::TruncatedHeader { .. }
                            ),
                            "{len}: {problem}"
                        );
                    }
                    Err(CaptureError::TruncatedHeader { .. }) => {
                        assert!(len < full.frames[0].offset)
                    }
                    Err(other) => panic!("{len}: {other}"),
                }
            }
        }
    }

    /// Thousands of random corruptions of real captures (pcap and pcapng): never a panic, and
    /// every record error points inside the file.
    #[test]
    fn mutated_fixtures_never_panic() {
        let ng = to_pcapng(CURL_HTTP, Endianness::Little);
        let ng_be = to_pcapng(CURL_HTTP, Endianness::Big);
        let mut rng = 0x5eed_u64;
        let mut next = move || {
            // xorshift64*
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
        };
        let mut errors = 0;
        for (i, base) in [CURL_HTTP, &ng[..], &ng_be[..]]
            .iter()
            .cycle()
            .take(6000)
            .enumerate()
        {
            let mut file = base.to_vec();
            match i % 4 {
                // a few random bytes
                0 | 1 => {
                    for _ in 0..=next() % 4 {
                        let at = (next() as usize) % file.len();
                        file[at] = next() as u8;
                    }
                }
                // a length-ish field set to an extreme
                2 => {
                    let at = (next() as usize) % (file.len() - 4);
                    let v = [0u32, 1, 0x7fff_ffff, u32::MAX, 11, 12, 13][(next() % 7) as usize];
                    file[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
                // bytes cut out of the middle
                _ => {
                    let at = (next() as usize) % file.len();
                    let n = ((next() as usize) % 64).min(file.len() - at);
                    file.drain(at..at + n);
                }
            }
            match read_capture(&file) {
                Ok(cap) => {
                    for f in &cap.frames {
                        assert!(f.offset < file.len() && f.data.len() <= f.original_len as usize);
                    }
                }
                Err(e) => {
                    errors += 1;
                    if let CaptureError::Record { offset, .. } = e {
                        assert!(offset < file.len(), "{e}");
                    }
                    let _ = e.to_string();
                }
            }
        }
        assert!(
            errors > 1000,
            "mutations should mostly be detected, got {errors} errors"
        );
    }

    /// Re-encodes a pcap file as pcapng with pcap-file's writer (if_tsresol = 9, so ticks are ns).
    fn to_pcapng(pcap: &[u8], endianness: Endianness) -> Vec<u8> {
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
        use pcap_file::pcapng::{PcapNgBlock, PcapNgWriter};
        use std::borrow::Cow;

        let cap = read_capture(pcap).unwrap();
        let mut w = PcapNgWriter::with_endianness(Vec::new(), endianness).unwrap();
        let idb = InterfaceDescriptionBlock {
            linktype: pcap_file::DataLink::ETHERNET,
            snaplen: 262_144,
            options: vec![InterfaceDescriptionOption::IfTsResol(9)],
        };
        w.write_pcapng_block(idb).unwrap();
        for f in &cap.frames {
            let epb = EnhancedPacketBlock {
                interface_id: 0,
                timestamp: std::time::Duration::from_nanos(f.timestamp_ns),
                original_len: f.original_len,
                data: Cow::Borrowed(f.data),
                options: vec![],
            };
            w.write_block(&epb.into_block()).unwrap();
        }
        w.into_inner()
    }
}
