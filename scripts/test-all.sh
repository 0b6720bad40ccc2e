#!/usr/bin/env bash
# Every test statewall has: the dashboard build, formatting, lints, unit and scenario tests (the
# dashboard's in headless Chromium), replay against real captures, and the fuzz targets (built,
# then run for a bounded number of inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

# The dashboard's tools (shared/reference/toolchain.md): binaryen 132's wasm-opt first on PATH
# (Trunk.toml refuses any other), trunk offline and without its update check.
export PATH="$PWD/frontend/node_modules/.bin:$PATH" TRUNK_OFFLINE=true TRUNK_SKIP_VERSION_CHECK=true

# Before anything builds the backend, which embeds frontend/dist.
echo "== trunk build --release (the dashboard)"
(cd frontend && trunk build --release)

echo "== cargo fmt --check"
cargo fmt --all -- --check

# The frontend is WebAssembly only: linted and tested for wasm32 (its tests in headless
# Chromium, through the runner of .cargo/config.toml), not built for the host.
echo "== cargo clippy"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown --all-targets -- -D warnings

echo "== cargo test"
cargo test --workspace --exclude frontend --all-targets
cargo test -p frontend --target wasm32-unknown-unknown

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
