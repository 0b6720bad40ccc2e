#!/bin/bash
# statewall against the Linux kernel as the router, on the same three namespaces with the same
# veth offload settings (shared/reference/lab.md: "compare under the same settings").
#
#   lan (198.51.100.10, eth0) — ether2 [ rtr ] ether1 — (eth0, 203.0.113.2) wan
#
# For each repetition, first the kernel routes (ip_forward, nf_conntrack, the defconf-like filter
# and masquerade of scripts/bench/kernel.nft), then `statewall run` with defconf (router ports
# bare, ip_forward 0); the namespaces are rebuilt for each. Measured for each router:
#   - TCP throughput: iperf3, SECS s, LAN → WAN;
#   - 64-byte UDP packets per second: a one-thread blaster (swload) for SECS s, counted as frames
#     received on the WAN veth; the WAN host drops them in nft, so nothing answers (lab.md's fair
#     small-packet figure);
#   - new TCP connections per second: one client in a closed loop of connect + RST close for
#     SECS/2 s against an accept-and-close server with backlog 4096 (lab.md, backlog trap).
# Each phase waits (up to ~30 s) for an idle box (< 12 % busy) and warns if it is not; a phase
# during which other work used the box (user time not the router's above 10 %) is measured again,
# up to twice. Every load runs under `timeout`, at nice -15. Unless --no-perf, one extra,
# unmeasured statewall blast runs under `perf record -g -p <router pid>`, and the split by thread
# and system call and the top symbols are printed.
#
# usage: bash scripts/bench-vs-kernel.sh [--reps N] [--seconds S] [--out DIR] [--no-perf]
#   as root; builds statewall and swload in release first (CARGO_TARGET_DIR is honoured).
#   Prints a markdown table for BENCHMARKS.md; raw results stay in DIR.
set -euo pipefail

REPS=2
SECS=10
PERF=1
OUT=
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
  --reps) REPS=$2; shift 2 ;;
  --seconds) SECS=$2; shift 2 ;;
  --out) OUT=$2; shift 2 ;;
  --no-perf) PERF=0; shift ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench-vs-kernel.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $REPS =~ ^[1-9][0-9]*$ && $SECS =~ ^[1-9][0-9]*$ ]] || { echo "--reps and --seconds take whole numbers ≥ 1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench-vs-kernel.sh: run as root (namespaces, nft, perf)" >&2; exit 1; }
CONN_SECS=$(( (SECS + 1) / 2 ))

ROOT=$(cd "$(dirname "$0")/.." && pwd)
HERE=$ROOT/scripts/bench
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
SW=$TARGET/release/statewall
LOAD=$TARGET/release/swload
OUT=${OUT:-/tmp/statewall-bench-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
: > "$OUT/results.tsv"
: > "$OUT/warnings.txt"

# The namespaces; the veths live only inside them.
NS_LAN=swbench-lan
NS_RTR=swbench-rtr
NS_WAN=swbench-wan
LAN_HOST=198.51.100.10
RTR_LAN=198.51.100.1
RTR_WAN=203.0.113.1
WAN_HOST=203.0.113.2

log() { echo "== $*" >&2; }
warn() { echo "   WARNING: $*" >&2; echo "$*" >> "$OUT/warnings.txt"; }

# --- processes we started, stopped by pid only, and the clean-up ---------------------------------
ROUTER_PID=
BG_PIDS=()
stop_pid() { # pid [signal-wait seconds]: TERM, wait, then KILL; only our own children
  local pid=$1 wait=${2:-5} i
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$$" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < wait * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && { echo "   pid $pid ignored SIGTERM; SIGKILL" >&2; kill -KILL "$pid" 2>/dev/null || true; }
  wait "$pid" 2>/dev/null || true
}
stop_router() {
  [ -n "$ROUTER_PID" ] || return 0
  stop_pid "$ROUTER_PID" 10
  ROUTER_PID=
}
topo_down() {
  local n
  for n in $NS_LAN $NS_RTR $NS_WAN; do
    [ -e "/run/netns/$n" ] && ip netns del "$n" 2>/dev/null || true
  done
}
cleanup() {
  set +e
  trap - EXIT INT TERM
  local p
  for p in "${BG_PIDS[@]}"; do stop_pid "$p"; done
  stop_router
  topo_down
  rm -f "$OUT"/*.snap
}
trap cleanup EXIT
trap 'echo "bench-vs-kernel.sh: interrupted; cleaning up" >&2; exit 130' INT TERM

# One benchmark at a time (the namespace names are fixed); a killed run's namespaces are ours.
exec 9> /run/statewall-bench-vs-kernel.lock
flock -n 9 || { echo "bench-vs-kernel.sh: another run holds /run/statewall-bench-vs-kernel.lock" >&2; trap - EXIT; exit 1; }
topo_down

# --- tools and build -------------------------------------------------------------------------------
need() { # command package
  command -v "$1" > /dev/null && return
  log "installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" > /dev/null 2>&1 ||
    { apt-get update -q > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" > /dev/null; }
}
need ip iproute2
need nft nftables
need ethtool ethtool
need iperf3 iperf3
need ping iputils-ping
need flock util-linux
[ "$PERF" = 1 ] && ! command -v perf > /dev/null && { warn "perf not found: no profile (apt-get install linux-perf)"; PERF=0; }

log "building statewall and swload (release)"
(cd "$ROOT" && cargo build --release -q -p backend && cargo build --release -q -p e2e --bin swload)

# --- the topology ----------------------------------------------------------------------------------
nsx() { ip netns exec "$@"; }
topo_up() {
  local n
  for n in $NS_LAN $NS_RTR $NS_WAN; do
    ip netns add "$n"
    ip -n "$n" link set lo up
    nsx "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n $NS_LAN link add eth0 address 02:62:00:00:01:10 type veth peer name ether2 address 02:62:00:00:01:01 netns $NS_RTR
  ip -n $NS_WAN link add eth0 address 02:62:00:00:02:02 type veth peer name ether1 address 02:62:00:00:02:01 netns $NS_RTR
  # The same offloads for both routers: statewall needs the peers' checksum/segmentation offloads
  # and its ports' GRO off (lab.md, pitfall 1), so the kernel gets them off too.
  for p in $NS_LAN:eth0 $NS_RTR:ether2 $NS_RTR:ether1 $NS_WAN:eth0; do
    nsx "${p%%:*}" ethtool -K "${p##*:}" tx off tso off gso off gro off > /dev/null 2>&1
  done
  ip -n $NS_LAN addr add $LAN_HOST/24 dev eth0
  ip -n $NS_LAN link set eth0 up
  ip -n $NS_LAN route add default via $RTR_LAN
  nsx $NS_LAN sysctl -qw net.ipv4.ip_local_port_range="1024 65535"
  ip -n $NS_WAN addr add $WAN_HOST/24 dev eth0
  ip -n $NS_WAN link set eth0 up
  # The WAN host eats the blast (port 9) without an ICMP port-unreachable.
  printf 'table inet sink {\n chain in {\n  type filter hook input priority filter\n  udp dport 9 drop\n }\n}\n' | nsx $NS_WAN nft -f -
  nsx $NS_RTR sysctl -qw net.ipv4.ip_forward=0
  ip -n $NS_RTR link set ether2 up
  ip -n $NS_RTR link set ether1 up
}
reachable() { # seconds: until the LAN host pings the WAN host through the router
  local i
  for ((i = 0; i < $1; i++)); do
    nsx $NS_LAN ping -n -q -c 1 -W 1 $WAN_HOST > /dev/null 2>&1 && return 0
    [ -n "$ROUTER_PID" ] && ! kill -0 "$ROUTER_PID" 2>/dev/null && return 1
  done
  return 1
}
kernel_up() {
  ip -n $NS_RTR addr add $RTR_LAN/24 dev ether2
  ip -n $NS_RTR addr add $RTR_WAN/24 dev ether1
  ip -n $NS_RTR route add default via $WAN_HOST
  nsx $NS_RTR sysctl -qw net.ipv4.ip_forward=1
  nsx $NS_RTR nft -f "$HERE/kernel.nft" # set -e: a syntax error aborts the run (lab.md, traps)
}
statewall_up() { # rep
  local rsc=$OUT/statewall.rsc
  {
    "$LOAD" defconf ether2 ether1
    printf '/ip address\nadd address=%s/24 interface=ether2\nadd address=%s/24 interface=ether1\n' $RTR_LAN $RTR_WAN
    printf '/ip route\nadd dst-address=0.0.0.0/0 gateway=%s\n' $WAN_HOST
  } > "$rsc"
  NO_COLOR=1 ip netns exec $NS_RTR nice -n -15 "$SW" run --config "$rsc" > "$OUT/statewall-run$1.log" 2>&1 &
  ROUTER_PID=$!
}

# --- measuring -------------------------------------------------------------------------------------
waitidle() { # up to ~30 s for the box to be < 12 % busy over 2 s
  local k b=100
  for k in 1 2 3 4 5 6; do
    python3 "$HERE/cpustat.py" snap "$OUT/idle.snap"
    sleep 2
    b=$(python3 "$HERE/cpustat.py" diff "$OUT/idle.snap" | sed 's/.*busy=\([0-9]*\).*/\1/')
    [ "$b" -lt 12 ] && return 0
    sleep 3
  done
  warn "$PHASE: the box was still ${b}% busy before the run"
}
cpu_start() { python3 "$HERE/cpustat.py" snap "$OUT/phase.snap" $ROUTER_PID; }
cpu_stop() { python3 "$HERE/cpustat.py" diff "$OUT/phase.snap" $ROUTER_PID; }
record() { # router rep figure value detail cpu
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$OUT/results.tsv"
  printf '   %-9s run %s %-5s %12s  %s | %s\n' "$@" >&2
}
wan_rx() {
  ip -n $NS_WAN -s -j link show eth0 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["rx"]["packets"])'
}
spawn() { "$@" & BG_PIDS+=($!); }
spawn_wait() { local p; for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done; BG_PIDS=(); }

measure_tcp() { # router rep
  local json=$OUT/$1-tcp-$2.json cpu line
  PHASE="$1 tcp run $2"
  waitidle
  spawn ip netns exec $NS_WAN nice -n -15 timeout $((SECS + 30)) iperf3 -s -1 -B $WAN_HOST > "$OUT/$1-iperf3-server-$2.txt" 2>&1
  sleep 0.5
  cpu_start
  timeout $((SECS + 20)) ip netns exec $NS_LAN nice -n -15 iperf3 -c $WAN_HOST -t "$SECS" -J > "$json" || true
  cpu=$(cpu_stop)
  spawn_wait
  line=$(python3 - "$json" << 'PY'
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]
    print(e["sum_received"]["bits_per_second"] / 1e9, f"retr={e['sum_sent'].get('retransmits')}")
except Exception:
    print(0, "error=iperf3-failed")
PY
)
  RESULT=("${line%% *}" "${line#* }" "$cpu")
}
measure_blast() { # router rep
  local a b out cpu
  PHASE="$1 blast run $2"
  waitidle
  a=$(wan_rx)
  cpu_start
  out=$(timeout $((SECS + 10)) ip netns exec $NS_LAN nice -n -15 "$LOAD" blast $WAN_HOST:9 "$SECS" 64 || true)
  cpu=$(cpu_stop)
  sleep 0.3 # what the router still had queued arrives
  b=$(wan_rx)
  local sent_pps=$(sed -n 's/.*pps=\([0-9]*\).*/\1/p' <<< "$out")
  RESULT=($(( (b - a) / SECS )) "sent_pps=${sent_pps:-0} $out" "$cpu")
}
measure_conn() { # router rep
  local out cpu
  PHASE="$1 conn run $2"
  waitidle
  spawn ip netns exec $NS_WAN nice -n -15 timeout $((CONN_SECS + 15)) "$LOAD" serve $WAN_HOST:7000 $((CONN_SECS + 3)) > "$OUT/$1-serve-$2.txt"
  sleep 0.3
  cpu_start
  out=$(timeout $((CONN_SECS + 10)) ip netns exec $NS_LAN nice -n -15 "$LOAD" conn $WAN_HOST:7000 "$CONN_SECS" || true)
  cpu=$(cpu_stop)
  spawn_wait
  local cps=$(sed -n 's/.*cps=\([0-9]*\).*/\1/p' <<< "$out")
  RESULT=("${cps:-0}" "$out" "$cpu")
}
measure() { # figure router rep: a phase whose box had other work (other user time > 10 %,
  # lab.md "How noisy") is measured again, up to twice; the last attempt is kept either way.
  local attempt other
  for attempt in 1 2 3; do
    "measure_$1" "$2" "$3"
    other=$(sed -n 's/.*other_user=\([0-9]*\).*/\1/p' <<< "${RESULT[2]}")
    [ "${other:-0}" -le 10 ] && break
    if [ $attempt -lt 3 ]; then
      echo "   $2 $1 run $3: other user ${other} % (the box had other work); measuring again" >&2
    else
      warn "$2 $1 run $3: other user ${other} % after 3 attempts; the figure is suspect"
    fi
  done
  [ $attempt = 1 ] || echo "$2 $1 run $3: measured $attempt times (other work on the box); the last is kept" >> "$OUT/warnings.txt"
  record "$2" "$3" "$1" "${RESULT[@]}"
}
profile_blast() { # rep: an extra, unmeasured statewall blast under perf
  log "profiling statewall (pid $ROUTER_PID) during a ${SECS} s blast: perf record -g"
  PHASE="statewall perf blast"
  waitidle
  spawn timeout $((SECS + 20)) perf record -q -g -p "$ROUTER_PID" -o "$OUT/perf.data" -- sleep "$SECS"
  sleep 0.2
  timeout $((SECS + 10)) ip netns exec $NS_LAN nice -n -15 "$LOAD" blast $WAN_HOST:9 "$SECS" 64 > /dev/null || true
  spawn_wait
  # The release build has no frame pointers, but the kernel unwinds its own stacks: the children
  # view splits the kernel time by system call (sendto includes the receiving veth peer's stack,
  # which runs in the sender's context).
  local rep=(perf report -i "$OUT/perf.data" --stdio -q -g none)
  {
    echo "thread / object (self):"
    "${rep[@]}" --no-children --sort comm,dso 2> /dev/null | grep '%' | head -6
    echo "system calls and the receive softirq (children):"
    "${rep[@]}" --children --sort sym 2> /dev/null |
      grep -E '\[k\] (__x64_sys_[a-z_]*|net_rx_action) *$' | head -8
    echo "top symbols (self):"
    "${rep[@]}" --no-children --sort comm,sym 2> /dev/null | grep '%' | head -15
  } | sed 's/[[:space:]]*$//' > "$OUT/perf-top.txt" || true
}

run_router() { # router rep
  local router=$1 rep=$2
  log "run $rep/$REPS: $router routes"
  topo_up
  if [ "$router" = kernel ]; then
    kernel_up
  else
    statewall_up "$rep"
  fi
  reachable 20 || { echo "bench-vs-kernel.sh: $router does not forward (see $OUT)" >&2; exit 1; }
  measure tcp "$router" "$rep"
  measure blast "$router" "$rep"
  measure conn "$router" "$rep"
  if [ "$router" = statewall ] && [ "$rep" = 1 ] && [ "$PERF" = 1 ]; then profile_blast "$rep"; fi
  if [ "$router" = statewall ]; then
    kill -0 "$ROUTER_PID" 2>/dev/null || { echo "bench-vs-kernel.sh: statewall died (see $OUT/statewall-run$rep.log)" >&2; exit 1; }
    stop_router
  else
    nsx $NS_RTR conntrack -C > "$OUT/kernel-conntrack-count-$rep.txt" 2>/dev/null || true
  fi
  topo_down
}

log "results in $OUT; ${REPS} run(s) of ${SECS} s (connections ${CONN_SECS} s)"
for rep in $(seq "$REPS"); do
  run_router kernel "$rep"
  run_router statewall "$rep"
done

CMD="bash scripts/bench-vs-kernel.sh${ARGS:+ $ARGS}"
BENCH_SECS=$SECS BENCH_CONN_SECS=$CONN_SECS python3 "$HERE/report.py" "$OUT" "$CMD" | tee "$OUT/report.md"
if [ -s "$OUT/perf-top.txt" ]; then
  echo
  echo "statewall's top symbols during the blast (perf record -g -p <pid>; self time, comm / dso / symbol):"
  echo
  echo '```'
  cat "$OUT/perf-top.txt"
  echo '```'
fi | tee -a "$OUT/report.md"
