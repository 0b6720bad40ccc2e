//! Privileged tests run in CI (as root). Elsewhere they may skip with a printed reason; under
//! CI a skip is a failure, so nothing passes by skipping.

/// Whether this process is root.
pub fn is_root() -> bool {
    // The effective uid, from /proc: no unsafe call needed.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

/// Whether we run under CI (`CI` set to anything but empty or `false`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Returns true if a root-only test may run; otherwise prints why it skips and returns false.
/// Under CI a missing privilege is a failure, not a skip.
pub fn require_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    assert!(!in_ci(), "{test}: needs root, and CI must not skip it");
    eprintln!("SKIP {test}: needs root (network namespaces); runs in CI");
    false
}
