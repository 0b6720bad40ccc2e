"""Prints the results of scripts/bench-vs-kernel.sh as markdown for BENCHMARKS.md.

usage: report.py OUTDIR "COMMAND"
OUTDIR/results.tsv has one line per measurement, tab-separated:
  router (kernel|statewall), rep, figure (tcp|blast|conn), value, detail, cpu (cpustat.py diff)
"""
import os
import platform
import statistics
import sys
import time

out, command = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(out, "results.tsv")) if l.strip()]
ROUTERS = ["kernel", "statewall"]
FIGURES = {
    "tcp": "TCP throughput, iperf3 {s} s LAN→WAN (Gbit/s)",
    "blast": "UDP 64 B payload, one-thread blast {s} s: arrived at the WAN veth (kpps)",
    "conn": "new TCP connections, closed-loop connect + RST {c} s (conn/s)",
}
secs = os.environ.get("BENCH_SECS", "10")
conn_secs = os.environ.get("BENCH_CONN_SECS", "5")


def cells(router, fig):
    return [r for r in rows if r[0] == router and r[2] == fig]


def kv(text):
    return dict(w.split("=", 1) for w in text.split() if "=" in w)


def fmt(fig, v):
    v = float(v)
    if fig == "tcp":
        return f"{v:.2f}"
    if fig == "blast":
        return f"{v / 1e3:.0f}"
    return f"{v / 1e3:.1f} k"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


print(f"### statewall against the Linux kernel as the router — {time.strftime('%Y-%m-%d')}")
print()
print("Command (as root, from the repository):")
print()
print("```sh")
print(command)
print("```")
print()
print(
    f"Machine: {os.cpu_count()} vCPU {cpu_model()}, kernel {platform.release()}. Three namespaces "
    "(LAN host 198.51.100.10 — router — WAN host 203.0.113.2), veth offloads `tx tso gso gro` "
    "off on all four ends for both routers. Kernel: ip_forward, nf_conntrack, the defconf-like "
    "filter and masquerade (`scripts/bench/kernel.nft`). statewall: `statewall run` with "
    "defconf (ports bare, ip_forward 0). Each cell is run 1 / run 2 / …; the ratio is of the means."
)
print()
print("| figure | Linux kernel (conntrack + masquerade) | statewall (defconf) | statewall / kernel |")
print("|---|---|---|---|")
for fig, title in FIGURES.items():
    k, s = cells("kernel", fig), cells("statewall", fig)
    if not k and not s:
        continue

    def cell(rs):
        if not rs:
            return "–"
        text = " / ".join(fmt(fig, r[3]) for r in rs)
        if fig == "tcp":
            text += " (retr " + " / ".join(kv(r[4]).get("retr", "?") for r in rs) + ")"
        if fig == "blast":
            text += " (sent " + " / ".join(f"{float(kv(r[4]).get('sent_pps', 0)) / 1e3:.0f}" for r in rs) + ")"
        if fig == "conn":
            failed = [kv(r[4]).get("failed", "0") for r in rs]
            if any(f != "0" for f in failed):
                text += " (failed " + " / ".join(failed) + ")"
        return text

    km = statistics.mean(float(r[3]) for r in k) if k else 0
    sm = statistics.mean(float(r[3]) for r in s) if s else 0
    ratio = f"**{sm / km:.2f}×**" if km > 0 and s else "–"
    print(f"| {title.format(s=secs, c=conn_secs)} | {cell(k)} | {cell(s)} | {ratio} |")
print()
print(
    "CPU over each phase. Box: 100 % = all vCPUs, split user / sys / softirq. statewall process: "
    "utime+stime, 100 % = one vCPU, with its busiest threads. *other user*: box user time not "
    "spent by statewall (the load tools and anything else); above 10 % the figures are suspect."
)
print()
print("| phase | kernel: box busy (user/sys/softirq), other user | statewall: box busy (user/sys/softirq), other user | statewall process (threads) |")
print("|---|---|---|---|")
suspect = []
for fig in FIGURES:
    reps = sorted({r[1] for r in rows if r[2] == fig}, key=int)
    for rep in reps:
        line = [f"{fig} run {rep}"]
        proc = "–"
        for router in ROUTERS:
            m = [r for r in rows if r[0] == router and r[2] == fig and r[1] == rep]
            if not m:
                line.append("–")
                continue
            c = kv(m[0][5])
            line.append(f"{c['busy']} % ({c['user']}/{c['sys']}/{c['softirq']}), {c['other_user']} %")
            if int(c["other_user"]) > 10:
                suspect.append(f"{router} {fig} run {rep}: other user {c['other_user']} %")
            if router == "statewall":
                threads = c.get("threads", "").replace(",", ", ").replace(":", " ")
                proc = f"{c['rtr']} % ({threads} %)" if threads else f"{c['rtr']} %"
        line.append(proc)
        print("| " + " | ".join(line) + " |")
print()
warnings = os.path.join(out, "warnings.txt")
notes = open(warnings).read().split("\n") if os.path.exists(warnings) else []
notes = [n for n in notes if n.strip()]
notes += [f"busy box? {s}" for s in suspect if not any(s.split(":")[0] + ":" in n for n in notes)]
if notes:
    print("Warnings:")
    for n in notes:
        print(f"- {n}")
else:
    print("Every phase started on an idle box (< 12 % busy) and no other user time above 10 %.")
