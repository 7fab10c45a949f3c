#!/usr/bin/env python3
"""Prints Nsight Compute CSVs (`ncu --csv --metrics …`) kernel by kernel: each metric on its own line with its unit,
zeros left out, stall-reason names shortened (smsp__average_warps_issue_stalled_X_per_issue_active.ratio → stall_X).
With several files, each under a "# FILE" line.
Usage: ncu_metrics.py FILE.csv…"""
import collections
import csv
import io
import os
import sys


def show(path):
    text = open(path, errors="replace").read()
    if '"ID"' not in text:
        print(f"{os.path.basename(path)}: no Nsight Compute rows")
        return
    per = collections.OrderedDict()
    for row in csv.DictReader(io.StringIO(text[text.find('"ID"'):])):
        per.setdefault((row["ID"], row["Kernel Name"][:26]), []).append(
            (row["Metric Name"], row["Metric Value"], row.get("Metric Unit", "")))
    for (kernel_id, name), metrics in per.items():
        print("##", kernel_id, name)
        for key, value, unit in metrics:
            try:
                if float(value.replace(",", "")) == 0:
                    continue
            except ValueError:
                pass
            key = key.replace("smsp__average_warps_issue_stalled_", "stall_").replace("_per_issue_active.ratio", "")
            print(" ", key, value, unit)


for path in sys.argv[1:]:
    if len(sys.argv) > 2:
        print("#", os.path.basename(path))
    show(path)
