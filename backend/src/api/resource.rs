//! `/system/resource`: the host statewall runs on, as RouterOS's APIs show a router's
//! (routeros.md §9): uptime, CPU load and memory, every value a string.
//!
//! Figures come from `/proc`: the uptime is statewall's own (its process start, from
//! `/proc/self/stat`, against `/proc/uptime`); `cpu-load` is the share of busy time of all CPUs
//! between two readings of `/proc/stat` at least [`MIN_SAMPLE`] apart (the first reading gives
//! the average since boot); memory is `/proc/meminfo`'s `MemTotal` and `MemAvailable`.

use shared::duration::Duration;
use shared::feed::SystemResource;
use std::sync::Mutex;
use std::time::Instant;

/// Readings of `/proc/stat` closer together than this keep the previous load: too few ticks
/// to mean anything.
pub const MIN_SAMPLE: std::time::Duration = std::time::Duration::from_millis(500);

/// The figures now. Reads a few small `/proc` files: cheap, but blocking in principle.
pub fn current() -> SystemResource {
    let stat = read("/proc/stat");
    let cpu_count = cpu_count(&stat);
    let cpu_load = cpu_times(&stat).map_or(0, |t| sampler().load(t, Instant::now()));
    let (total_memory, free_memory) = memory(&read("/proc/meminfo")).unwrap_or((0, 0));
    let uptime = process_uptime(
        &read("/proc/self/stat"),
        &read("/proc/uptime"),
        clock_ticks(),
    )
    .unwrap_or(Duration::ZERO);
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == "model name").then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    let board = read("/sys/devices/virtual/dmi/id/product_name");
    SystemResource {
        uptime,
        version: format!("{} (development)", env!("CARGO_PKG_VERSION")),
        free_memory,
        total_memory,
        cpu,
        cpu_count: if cpu_count > 0 {
            cpu_count
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
        },
        cpu_load,
        architecture_name: architecture_name(std::env::consts::ARCH).to_string(),
        board_name: match board.trim() {
            "" => "statewall".to_string(),
            name => name.to_string(),
        },
        platform: "statewall".into(),
    }
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// RouterOS's names for CPU architectures (`x86_64`, `arm64`, `arm`, `mipsbe`, …).
fn architecture_name(arch: &str) -> &str {
    match arch {
        "aarch64" => "arm64",
        "mips" => "mipsbe",
        "powerpc" => "powerpc",
        other => other,
    }
}

/// Busy and total time of all CPUs, in ticks since boot (`/proc/stat`'s `cpu` line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CpuTimes {
    busy: u64,
    total: u64,
}

fn cpu_times(stat: &str) -> Option<CpuTimes> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|w| w.parse().unwrap_or(0))
        .collect();
    if v.len() < 4 {
        return None;
    }
    let total: u64 = v.iter().sum();
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some(CpuTimes {
        busy: total.saturating_sub(idle),
        total,
    })
}

fn cpu_count(stat: &str) -> u64 {
    stat.lines()
        .filter(|l| {
            l.strip_prefix("cpu")
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .count() as u64
}

/// Percent busy from `before` to `after`, rounded.
fn load_between(before: CpuTimes, after: CpuTimes) -> Option<u64> {
    let total = after.total.checked_sub(before.total)?;
    let busy = after.busy.checked_sub(before.busy)?;
    (total > 0).then(|| ((busy * 100 + total / 2) / total).min(100))
}

/// The last reading of `/proc/stat` and the load it gave.
#[derive(Debug, Default)]
struct Sampler {
    last: Option<(Instant, CpuTimes)>,
    load: u64,
}

impl Sampler {
    fn load(&mut self, now_times: CpuTimes, now: Instant) -> u64 {
        match self.last {
            None => {
                let since_boot = CpuTimes { busy: 0, total: 0 };
                self.load = load_between(since_boot, now_times).unwrap_or(0);
                self.last = Some((now, now_times));
            }
            Some((at, before)) if now.saturating_duration_since(at) >= MIN_SAMPLE => {
                if let Some(load) = load_between(before, now_times) {
                    self.load = load;
                }
                self.last = Some((now, now_times));
            }
            Some(_) => {}
        }
        self.load
    }
}

/// One sampler for the process: `/proc/stat` is the host's, whoever asks.
fn sampler() -> std::sync::MutexGuard<'static, Sampler> {
    static SAMPLER: Mutex<Sampler> = Mutex::new(Sampler {
        last: None,
        load: 0,
    });
    SAMPLER.lock().unwrap_or_else(|e| e.into_inner())
}

/// `(total, available)` bytes from `/proc/meminfo` (`MemFree` when there is no `MemAvailable`).
fn memory(meminfo: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        meminfo.lines().find_map(|l| {
            let rest = l.strip_prefix(name)?.strip_prefix(':')?;
            let kib: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            Some(kib * 1024)
        })
    };
    let total = field("MemTotal")?;
    let free = field("MemAvailable").or_else(|| field("MemFree"))?;
    Some((total, free))
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(t).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// The process's age: the host's uptime less the process's start (field 22 of
/// `/proc/self/stat`, in clock ticks since boot). The command name (field 2) may hold spaces
/// and parentheses, so fields are counted after its last `)`.
fn process_uptime(self_stat: &str, uptime: &str, ticks_per_sec: u64) -> Option<Duration> {
    let after_name = &self_stat[self_stat.rfind(')')? + 1..];
    // Field 3 (state) is the first after the name; field 22 is the 20th.
    let start_ticks: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let host_secs: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    let host_micros = (host_secs * 1e6) as u64;
    let start_micros = start_ticks.checked_mul(1_000_000)? / ticks_per_sec.max(1);
    // Whole seconds, as RouterOS prints an uptime.
    let secs = host_micros.saturating_sub(start_micros) / 1_000_000;
    Some(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT_1: &str = "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\n\
                          cpu1 50 0 50 350 50 0 0 0 0 0\nintr 12345\nctxt 99\n";
    const STAT_2: &str = "cpu  400 0 200 1000 100 0 0 0 0 0\ncpu0 1 0 1 1 1 0 0 0 0 0\n\
                          cpu1 1 0 1 1 1 0 0 0 0 0\n";

    #[test]
    fn cpu_load_is_busy_share_over_the_interval() {
        let a = cpu_times(STAT_1).unwrap();
        let b = cpu_times(STAT_2).unwrap();
        assert_eq!(
            a,
            CpuTimes {
                busy: 200,
                total: 1000
            }
        );
        assert_eq!(cpu_count(STAT_1), 2);
        // 300 + 100 busy of 700 more ticks.
        assert_eq!(load_between(a, b), Some(57));
        assert_eq!(load_between(a, a), None);
        let t0 = Instant::now();
        let mut s = Sampler::default();
        // First reading: the average since boot.
        assert_eq!(s.load(a, t0), 20);
        // Too soon: the previous figure stands.
        assert_eq!(s.load(b, t0 + std::time::Duration::from_millis(10)), 20);
        assert_eq!(s.load(b, t0 + std::time::Duration::from_secs(1)), 57);
    }

    #[test]
    fn memory_and_uptime_from_proc() {
        let meminfo = "MemTotal:        2000000 kB\nMemFree:          100000 kB\n\
                       MemAvailable:    1500000 kB\n";
        assert_eq!(memory(meminfo), Some((2_048_000_000, 1_536_000_000)));
        assert_eq!(
            memory("MemTotal: 10 kB\nMemFree: 4 kB\n"),
            Some((10_240, 4096))
        );
        assert_eq!(memory("nothing"), None);
        // A command name with a space and a parenthesis; starttime 150000 ticks = 1500 s.
        let stat = "4242 (state wall) x) S 1 4242 4242 0 -1 4194560 1 0 0 0 5 3 0 0 20 0 \
                    4 0 150000 100000 50 18446744073709551615";
        assert_eq!(
            process_uptime(stat, "1700.52 3000.00\n", 100),
            Some(Duration::from_secs(200))
        );
        assert_eq!(process_uptime("garbage", "1 1", 100), None);
        // The real one parses.
        let real = process_uptime(
            &read("/proc/self/stat"),
            &read("/proc/uptime"),
            clock_ticks(),
        );
        assert!(real.is_some());
    }

    #[test]
    fn architecture_names_are_routeros_names() {
        assert_eq!(architecture_name("x86_64"), "x86_64");
        assert_eq!(architecture_name("aarch64"), "arm64");
        let r = current();
        assert_eq!(r.platform, "statewall");
        assert!(r.total_memory > 0 && r.cpu_count > 0);
        assert!(r.cpu_load <= 100);
    }
}
