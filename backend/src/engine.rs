//! The router running on threads: a receive thread per port, one for the host's stack (the TUN
//! device), and one worker that owns the pipeline.
//!
//! The connection table has a single owner, the worker, so the packet path takes no lock at all:
//! receive threads hand frames over a bounded channel, and the management side reaches the
//! worker by messages it handles between two packets. That is also what makes a configuration
//! change atomic: a packet is processed entirely under the old configuration or the new one.

mod view;

pub use view::{FeedView, History, TableView};

use dataplane::conntrack::format;
use dataplane::drivers::live::{FrameRx, FrameTx, PortError};
use dataplane::firewall::{RuleStats, TableKind};
use dataplane::iface::IfIndex;
use dataplane::pipeline::{Counters, Dest, Egress, Port, Router};
use dataplane::time::Instant;
use shared::config::RouterConfig;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How many frames may wait for the worker before receive threads start dropping (and counting).
pub const QUEUE_FRAMES: usize = 8192;
/// How often the worker expires connections and retries ARP when idle or busy.
const TICK: Duration = Duration::from_millis(100);
/// Frames handled per wake-up before the worker checks its clock again.
const BATCH: usize = 256;

/// What reaches the worker.
pub enum Msg {
    /// A frame received on a port.
    Frame {
        port: IfIndex,
        data: Vec<u8>,
    },
    /// A packet the host's stack sends (read from the TUN device), as a frame for
    /// [`Router::output`].
    Host(Vec<u8>),
    Control(Control),
}

/// Requests from the management side, answered between two packets.
pub enum Control {
    Snapshot(mpsc::Sender<Snapshot>),
    /// A snapshot without the connection list (counters, rules, ports): cheap whatever the
    /// table holds.
    Stats(mpsc::Sender<Snapshot>),
    /// A checked configuration to apply; the answer says it is in force.
    Reconfigure(Box<RouterConfig>, mpsc::Sender<()>),
    /// Removes connections by id; the answer is the ids that were there.
    RemoveConnections(Vec<u32>, mpsc::Sender<Vec<u32>>),
    /// Zeroes one rule's counters, or (id `None`) every rule's of the table.
    ResetCounters(TableKind, Option<u32>, mpsc::Sender<()>),
    /// The live feed's view: counters, the table's counts and one window of it (a checked
    /// query). Costs one pass over the table; the answer is bounded by the window's limit.
    Feed(Box<shared::feed::Window>, mpsc::Sender<FeedView>),
}

/// The router's state as the management side shows it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// Seconds since the router started.
    pub uptime: Duration,
    pub counters: Counters,
    pub conntrack: dataplane::conntrack::Counters,
    pub connections: Vec<shared::connection::ConnectionEntry>,
    /// Entries in the connection table, and how many it may hold.
    pub total_entries: usize,
    pub max_entries: usize,
    /// Per-rule counters and validity, filter then NAT.
    pub rules: Vec<RuleStats>,
    /// The ports, in index order (the index of [`Counters::rx_packets`] and the others).
    pub ports: Vec<Port>,
    /// Frames the receive threads dropped because the worker was behind.
    pub queue_drops: u64,
}

impl Snapshot {
    /// The router's state at `now`; the connection list only when asked for (it costs a
    /// string per field per entry).
    pub fn of(router: &Router, now: Instant, connections: bool, queue_drops: u64) -> Snapshot {
        let ct = router.conntrack();
        let connections = if connections {
            let mut conns: Vec<_> = ct.entries(now).collect();
            conns.sort_by_key(|c| c.id);
            conns
                .iter()
                .map(|c| format::routeros_entry(c, now))
                .collect()
        } else {
            Vec::new()
        };
        Snapshot {
            uptime: Duration::from_nanos(now.as_nanos()),
            counters: router.counters().clone(),
            conntrack: *ct.counters(),
            connections,
            total_entries: ct.len(),
            max_entries: ct.max_entries(),
            rules: router.ruleset().stats(),
            ports: router.ports().to_vec(),
            queue_drops,
        }
    }
}

/// Removes the connections with these ids; the ids that were there.
pub fn remove_connections(router: &mut Router, ids: &[u32]) -> Vec<u32> {
    ids.iter()
        .copied()
        .filter(|id| router.conntrack_mut().remove_id(*id).is_some())
        .collect()
}

/// The worker's clock: monotonic time since start, in the core's [`Instant`].
#[derive(Clone, Copy)]
pub struct Clock(std::time::Instant);

impl Clock {
    pub fn start() -> Self {
        Clock(std::time::Instant::now())
    }

    pub fn now(&self) -> Instant {
        Instant::from_nanos(u64::try_from(self.0.elapsed().as_nanos()).unwrap_or(u64::MAX))
    }
}

/// Where frames for the router itself go (the TUN device).
pub type HostSink = Box<dyn FnMut(&[u8]) -> Result<(), PortError> + Send>;

/// The running threads; dropping or [`Engine::stop`] ends them.
pub struct Engine {
    stop: Arc<AtomicBool>,
    sender: SyncSender<Msg>,
    threads: Vec<JoinHandle<()>>,
    pub queue_drops: Arc<AtomicU64>,
}

impl Engine {
    /// Starts the worker owning `router` (sending on `txs`, one per port in index order) and a
    /// receive thread per `rxs` entry.
    pub fn start(
        router: Router,
        rxs: Vec<Box<dyn FrameRx>>,
        txs: Vec<Box<dyn FrameTx>>,
        host: Option<HostSink>,
    ) -> std::io::Result<Engine> {
        let stop = Arc::new(AtomicBool::new(false));
        let queue_drops = Arc::new(AtomicU64::new(0));
        let (sender, receiver) = mpsc::sync_channel(QUEUE_FRAMES);
        let clock = Clock::start();
        let mut threads = Vec::new();
        let worker = Worker {
            router,
            txs,
            host,
            clock,
            stop: stop.clone(),
            queue_drops: queue_drops.clone(),
            tx_errors: 0,
            scratch: Vec::new(),
            history: History::default(),
        };
        threads.push(
            std::thread::Builder::new()
                .name("sw-worker".into())
                .spawn(move || worker.run(receiver))?,
        );
        for (port, rx) in rxs.into_iter().enumerate() {
            let (stop, sender, drops) = (stop.clone(), sender.clone(), queue_drops.clone());
            threads.push(
                std::thread::Builder::new()
                    .name(format!("sw-rx{port}"))
                    .spawn(move || receive(port as IfIndex, rx, sender, stop, drops))?,
            );
        }
        Ok(Engine {
            stop,
            sender,
            threads,
            queue_drops,
        })
    }

    /// A sender for the management side and extra inputs (the TUN reader).
    pub fn sender(&self) -> SyncSender<Msg> {
        self.sender.clone()
    }

    pub fn stopping(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// The router's state now (waits for the worker to answer between two packets).
    pub fn snapshot(&self) -> Option<Snapshot> {
        self.ask(Control::Snapshot)
    }

    /// Counters, rules and ports without the connection list.
    pub fn stats(&self) -> Option<Snapshot> {
        self.ask(Control::Stats)
    }

    /// Applies a checked configuration; returns once it is in force.
    pub fn reconfigure(&self, cfg: RouterConfig) -> bool {
        self.ask(|tx| Control::Reconfigure(Box::new(cfg), tx))
            .is_some()
    }

    /// Removes connections by id; the ids that were there (`None`: the worker did not answer).
    pub fn remove_connections(&self, ids: Vec<u32>) -> Option<Vec<u32>> {
        self.ask(|tx| Control::RemoveConnections(ids, tx))
    }

    /// Zeroes one rule's counters, or every rule's of the table.
    pub fn reset_counters(&self, table: TableKind, id: Option<u32>) -> bool {
        self.ask(|tx| Control::ResetCounters(table, id, tx))
            .is_some()
    }

    /// The live feed's view for `query` (checked): counts, history and one window.
    pub fn feed(&self, query: shared::feed::Window) -> Option<FeedView> {
        self.ask(|tx| Control::Feed(Box::new(query), tx))
    }

    /// Sends a request and waits for the worker's answer between two packets.
    fn ask<T>(&self, request: impl FnOnce(mpsc::Sender<T>) -> Control) -> Option<T> {
        let (tx, rx) = mpsc::channel();
        self.sender.send(Msg::Control(request(tx))).ok()?;
        rx.recv_timeout(Duration::from_secs(5)).ok()
    }

    /// Ends every thread and waits for them.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn receive(
    port: IfIndex,
    mut rx: Box<dyn FrameRx>,
    sender: SyncSender<Msg>,
    stop: Arc<AtomicBool>,
    drops: Arc<AtomicU64>,
) {
    let mut failures = 0u32;
    while !stop.load(Ordering::Relaxed) {
        match rx.recv() {
            Ok(Some(frame)) => {
                failures = 0;
                let msg = Msg::Frame {
                    port,
                    data: frame.to_vec(),
                };
                match sender.try_send(msg) {
                    Ok(()) => {}
                    // A router drops when it is behind rather than stalling its ports.
                    Err(TrySendError::Full(_)) => {
                        drops.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TrySendError::Disconnected(_)) => return,
                }
            }
            Ok(None) => {}
            Err(e) => {
                failures += 1;
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(port, error = %e, failures, "receive failed");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

struct Worker {
    router: Router,
    txs: Vec<Box<dyn FrameTx>>,
    host: Option<HostSink>,
    clock: Clock,
    stop: Arc<AtomicBool>,
    queue_drops: Arc<AtomicU64>,
    tx_errors: u64,
    /// The feed's working space (one slot number per matching entry), kept between requests.
    scratch: Vec<u32>,
    history: History,
}

impl Worker {
    fn run(mut self, receiver: Receiver<Msg>) {
        let mut out: Vec<Egress> = Vec::with_capacity(64);
        let mut last_tick = self.clock.now();
        while !self.stop.load(Ordering::Relaxed) {
            match receiver.recv_timeout(TICK) {
                Ok(msg) => {
                    self.handle(msg, &mut out);
                    for _ in 1..BATCH {
                        match receiver.try_recv() {
                            Ok(msg) => self.handle(msg, &mut out),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let now = self.clock.now();
            if now.as_nanos().saturating_sub(last_tick.as_nanos()) >= TICK.as_nanos() as u64 {
                last_tick = now;
                self.router.tick(now, &mut out);
                self.flush(&mut out);
                self.history.sample(now, self.router.conntrack().len());
                for line in self.router.firewall_state().drain_logs() {
                    tracing::info!(target: "firewall", "{}", line.text);
                }
            }
        }
    }

    fn handle(&mut self, msg: Msg, out: &mut Vec<Egress>) {
        let now = self.clock.now();
        match msg {
            Msg::Frame { port, data } => {
                self.router.process(now, port, data, out);
            }
            Msg::Host(frame) => {
                self.router.output(now, frame, None, out);
            }
            Msg::Control(Control::Snapshot(reply)) => {
                let _ = reply.send(self.snapshot(now, true));
            }
            Msg::Control(Control::Stats(reply)) => {
                let _ = reply.send(self.snapshot(now, false));
            }
            Msg::Control(Control::Reconfigure(cfg, done)) => {
                self.router.reconfigure(&cfg);
                tracing::info!("configuration applied");
                let _ = done.send(());
            }
            Msg::Control(Control::RemoveConnections(ids, reply)) => {
                let _ = reply.send(remove_connections(&mut self.router, &ids));
            }
            Msg::Control(Control::ResetCounters(table, id, done)) => {
                self.router.ruleset().reset_counters(table, id);
                let _ = done.send(());
            }
            Msg::Control(Control::Feed(query, reply)) => {
                let drops = self.queue_drops.load(Ordering::Relaxed);
                let history = self.history.samples();
                let view =
                    FeedView::of(&self.router, now, &query, drops, &mut self.scratch, history);
                // A table that shrank leaves no large buffer behind for long.
                if self.scratch.capacity() > 4 * self.scratch.len().max(1 << 16) {
                    self.scratch = Vec::new();
                }
                let _ = reply.send(view);
            }
        }
        self.flush(out);
    }

    fn flush(&mut self, out: &mut Vec<Egress>) {
        for e in out.drain(..) {
            let result = match e.dest {
                Dest::Port(i) => match self.txs.get_mut(usize::from(i)) {
                    Some(tx) => tx.send(&e.frame).map_err(|err| err.to_string()),
                    None => Err(format!("no port {i}")),
                },
                Dest::Local => match &mut self.host {
                    Some(host) => host(&e.frame).map_err(|err| err.to_string()),
                    None => Ok(()),
                },
            };
            if let Err(err) = result {
                self.tx_errors += 1;
                if self.tx_errors == 1 || self.tx_errors.is_power_of_two() {
                    tracing::warn!(error = %err, count = self.tx_errors, "send failed");
                }
            }
        }
    }

    fn snapshot(&self, now: Instant, connections: bool) -> Snapshot {
        let drops = self.queue_drops.load(Ordering::Relaxed);
        Snapshot::of(&self.router, now, connections, drops)
    }
}
