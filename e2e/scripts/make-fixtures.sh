#!/usr/bin/env bash
# make-fixtures.sh — record real traffic through a *Linux kernel* router, with the kernel's own
# conntrack view of it, as reference fixtures for statewall (e2e/fixtures/).
#
#   lan (client)            rtr (kernel: ip_forward, conntrack, masquerade)          wan (server)
#   l0 198.51.100.10/24 ── rl 198.51.100.1/24 | rw 203.0.113.1/24 ── w0 203.0.113.2/24
#
# For every scenario NAME it writes:
#   NAME.pcap                 tcpdump on rl (the router's LAN port: what statewall's LAN port sees)
#   NAME-wan.pcap             tcpdump on rw (the router's WAN port: the masqueraded side)
#   NAME.conntrack.txt        `conntrack -L -o extended` then `conntrack -L`, taken right after the scenario
#   NAME.conntrack-time       `date +%s.%N` taken immediately before that listing
#   NAME.conntrack-events.txt `conntrack -E -o timestamp,extended` during the scenario (NEW/UPDATE/DESTROY)
#   NAME.nft.txt              `nft list ruleset` with the counters of this scenario only
# plus versions.txt (kernel, tools, the conntrack sysctls in force).
#
# usage: sudo e2e/scripts/make-fixtures.sh [OUTDIR]      (default: e2e/fixtures next to this script)
# Needs root. Everything happens in three fresh namespaces named swfx-<pid>-{lan,rtr,wan}, on
# documentation addresses only; all of it is removed on any exit. Every process is time-bounded.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:-$HERE/../fixtures}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

P=swfx-$$
LAN=$P-lan RTR=$P-rtr WAN=$P-wan
TMP=$(mktemp -d /tmp/swfx-fixtures.XXXXXX)
PIDS=()

log() { printf '[make-fixtures] %s\n' "$*" >&2; }

cleanup() {
  local rc=$?
  set +e
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  for ns in "$LAN" "$RTR" "$WAN"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$TMP"
  [ "$rc" -ne 0 ] && log "FAILED (exit $rc); namespaces and processes removed, $OUT left as it was"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }

# --- tools ------------------------------------------------------------------------------------------
need() { # need COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null; }
}
need ip iproute2; need ss iproute2; need tcpdump tcpdump; need conntrack conntrack; need nft nftables
need ethtool ethtool; need ping iputils-ping; need curl curl; need python3 python3
# pyenv shims re-resolve on every call; pin the real interpreter once.
PY=$(python3 -c 'import sys; print(sys.executable)')

# the kernel router's ruleset; reloaded before every scenario so its counters are that scenario's
# alone (nft 1.0.6 `reset counters` only resets named counters, not the anonymous rule counters)
load_rules() {
  ip netns exec "$RTR" nft -f - <<'NFT'
flush ruleset
table ip nat {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    oifname "rw" counter masquerade
  }
}
table inet filter {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established counter accept
    ct state related counter accept
    ct state invalid counter drop
    iifname "rl" oifname "rw" ct state new counter accept
    counter comment "dropped by policy"
  }
}
NFT
}

# --- lab --------------------------------------------------------------------------------------------
lab_up() {
  for ns in "$LAN" "$RTR" "$WAN"; do
    ip netns add "$ns"
    # no IPv6: keeps router solicitations and MLD reports out of the captures
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$ns" link set lo up
  done
  # created inside the namespaces, never in the root namespace; fixed MACs keep the fixtures stable
  ip -n "$LAN" link add l0 address 02:00:00:00:01:10 type veth peer name rl netns "$RTR" address 02:00:00:00:01:01
  ip -n "$WAN" link add w0 address 02:00:00:00:02:02 type veth peer name rw netns "$RTR" address 02:00:00:00:02:01
  ip -n "$LAN" addr add 198.51.100.10/24 dev l0
  ip -n "$RTR" addr add 198.51.100.1/24 dev rl
  ip -n "$RTR" addr add 203.0.113.1/24 dev rw
  ip -n "$WAN" addr add 203.0.113.2/24 dev w0
  # checksums in the captures must be real: no tx checksum offload (and no TSO/GSO super-frames,
  # no GRO coalescing) on any veth end
  for p in "$LAN:l0" "$RTR:rl" "$RTR:rw" "$WAN:w0"; do
    ip netns exec "${p%%:*}" ethtool -K "${p##*:}" tx off tso off gso off gro off >/dev/null
    ip -n "${p%%:*}" link set "${p##*:}" up
  done
  ip -n "$LAN" route add default via 198.51.100.1
  # wan has no route back to the LAN prefix: only masqueraded traffic can be answered

  load_rules
  # RouterOS v6 /ip firewall connection tracking defaults, so kernel timeouts compare with statewall's
  ip netns exec "$RTR" sysctl -qw \
    net.ipv4.ip_forward=1 \
    net.netfilter.nf_conntrack_acct=1 \
    net.netfilter.nf_conntrack_tcp_timeout_syn_sent=5 \
    net.netfilter.nf_conntrack_tcp_timeout_syn_recv=5 \
    net.netfilter.nf_conntrack_tcp_timeout_established=86400 \
    net.netfilter.nf_conntrack_tcp_timeout_fin_wait=10 \
    net.netfilter.nf_conntrack_tcp_timeout_close_wait=10 \
    net.netfilter.nf_conntrack_tcp_timeout_last_ack=10 \
    net.netfilter.nf_conntrack_tcp_timeout_time_wait=10 \
    net.netfilter.nf_conntrack_tcp_timeout_close=10 \
    net.netfilter.nf_conntrack_tcp_timeout_max_retrans=300 \
    net.netfilter.nf_conntrack_tcp_timeout_unacknowledged=300 \
    net.netfilter.nf_conntrack_udp_timeout=10 \
    net.netfilter.nf_conntrack_udp_timeout_stream=180 \
    net.netfilter.nf_conntrack_icmp_timeout=10 \
    net.netfilter.nf_conntrack_generic_timeout=600
}

# --- capture around one scenario --------------------------------------------------------------------
LAST_PID=
bg() { # bg LOGFILE CMD... : start a background process, remember its PID (LAST_PID) for cleanup
  local logf=$1; shift
  "$@" >"$logf" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

wait_for() { # wait_for SECONDS CMD... : poll until CMD succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "timed out waiting for: $*"; return 1; }
    sleep 0.05
  done
}

stop_pid() { # SIGINT lets tcpdump flush and conntrack -E exit cleanly
  kill -INT "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

CAP_PIDS=()
cap_start() {
  local name=$1
  ip netns exec "$RTR" conntrack -F >/dev/null 2>&1 || true
  load_rules
  # every capture starts with ARP, like a freshly booted router would see it
  for ns in "$LAN" "$RTR" "$WAN"; do ip -n "$ns" neigh flush all; done
  CAP_PIDS=()
  # --immediate-mode matters: without it libpcap's TPACKET_V3 ring holds packets until a block
  # retires, and whatever sits in the current block when tcpdump gets SIGINT is lost (a short TCP
  # exchange came out as an empty file)
  bg "$TMP/$name.tcpdump-lan.log" timeout 120 ip netns exec "$RTR" \
    tcpdump -i rl --immediate-mode -nn -U -Z root --time-stamp-precision=nano -w "$TMP/$name.pcap"
  CAP_PIDS+=("$LAST_PID")
  bg "$TMP/$name.tcpdump-wan.log" timeout 120 ip netns exec "$RTR" \
    tcpdump -i rw --immediate-mode -nn -U -Z root --time-stamp-precision=nano -w "$TMP/$name-wan.pcap"
  CAP_PIDS+=("$LAST_PID")
  bg "$TMP/$name.conntrack-events.txt" timeout 120 ip netns exec "$RTR" conntrack -E -o timestamp,extended
  CAP_PIDS+=("$LAST_PID")
  wait_for 10 grep -q "listening on" "$TMP/$name.tcpdump-lan.log"
  wait_for 10 grep -q "listening on" "$TMP/$name.tcpdump-wan.log"
  sleep 0.2 # conntrack -E has no ready message
}

cap_stop() {
  local name=$1
  sleep 0.3 # let the last ACKs cross
  {
    echo "# conntrack -L -o extended"
    date +%s.%N >"$TMP/$name.conntrack-time"
    ip netns exec "$RTR" conntrack -L -o extended 2>/dev/null
    echo "# conntrack -L"
    ip netns exec "$RTR" conntrack -L 2>/dev/null
  } >"$TMP/$name.conntrack.txt"
  ip netns exec "$RTR" nft list ruleset >"$TMP/$name.nft.txt"
  for pid in "${CAP_PIDS[@]}"; do stop_pid "$pid"; done
  sed -i '/^$/d; /flow events have been shown/d' "$TMP/$name.conntrack-events.txt"
  log "$name: $(grep -h 'packets captured' "$TMP/$name.tcpdump-lan.log") on rl," \
      "$(grep -h 'packets captured' "$TMP/$name.tcpdump-wan.log") on rw"
}

in_lan() { ip netns exec "$LAN" timeout 20 "$@"; }

# --- scenarios --------------------------------------------------------------------------------------
lab_up
log "lab up: $LAN / $RTR / $WAN, kernel $(uname -r)"

# servers in wan, each bounded in time
mkdir -p "$TMP/www"
printf 'hello from wan\n' >"$TMP/www/index.html"
# HTTP/1.1 keeps the connection open after the response, so curl always closes first (with the
# default HTTP/1.0 both ends race to close, and some runs record a simultaneous close)
bg "$TMP/http.log" timeout 300 ip netns exec "$WAN" "$PY" -m http.server 8080 --bind 203.0.113.2 \
  --protocol HTTP/1.1 --directory "$TMP/www"
cat >"$TMP/dns_server.py" <<'PY'
# A DNS-shaped UDP responder on 203.0.113.2:53: answers every query with one A record (203.0.113.2).
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("203.0.113.2", 53))
while True:
    q, peer = s.recvfrom(512)
    if len(q) < 12:
        continue
    qid = q[:2]
    question = q[12:]
    answer = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("203.0.113.2")
    s.sendto(qid + b"\x81\x80" + struct.pack("!HHHH", 1, 1, 0, 0) + question + answer, peer)
PY
cat >"$TMP/dns_client.py" <<'PY'
# usage: dns_client.py SPORT COUNT INTERVAL — COUNT DNS-shaped queries from 198.51.100.10:SPORT
import socket, struct, sys, time
sport, count, interval = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.10", sport))
s.settimeout(1.0)
qname = b"".join(bytes([len(l)]) + l for l in b"statewall.test".split(b".")) + b"\0"
for i in range(count):
    q = struct.pack("!HHHHHH", 0x5700 + i, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
    s.sendto(q, ("203.0.113.2", 53))
    r, _ = s.recvfrom(512)
    assert r[:2] == q[:2], "wrong answer id"
    if i + 1 < count:
        time.sleep(interval)
print(f"{count} answers on sport {sport}")
PY
bg "$TMP/dns.log" timeout 300 ip netns exec "$WAN" "$PY" "$TMP/dns_server.py"
wait_for 10 sh -c "ip netns exec $WAN ss -Htln 'sport = :8080' | grep -q ."
wait_for 10 sh -c "ip netns exec $WAN ss -Huln 'sport = :53' | grep -q ."

# 1. HTTP over TCP: handshake, one GET, orderly close started by the client
cap_start curl-http
in_lan curl -sS --max-time 5 --local-port 40080 -o "$TMP/curl-body.txt" http://203.0.113.2:8080/
cap_stop curl-http
grep -q 'hello from wan' "$TMP/curl-body.txt"

# 2. UDP: one quick query/answer (stays "udp" timeout), one flow that keeps talking for 3.5 s
#    (after 2 s with replies the kernel marks it ASSURED and gives it the udp_stream timeout)
cap_start udp-dns-like
in_lan "$PY" "$TMP/dns_client.py" 40053 1 0
# 0.45 s apart, so no exchange falls near the 2 s stream boundary, where the kernel's jiffies and
# the capture's clock could disagree about which side of it a packet is.
in_lan "$PY" "$TMP/dns_client.py" 40054 8 0.45
cap_stop udp-dns-like

# 3. ICMP echo x3, then one UDP datagram to a closed port: wan answers ICMP port-unreachable,
#    which the router classifies as RELATED to the UDP entry
cap_start ping
in_lan ping -c 3 -i 0.2 -W 2 203.0.113.2 >"$TMP/ping.log"
in_lan "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.51.100.10", 40033))
s.connect(("203.0.113.2", 33434))
s.send(b"statewall probe")
s.settimeout(2.0)
try:
    s.recv(100)
    raise SystemExit("expected ICMP port unreachable")
except ConnectionRefusedError:
    print("port unreachable received")
'
cap_stop ping
grep -q '3 received' "$TMP/ping.log"

# 4. TCP connect to a closed port: SYN, then RST-ACK from wan
cap_start tcp-refused
in_lan "$PY" -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("198.51.100.10", 40081))
s.settimeout(2.0)
try:
    s.connect(("203.0.113.2", 8081))
    raise SystemExit("expected connection refused")
except ConnectionRefusedError:
    print("refused")
'
cap_stop tcp-refused

# --- checks -----------------------------------------------------------------------------------------
# tcpdump -vv flags bad TCP ("incorrect"), UDP ("bad udp cksum") and ICMP ("wrong icmp cksum")
# checksums; pcap-checksums.py recomputes all of them independently.
for f in "$TMP"/*.pcap; do
  if tcpdump -r "$f" -nn -vv 2>/dev/null | grep -Eiq 'incorrect|bad .*cksum|wrong .*cksum'; then
    log "bad checksum in $(basename "$f"):"
    tcpdump -r "$f" -nn -vv 2>/dev/null | grep -Ei 'incorrect|bad .*cksum|wrong .*cksum' >&2
    exit 1
  fi
  [ "$(tcpdump -r "$f" -nn 2>/dev/null | wc -l)" -gt 0 ] || { log "empty capture $(basename "$f")"; exit 1; }
done
"$PY" "$HERE/pcap-checksums.py" "$TMP"/*.pcap | sed "s|$TMP/||" >&2

{
  echo "made:       $(date -u +%Y-%m-%dT%H:%M:%SZ) by e2e/scripts/make-fixtures.sh"
  echo "kernel:     $(uname -srmv)"
  echo "tcpdump:    $(tcpdump --version 2>&1 | head -1); $(tcpdump --version 2>&1 | sed -n 2p)"
  echo "conntrack:  $(conntrack --version 2>&1 | head -1)"
  echo "nft:        $(nft --version 2>&1 | head -1)"
  echo "iproute2:   $(ip -V 2>&1 | head -1)"
  echo "python:     $("$PY" --version 2>&1)"
  echo "curl:       $(curl --version | head -1)"
  echo "rtr sysctls in force:"
  ip netns exec "$RTR" sysctl net.ipv4.ip_forward net.netfilter.nf_conntrack_acct \
    $(cd /proc/sys/net/netfilter && ls -d nf_conntrack_{tcp,udp,icmp,generic}_timeout* | sed 's/^/net.netfilter./') | sed 's/^/  /'
} >"$TMP/versions.txt"

# publish only after everything succeeded
for f in "$TMP"/*.pcap "$TMP"/*.conntrack.txt "$TMP"/*.conntrack-time "$TMP"/*.conntrack-events.txt \
         "$TMP"/*.nft.txt "$TMP/versions.txt"; do
  cp "$f" "$OUT/"
done
log "wrote to $OUT:"
(cd "$OUT" && ls -l -- *.pcap *.conntrack.txt *.conntrack-time *.conntrack-events.txt *.nft.txt versions.txt) >&2
