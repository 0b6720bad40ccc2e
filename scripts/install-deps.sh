#!/usr/bin/env bash
# Installs the tools statewall's tests use, idempotently: anything already present is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for tool in ip:iproute2 tcpdump:tcpdump ethtool:ethtool nft:nftables conntrack:conntrack \
            curl:curl socat:socat ping:iputils-ping; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_apt+=("${tool##*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "install-deps: apt-get install ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "install-deps: not root, cannot install ${need_apt[*]}; tests that need them will say so"
  fi
fi

rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy

# cargo-fuzz builds the fuzz targets (the test command builds and briefly runs them).
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install --locked cargo-fuzz --version 0.13.2 || cargo install cargo-fuzz --version 0.13.2
fi

# The binary API's tests drive the real Python clients (pinned): routeros_api and librouteros.
# Debian 12's python3 may lack pip (python3-pip) and refuses system-wide installs unless told
# (--break-system-packages, PEP 668); CI runs as root on a machine of its own.
PY_PKGS=(RouterOS-api==0.21.0 librouteros==4.2.2)
if ! python3 - "${PY_PKGS[@]}" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
for spec in sys.argv[1:]:
    name, want = spec.split("==")
    assert version(name) == want, spec
PY
then
  if ! python3 -m pip --version >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    echo "install-deps: apt-get install python3-pip"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends python3-pip >/dev/null
  fi
  pip_flags=(--quiet --disable-pip-version-check)
  if python3 -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")))'; then
    pip_flags+=(--break-system-packages)
  fi
  echo "install-deps: pip install ${PY_PKGS[*]}"
  python3 -m pip install "${pip_flags[@]}" "${PY_PKGS[@]}" ||
    echo "install-deps: could not install ${PY_PKGS[*]}; the binary API's client tests will say so"
fi

# The dashboard's tools (shared/reference/toolchain.md, "Commands for CI"): chromium and its
# driver (same version, with recommends: fonts for screenshots), the wasm target, trunk 0.21.14
# (0.22 needs a newer rustc), wasm-bindgen-cli at exactly the version of Cargo.lock, and
# binaryen 132's wasm-opt from npm (Debian's 108 breaks the app at run time).
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "install-deps: apt-get install chromium chromium-driver"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "install-deps: not root, cannot install chromium; the dashboard's browser tests need it"
  fi
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
trunk --version 2>/dev/null | grep -qx 'trunk 0.21.14' || cargo install --locked trunk --version 0.21.14
WB=$(grep -A1 '^name = "wasm-bindgen"$' Cargo.lock | sed -n 's/^version = "\(.*\)"/\1/p')
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WB"; then
  # --locked fails for some versions (a pinned crate the registry lacks); then unlocked.
  cargo install --locked wasm-bindgen-cli --version "$WB" || cargo install wasm-bindgen-cli --version "$WB"
fi
frontend/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version 132" ||
  (cd frontend && npm ci --no-audit --no-fund)
