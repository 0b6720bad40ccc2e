#!/usr/bin/env bash
# Every test statewall has: formatting, lints, unit and scenario tests, replay against real
# captures, and the fuzz targets (built, then run for a bounded number of inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace --all-targets

echo "== benchmarks compile"
cargo bench -p dataplane --no-run

echo "== fuzz targets"
(
  cd dataplane/fuzz
  export RUSTC_BOOTSTRAP=1
  cargo fuzz build -O --sanitizer none
  for target in $(cargo fuzz list); do
    cargo fuzz run -O --sanitizer none "$target" -- -runs=500000 -max_total_time=20 -max_len=2048
  done
)
echo "== all tests passed"
