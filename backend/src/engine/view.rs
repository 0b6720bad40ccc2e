//! What the live feed and `/metrics` ask of the worker: the table's counts, one window of it, and
//! the history of its size, computed where the table lives so that what leaves the worker is a
//! few counts and at most [`shared::feed::MAX_LIMIT`] entries, never a copy of the table.
//!
//! Bounds of one [`FeedView::of`]: one pass over the table (counts and filter), a linear-time
//! selection of the window, and a sort of the window alone: O(n + k log k) for n entries and k
//! rows. Scratch space is one `u32` per matching entry, kept by the caller between calls.

use super::Snapshot;
use dataplane::conntrack::format::routeros_entry;
use dataplane::conntrack::{status, Conn, Dir};
use dataplane::pipeline::Router;
use dataplane::time::Instant;
use shared::connection::ConnectionEntry;
use shared::feed::{
    HostCount, SortColumn, Window, HISTORY_INTERVAL_MS, HISTORY_LEN, TCP_STATES, TOP_HOSTS,
};
use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};
use std::net::Ipv4Addr;

/// One feed tick's worth of the router's state.
#[derive(Debug, Clone)]
pub struct FeedView {
    /// Counters, rules and ports (no connection list).
    pub stats: Snapshot,
    pub table: TableView,
    /// `total-entries` once a second, oldest first.
    pub history: Vec<u64>,
}

/// The connection table in numbers, and the window asked for.
#[derive(Debug, Clone, Default)]
pub struct TableView {
    /// Entries per protocol number, those present only, by number.
    pub by_protocol: Vec<(u8, u64)>,
    /// TCP entries per RouterOS `tcp-state`, every state of [`TCP_STATES`] in its order.
    pub by_tcp_state: Vec<(&'static str, u64)>,
    /// Entries with a source, a destination translation.
    pub srcnat: u64,
    pub dstnat: u64,
    /// Original source addresses: most entries first, and highest rate first.
    pub top_by_connections: Vec<HostCount>,
    pub top_by_rate: Vec<HostCount>,
    /// Entries the window's filter matches.
    pub matching: u64,
    /// The window: at most `limit` of them, from `offset`, in order.
    pub entries: Vec<ConnectionEntry>,
}

impl FeedView {
    /// The view at `now` for `query` (already checked). `scratch` is reused between calls.
    pub fn of(
        router: &Router,
        now: Instant,
        query: &Window,
        queue_drops: u64,
        scratch: &mut Vec<u32>,
        history: Vec<u64>,
    ) -> FeedView {
        FeedView {
            stats: Snapshot::of(router, now, false, queue_drops),
            table: table_view(router, now, query, scratch),
            history,
        }
    }
}

fn table_view(router: &Router, now: Instant, q: &Window, scratch: &mut Vec<u32>) -> TableView {
    let table = router.conntrack().table();
    let mut by_protocol = [0u64; 256];
    // By `TcpState` number (the kernel's, 0..=9), with the name each has.
    let mut by_state = [(None::<&'static str>, 0u64); 16];
    let (mut srcnat, mut dstnat) = (0, 0);
    let mut hosts: HashMap<Ipv4Addr, (u64, u64)> = HashMap::new();
    scratch.clear();
    for (slot, c) in table.iter() {
        // As `Conntrack::entries`: an entry past its deadline is gone, whether or not the
        // expiry wheel has reached it yet.
        if c.deadline <= now {
            continue;
        }
        by_protocol[usize::from(c.orig().proto)] += 1;
        if let Some(t) = c.tcp() {
            let cell = &mut by_state[(t.state as usize) & 15];
            cell.0 = Some(t.state.routeros_name());
            cell.1 += 1;
        }
        let host = hosts.entry(c.orig().src).or_default();
        host.0 += 1;
        host.1 += u64::from(c.rate.bytes_per_sec(now, Dir::Orig))
            + u64::from(c.rate.bytes_per_sec(now, Dir::Reply));
        srcnat += u64::from(c.has(status::SRC_NAT));
        dstnat += u64::from(c.has(status::DST_NAT));
        if matches(q, c) {
            scratch.push(slot);
        }
    }
    let matching = scratch.len();
    let start = usize::try_from(q.offset)
        .unwrap_or(usize::MAX)
        .min(matching);
    let end = start.saturating_add(q.limit as usize).min(matching);
    let mut entries = Vec::with_capacity(end - start);
    if start < end {
        let cmp = |a: &u32, b: &u32| {
            let ord = compare(q.sort, table.get(*a), table.get(*b), now);
            if q.descending {
                ord.reverse()
            } else {
                ord
            }
        };
        // Everything before `start` sorts before the window, everything after `end` after it.
        if start > 0 {
            scratch.select_nth_unstable_by(start, cmp);
        }
        let rest = &mut scratch[start..];
        let k = end - start;
        if k < rest.len() {
            rest.select_nth_unstable_by(k, cmp);
        }
        rest[..k].sort_unstable_by(cmp);
        entries.extend(rest[..k].iter().map(|s| routeros_entry(table.get(*s), now)));
    }
    let by_tcp_state = TCP_STATES
        .iter()
        .map(|name| {
            let n = by_state
                .iter()
                .filter(|(n, _)| *n == Some(*name))
                .map(|(_, count)| count)
                .sum();
            (*name, n)
        })
        .collect();
    TableView {
        by_protocol: (0..=255u8)
            .zip(by_protocol)
            .filter(|(_, n)| *n > 0)
            .collect(),
        by_tcp_state,
        top_by_connections: top_hosts(&hosts, |&(n, _)| n),
        top_by_rate: top_hosts(&hosts, |&(_, rate)| rate),
        srcnat,
        dstnat,
        matching: matching as u64,
        entries,
    }
}

/// The [`TOP_HOSTS`] hosts with the highest `key` (above zero), highest first; ties by address.
fn top_hosts(
    hosts: &HashMap<Ipv4Addr, (u64, u64)>,
    key: impl Fn(&(u64, u64)) -> u64,
) -> Vec<HostCount> {
    let mut all: Vec<(Ipv4Addr, u64, u64)> = hosts
        .iter()
        .filter(|(_, v)| key(v) > 0)
        .map(|(a, &(n, rate))| (*a, n, rate))
        .collect();
    let order = |a: &(Ipv4Addr, u64, u64), b: &(Ipv4Addr, u64, u64)| {
        key(&(b.1, b.2)).cmp(&key(&(a.1, a.2))).then(a.0.cmp(&b.0))
    };
    if all.len() > TOP_HOSTS {
        all.select_nth_unstable_by(TOP_HOSTS, order);
        all.truncate(TOP_HOSTS);
    }
    all.sort_unstable_by(order);
    all.into_iter()
        .map(|(address, connections, rate)| HostCount {
            address,
            connections,
            rate,
        })
        .collect()
}

/// Whether an entry passes every part of the window's filter.
fn matches(q: &Window, c: &Conn<std::net::Ipv4Addr>) -> bool {
    let [o, r] = &c.tuples;
    if q.protocol.is_some_and(|p| p != o.proto) {
        return false;
    }
    if let Some(s) = &q.tcp_state {
        if c.tcp().map(|t| t.state.routeros_name()) != Some(s.as_str()) {
            return false;
        }
    }
    if let Some(a) = &q.address {
        if ![o.src, o.dst, r.src, r.dst]
            .into_iter()
            .any(|x| a.contains(x))
        {
            return false;
        }
    }
    if let Some(p) = &q.port {
        if !o.has_ports()
            || ![o.sport, o.dport, r.sport, r.dport]
                .into_iter()
                .any(|x| p.contains(x))
        {
            return false;
        }
    }
    true
}

/// The order of a column, then creation order: a total order, so a window is stable from one
/// tick to the next.
fn compare(
    col: SortColumn,
    a: &Conn<std::net::Ipv4Addr>,
    b: &Conn<std::net::Ipv4Addr>,
    now: Instant,
) -> Ordering {
    let (ao, bo) = (a.orig(), b.orig());
    let (ar, br) = (a.reply(), b.reply());
    let sum = |x: [u64; 2]| x[0].saturating_add(x[1]);
    let rate = |c: &Conn<std::net::Ipv4Addr>, d: Dir| u64::from(c.rate.bytes_per_sec(now, d));
    let state = |c: &Conn<std::net::Ipv4Addr>| c.tcp().map_or("", |t| t.state.routeros_name());
    let ord = match col {
        SortColumn::Id => Ordering::Equal,
        SortColumn::Protocol => ao.proto.cmp(&bo.proto),
        SortColumn::SrcAddress => (ao.src, ao.sport).cmp(&(bo.src, bo.sport)),
        SortColumn::DstAddress => (ao.dst, ao.dport).cmp(&(bo.dst, bo.dport)),
        SortColumn::ReplySrcAddress => (ar.src, ar.sport).cmp(&(br.src, br.sport)),
        SortColumn::ReplyDstAddress => (ar.dst, ar.dport).cmp(&(br.dst, br.dport)),
        SortColumn::TcpState => state(a).cmp(state(b)),
        SortColumn::Timeout => a.deadline.cmp(&b.deadline),
        SortColumn::OrigPackets => a.packets[0].cmp(&b.packets[0]),
        SortColumn::ReplPackets => a.packets[1].cmp(&b.packets[1]),
        SortColumn::Packets => sum(a.packets).cmp(&sum(b.packets)),
        SortColumn::OrigBytes => a.bytes[0].cmp(&b.bytes[0]),
        SortColumn::ReplBytes => a.bytes[1].cmp(&b.bytes[1]),
        SortColumn::Bytes => sum(a.bytes).cmp(&sum(b.bytes)),
        SortColumn::OrigRate => rate(a, Dir::Orig).cmp(&rate(b, Dir::Orig)),
        SortColumn::ReplRate => rate(a, Dir::Reply).cmp(&rate(b, Dir::Reply)),
        SortColumn::Rate => (rate(a, Dir::Orig) + rate(a, Dir::Reply))
            .cmp(&(rate(b, Dir::Orig) + rate(b, Dir::Reply))),
    };
    ord.then(a.id.cmp(&b.id))
}

/// The entry count once a second, the last [`HISTORY_LEN`] samples.
#[derive(Debug, Default)]
pub struct History {
    samples: VecDeque<u64>,
    last: Option<Instant>,
}

impl History {
    /// Records `entries` if a second has passed since the last sample.
    pub fn sample(&mut self, now: Instant, entries: usize) {
        let due = self.last.is_none_or(|t| {
            now.as_nanos().saturating_sub(t.as_nanos()) >= HISTORY_INTERVAL_MS * 1_000_000
        });
        if !due {
            return;
        }
        self.last = Some(now);
        if self.samples.len() == HISTORY_LEN {
            self.samples.pop_front();
        }
        self.samples.push_back(entries as u64);
    }

    pub fn samples(&self) -> Vec<u64> {
        self.samples.iter().copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dataplane::pipeline::{Options, Port};
    use dataplane::wire::build::{tcp_frame, udp_frame, TcpSpec};
    use dataplane::wire::tcp_flags;
    use shared::config::{AddrMatch, PortRange, RouterConfig};
    use std::net::Ipv4Addr;

    const SOHO: &str = include_str!("../../../dataplane/fixtures/soho.rsc");

    /// A router that has seen `n` UDP flows from LAN hosts to the router (198.51.100.1:53):
    /// host `198.51.100.(10 + i % 200)`, port `10000 + i`, with `i + 1` payload bytes, and one
    /// TCP SYN to 192.0.2.1:80 through the masquerade.
    fn router(n: usize) -> Router {
        let ports = [("ether1", 0xe1), ("ether2", 0xe2)]
            .map(|(name, b)| Port {
                name: name.into(),
                mac: [2, 0, 0, 0, b, 1],
                mtu: 1500,
            })
            .to_vec();
        let opts = Options {
            accept_any_mac: true,
            ..Options::default()
        };
        let cfg = RouterConfig::from_rsc(SOHO).unwrap();
        let mut r = Router::new(ports, &cfg, opts);
        let mut out = Vec::new();
        let router_ip = Ipv4Addr::new(198, 51, 100, 1);
        for i in 0..n {
            let host = Ipv4Addr::new(198, 51, 100, 10 + (i % 200) as u8);
            let payload = vec![0u8; i + 1];
            let f = udp_frame(host, router_ip, 10_000 + i as u16, 53, &payload);
            r.process(Instant::from_millis(10), 1, f, &mut out);
        }
        let syn = TcpSpec {
            sport: 40_000,
            dport: 80,
            seq: 1,
            flags: tcp_flags::SYN,
            ..TcpSpec::default()
        };
        let f = tcp_frame(
            Ipv4Addr::new(198, 51, 100, 10),
            Ipv4Addr::new(192, 0, 2, 1),
            syn,
        );
        r.process(Instant::from_millis(20), 1, f, &mut out);
        r
    }

    fn view(r: &Router, q: &Window) -> TableView {
        table_view(r, Instant::from_millis(100), q, &mut Vec::new())
    }

    fn sports(v: &TableView) -> Vec<String> {
        v.entries.iter().map(|e| e.src_address.clone()).collect()
    }

    #[test]
    fn counts_cover_the_whole_table() {
        let r = router(30);
        let v = view(&r, &Window::counts_only());
        assert_eq!(v.by_protocol, vec![(6, 1), (17, 30)]);
        assert_eq!(v.matching, 31);
        assert!(v.entries.is_empty());
        let syn_sent = v.by_tcp_state.iter().find(|(n, _)| *n == "syn-sent");
        assert_eq!(syn_sent, Some(&("syn-sent", 1)));
        assert_eq!(v.by_tcp_state.len(), TCP_STATES.len());
        assert_eq!((v.srcnat, v.dstnat), (1, 0));
    }

    #[test]
    fn top_hosts_rank_the_sources_by_entries_and_by_rate() {
        // Hosts .10–.109 have two UDP entries each (i and i + 200), .110–.209 one, and .10 the
        // TCP one as well.
        let r = router(300);
        // A rate is the last complete second's: look in the second after the traffic.
        let v = table_view(
            &r,
            Instant::from_millis(1500),
            &Window::counts_only(),
            &mut Vec::new(),
        );
        let hosts = |list: &[HostCount]| -> Vec<(Ipv4Addr, u64)> {
            list.iter().map(|h| (h.address, h.connections)).collect()
        };
        let mut want = vec![(Ipv4Addr::new(198, 51, 100, 10), 3)];
        want.extend((11..20).map(|h| (Ipv4Addr::new(198, 51, 100, h), 2)));
        assert_eq!(hosts(&v.top_by_connections), want);

        // Rates: the host whose entries carried the most bytes leads (the payload grows with i,
        // so .109, with flows 99 and 299, is first); highest first, at most ten.
        let rates: Vec<u64> = v.top_by_rate.iter().map(|h| h.rate).collect();
        assert_eq!(rates.len(), TOP_HOSTS);
        assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
        assert!(rates[TOP_HOSTS - 1] > 0);
        assert_eq!(v.top_by_rate[0].address, Ipv4Addr::new(198, 51, 100, 109));
    }

    #[test]
    fn filter_sort_and_slice() {
        let r = router(30);
        // The largest flows first: byte counts are 29 + 28 + … over the headers.
        let q = Window {
            protocol: Some(17),
            sort: SortColumn::OrigBytes,
            descending: true,
            offset: 2,
            limit: 3,
            ..Window::default()
        };
        let v = view(&r, &q);
        assert_eq!(v.matching, 30);
        assert_eq!(
            sports(&v),
            [
                "198.51.100.37:10027",
                "198.51.100.36:10026",
                "198.51.100.35:10025"
            ]
        );
        // A subnet matches either side: every UDP flow goes to 198.51.100.1.
        let q = Window {
            address: Some(AddrMatch::parse("198.51.100.0/30").unwrap()),
            limit: 100,
            ..Window::default()
        };
        assert_eq!(view(&r, &q).matching, 30);
        // One host's flows (i % 200 == 5 → one of them), and a port on either side.
        let q = Window {
            address: Some(AddrMatch::parse("198.51.100.15").unwrap()),
            ..Window::default()
        };
        assert_eq!(sports(&view(&r, &q)), ["198.51.100.15:10005"]);
        let q = Window {
            port: Some(PortRange::parse("10003-10004").unwrap()),
            ..Window::default()
        };
        assert_eq!(view(&r, &q).matching, 2);
        let q = Window {
            port: Some(PortRange::one(80)),
            tcp_state: Some("syn-sent".into()),
            ..Window::default()
        };
        let v = view(&r, &q);
        assert_eq!(v.matching, 1);
        assert_eq!(v.entries[0].dst_address, "192.0.2.1:80");
        // Past the end: the count, no rows.
        let q = Window {
            offset: 1000,
            ..Window::default()
        };
        let v = view(&r, &q);
        assert_eq!((v.matching, v.entries.len()), (31, 0));
        // Every column sorts, both ways, to a total order: the window is the sorted list's slice.
        for col in [
            SortColumn::Id,
            SortColumn::SrcAddress,
            SortColumn::DstAddress,
            SortColumn::ReplyDstAddress,
            SortColumn::Protocol,
            SortColumn::TcpState,
            SortColumn::Timeout,
            SortColumn::Bytes,
            SortColumn::Packets,
            SortColumn::Rate,
        ] {
            for descending in [false, true] {
                let all = Window {
                    sort: col,
                    descending,
                    limit: 100,
                    ..Window::default()
                };
                let whole = sports(&view(&r, &all));
                assert_eq!(whole.len(), 31);
                let part = Window {
                    offset: 7,
                    limit: 9,
                    ..all
                };
                assert_eq!(sports(&view(&r, &part)), whole[7..16], "{col:?}");
            }
        }
    }

    #[test]
    fn the_worker_answers_between_packets_and_keeps_the_history() {
        let engine = super::super::Engine::start(router(5), vec![], vec![], None).unwrap();
        let q = Window {
            protocol: Some(17),
            limit: 2,
            ..Window::default()
        };
        let view = engine.feed(q).unwrap();
        assert_eq!(view.stats.total_entries, 6);
        assert!(view.stats.connections.is_empty());
        assert_eq!((view.table.matching, view.table.entries.len()), (5, 2));
        // The worker samples the entry count on its own ticks.
        let mut history = Vec::new();
        for _ in 0..100 {
            history = engine.feed(Window::counts_only()).unwrap().history;
            if !history.is_empty() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(history.first(), Some(&6));
        engine.stop();
    }

    #[test]
    fn history_keeps_one_sample_a_second() {
        let mut h = History::default();
        for ms in (0..200_000).step_by(100) {
            h.sample(Instant::from_millis(ms), (ms / 1000) as usize);
        }
        let s = h.samples();
        assert_eq!(s.len(), HISTORY_LEN);
        assert_eq!(s.last(), Some(&199));
        assert_eq!(s[0], 80);
    }
}
