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

/// Returns true if `python3` can import every module of `modules` (the clients a test drives);
/// otherwise prints why the test skips and returns false. Under CI a missing module is a
/// failure, not a skip (`scripts/install-deps.sh` installs them).
pub fn require_python_modules(test: &str, modules: &[&str]) -> bool {
    let import = format!("import {}", modules.join(", "));
    let found = std::process::Command::new("python3")
        .args(["-c", &import])
        .output();
    let why = match found {
        Ok(out) if out.status.success() => return true,
        Ok(out) => String::from_utf8_lossy(&out.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string(),
        Err(e) => format!("python3: {e}"),
    };
    assert!(
        !in_ci(),
        "{test}: needs the Python modules {modules:?} ({why}), and CI must not skip it"
    );
    eprintln!("SKIP {test}: needs the Python modules {modules:?} ({why}); scripts/install-deps.sh installs them");
    false
}
