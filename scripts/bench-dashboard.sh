#!/bin/bash
# The dashboard's budgets (issue 6), for BENCHMARKS.md:
#   - the bundle: the release build's wasm, JS and CSS, raw and gzip -9 (target: wasm ≤ 300 KB
#     gzipped);
#   - in headless Chromium in the lab, with 100 and then 100 000 connections in the table:
#     feed message → updated screen, and frame times while a script scrolls the connection
#     table (target ≤ 16 ms a frame) — e2e/src/bin/dashboard_bench.rs, which prints the figures
#     and a markdown table with the ratio of the large table to the small one.
#
# usage: bash scripts/bench-dashboard.sh [--bundle-only]
#   as root (the lab's namespaces). Builds the frontend (trunk, release) into frontend/dist, then
#   statewall (release, which embeds frontend/dist), swload and dashboard_bench in release.
#   CARGO_TARGET_DIR is honoured. Nothing fails on speed: the figures are printed.
set -euo pipefail

BUNDLE_ONLY=0
case "${1:-}" in
--bundle-only) BUNDLE_ONLY=1 ;;
"") ;;
-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
*) echo "bench-dashboard.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
export TRUNK_OFFLINE=true TRUNK_SKIP_VERSION_CHECK=true
export PATH="$ROOT/frontend/node_modules/.bin:$PATH"

echo "== trunk build --release"
(cd "$ROOT/frontend" && trunk build --release)

echo "== bundle (frontend/dist)"
printf '%-40s %10s %10s\n' file bytes gzip-9
for f in "$ROOT"/frontend/dist/*.wasm "$ROOT"/frontend/dist/*.js "$ROOT"/frontend/dist/*.css; do
  printf '%-40s %10d %10d\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9 -c "$f" | wc -c)"
done

[ "$BUNDLE_ONLY" = 1 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "bench-dashboard.sh: run as root (the lab's namespaces)" >&2; exit 1; }

echo "== cargo build --release (statewall embeds frontend/dist; swload; dashboard_bench)"
(cd "$ROOT" && cargo build --release -p backend --bin statewall)
(cd "$ROOT" && cargo build --release -p e2e --bin swload --bin dashboard_bench)

echo "== dashboard_bench"
"$TARGET/release/dashboard_bench"
