#!/usr/bin/env python3
"""Sums Nsight Compute CSV output (`ncu --csv --metrics gpu__time_duration.sum`) by kernel name.

Usage: ncu_sum.py [--halve] [--top N] LABEL=FILE.csv ...
--halve: the file holds a warm-up and a timed iteration; print per-iteration times and counts.
Used by the device-call scripts call-step-profile.sh and call-op-profile.sh.
"""
import collections
import csv
import io
import re
import sys

UNITS = {"nsecond": 1, "usecond": 1e3, "msecond": 1e6, "second": 1e9}


def kernel_times(path):
    text = open(path, errors="replace").read()
    start = text.find('"ID"')
    rows = list(csv.DictReader(io.StringIO(text[start:]))) if start >= 0 else []
    per = collections.defaultdict(lambda: [0, 0.0])
    for r in rows:
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        ns = float(r["Metric Value"].replace(",", "")) * UNITS.get(r.get("Metric Unit", ""), 1)
        name = re.sub(r"\s+", " ", r["Kernel Name"])[:110]
        per[name][0] += 1
        per[name][1] += ns
    return per


def main(args):
    halve = "--halve" in args
    top = int(args[args.index("--top") + 1]) if "--top" in args else 40
    for spec in (a for a in args if "=" in a):
        label, path = spec.split("=", 1)
        per = kernel_times(path)
        div = 2 if halve else 1
        total = sum(t for _, t in per.values()) / div
        count = sum(c for c, _ in per.values()) // div
        what = "per iteration (warm-up + timed, halved)" if halve else "summed over warm-up + timed step"
        print(f"== {label}: {count} kernels, {total / 1e6:.2f} ms {what}")
        for name, (c, t) in sorted(per.items(), key=lambda kv: -kv[1][1])[:top]:
            print(f"{t / div / 1e6:9.3f} ms {c // div:6d}x  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
