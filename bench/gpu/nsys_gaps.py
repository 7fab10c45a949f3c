#!/usr/bin/env python3
"""Reads `nsys stats -r cuda_gpu_trace -f csv` output of a `plstm bench step` run and says how busy the GPU was.

Usage: nsys_gaps.py DIR LABEL...   (reads DIR/LABEL_cuda_gpu_trace.csv and DIR/LABEL_cuda_api_sum.csv)
Window: the second half of the trace by time (steady state, after warm-up). Prints the GPU's busy fraction there
(sum of kernel and copy durations over the window's length), the idle gaps by size, and the kernels summed by name.
Used by call-step-timeline.sh.
"""
import collections
import csv
import re
import sys


def rows(path):
    with open(path, errors="replace") as f:
        return list(csv.DictReader(f))


def main(d, labels):
    for label in labels:
        try:
            trace = rows(f"{d}/{label}_cuda_gpu_trace.csv")
        except OSError as e:
            print(f"== {label}: no trace ({e})")
            continue
        ev = sorted((int(r["Start (ns)"]), int(r["Duration (ns)"]), r.get("Name", "")) for r in trace)
        t0, t1 = ev[0][0], max(s + du for s, du, _ in ev)
        mid = (t0 + t1) // 2
        win = [e for e in ev if e[0] >= mid]
        span = max(s + du for s, du, _ in win) - win[0][0]
        busy = sum(du for _, du, _ in win)
        gaps = collections.Counter()
        gap_ns = collections.Counter()
        end = win[0][0]
        for s, du, _ in win:
            g = s - end
            if g > 0:
                k = "<5us" if g < 5e3 else "5-20us" if g < 2e4 else "20-100us" if g < 1e5 else ">=100us"
                gaps[k] += 1
                gap_ns[k] += g
            end = max(end, s + du)
        print(f"== {label}: window {span / 1e6:.1f} ms, {len(win)} GPU ops, busy {busy / 1e6:.1f} ms "
              f"({100 * busy / span:.0f} %)")
        for k in ["<5us", "5-20us", "20-100us", ">=100us"]:
            print(f"   idle gaps {k:>8}: {gaps[k]:6d}, {gap_ns[k] / 1e6:8.2f} ms")
        per = collections.defaultdict(lambda: [0, 0])
        for _, du, name in win:
            n = re.sub(r"\s+", " ", name)[:100]
            per[n][0] += 1
            per[n][1] += du
        for n, (c, t) in sorted(per.items(), key=lambda kv: -kv[1][1])[:30]:
            print(f"{t / 1e6:9.3f} ms {c:6d}x  {n}")
        try:
            api = rows(f"{d}/{label}_cuda_api_sum.csv")
            for r in api[:8]:
                print("   api", r.get("Name"), r.get("Num Calls"), r.get("Total Time (ns)"))
        except OSError:
            pass


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
