#!/usr/bin/env python3
"""Prints an Nsight Compute CSV (`ncu --csv --metrics …`) kernel by kernel: each metric on its own line, zeros left
out, stall-reason names shortened (smsp__average_warps_issue_stalled_X_per_issue_active.ratio → stall_X).
Usage: ncu_metrics.py FILE.csv"""
import collections
import csv
import io
import sys

text = open(sys.argv[1], errors="replace").read()
if '"ID"' not in text:
    sys.exit(f"{sys.argv[1]}: no Nsight Compute rows")
per = collections.OrderedDict()
for row in csv.DictReader(io.StringIO(text[text.find('"ID"'):])):
    per.setdefault((row["ID"], row["Kernel Name"][:26]), []).append((row["Metric Name"], row["Metric Value"]))
for (kernel_id, name), metrics in per.items():
    print("##", kernel_id, name)
    for key, value in metrics:
        try:
            if float(value.replace(",", "")) == 0:
                continue
        except ValueError:
            pass
        print(" ", key.replace("smsp__average_warps_issue_stalled_", "stall_").replace("_per_issue_active.ratio", ""), value)
