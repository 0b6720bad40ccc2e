#!/usr/bin/env bash
# Installs the tools statewall's tests use, idempotently: anything already present is skipped.
set -euo pipefail

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
