//! statewall's connection table against the Linux kernel's, on the same traffic.
//!
//! `fresh_captures_match_the_kernel` builds a LAN–router–WAN lab in network namespaces with the
//! kernel as the router (conntrack + masquerade, RouterOS timeouts), runs real tools through it
//! (curl, a UDP request/response client, ping, a refused TCP connect) while capturing the router's
//! LAN port, lists the kernel's table, then replays each capture through statewall and compares.
//! `committed_fixtures_match_the_kernel` does the same on the captures kept in the repo.

use e2e::kernel::{assert_same_table, replay_lines};
use std::path::PathBuf;
use std::process::Command;

const SCENARIOS: [&str; 4] = ["curl-http", "udp-dns-like", "ping", "tcp-refused"];

fn here() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_fixtures_match_the_kernel() {
    let dir = here().join("fixtures");
    for name in SCENARIOS {
        assert_same_table(replay_lines(&dir, name), &dir, name);
    }
}

/// Removes the output folder however the test ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn fresh_captures_match_the_kernel() {
    if !e2e::env::require_root("fresh_captures_match_the_kernel") {
        return;
    }
    let dir =
        TempDir(std::env::temp_dir().join(format!("statewall-e2e-kernel-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    // The script bounds every process in time and removes its namespaces on any exit.
    let status = Command::new("bash")
        .arg(here().join("scripts/make-fixtures.sh"))
        .arg(&dir.0)
        .status()
        .expect("make-fixtures.sh runs");
    assert!(status.success(), "make-fixtures.sh failed: {status}");
    for name in SCENARIOS {
        assert_same_table(replay_lines(&dir.0, name), &dir.0, name);
    }
}
