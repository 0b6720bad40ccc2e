"""CPU over a phase of scripts/bench-vs-kernel.sh (the cpustat.py of shared/reference/lab.md).

usage: cpustat.py snap FILE [PID]   remember /proc/stat, the time and PID's threads' CPU
       cpustat.py diff FILE [PID]   one line of key=value figures since the snap:
  busy, user, sys, softirq: the whole box (100 = every vCPU busy), from /proc/stat;
  rtr, rtr_user: the router process (100 = one vCPU), utime+stime and utime alone;
  other_user: box user time not spent by the router: the tools (iperf3, swload) and anything
    else running. Forwarding is sys and softirq time, so a high other_user means other work
    shared the box (lab.md, "How noisy");
  threads: each router thread's CPU (100 = one vCPU), busiest first.
"""
import json
import os
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def box():
    return [int(x) for x in open("/proc/stat").readline().split()[1:]]


def threads(pid):
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            text = open(f"/proc/{pid}/task/{tid}/stat").read()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        rest = text[text.rindex(")") + 2 :].split()
        # fields 14 and 15 of stat(5) (utime, stime) are 12 and 13 after the name
        out[tid] = (name, int(rest[11]), int(rest[12]))
    return out


def main():
    cmd, path = sys.argv[1], sys.argv[2]
    pid = sys.argv[3] if len(sys.argv) > 3 else None
    if cmd == "snap":
        snap = {"t": time.monotonic(), "box": box(), "threads": threads(pid) if pid else {}}
        json.dump(snap, open(path, "w"))
        return
    a = json.load(open(path))
    dt = time.monotonic() - a["t"]
    d = [y - x for x, y in zip(a["box"], box())]
    tot = sum(d) or 1
    user, nice, system, idle, iowait, irq, softirq = d[:7]
    pct = lambda x: 100 * x / tot
    words = [
        f"busy={pct(tot - idle - iowait):.0f}",
        f"user={pct(user + nice):.0f}",
        f"sys={pct(system):.0f}",
        f"softirq={pct(softirq + irq):.0f}",
    ]
    if pid:
        before, after = a["threads"], threads(pid)
        per, rtr, rtr_user = [], 0.0, 0.0
        for tid, (name, u, s) in after.items():
            u0, s0 = before.get(tid, (name, 0, 0))[1:]
            cpu = 100 * (u - u0 + s - s0) / TICK / dt
            rtr += cpu
            rtr_user += 100 * (u - u0) / TICK / dt
            per.append((cpu, name))
        per.sort(reverse=True)
        other = pct(user + nice) - rtr_user / NCPU
        words += [
            f"rtr={rtr:.0f}",
            f"rtr_user={rtr_user:.0f}",
            f"other_user={max(other, 0):.0f}",
            "threads=" + ",".join(f"{n}:{c:.0f}" for c, n in per if c >= 1),
        ]
    else:
        words.append(f"other_user={pct(user + nice):.0f}")
    print(" ".join(words))


main()
