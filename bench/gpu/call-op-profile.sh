#!/usr/bin/env bash
# One device call (2026-11-30, thirteenth session): Nsight Compute per-kernel times of the fused 2D operator (kernel form)
# fwd+bwd at 32² and 14², B·H = 384, DK = DV = 64 (one warm-up + one timed iteration), summed by kernel name, to see
# what the 32² operator's 22 ms are made of (issue 6's ≥ 20× target there needs ≤ 15.5 ms).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-op; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for grid in 32 14; do
  timeout 200 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench op --device cuda --forms kernel --grids $grid --warmup 1 --iters 1 > "$R/op$grid.csv" 2> "$R/op$grid.err"
  echo "grid $grid ncu exit $? ($(wc -l < "$R/op$grid.csv") lines)"
done
python3 - "$R" <<'PY' | tee "$R/summary.txt"
import csv, sys, collections, io, re
root = sys.argv[1]
for grid in ("32", "14"):
    text = open(f"{root}/op{grid}.csv", errors="replace").read()
    start = text.find('"ID"')
    rows = list(csv.DictReader(io.StringIO(text[start:]))) if start >= 0 else []
    per = collections.defaultdict(lambda: [0, 0.0])
    for r in rows:
        if r.get("Metric Name") != "gpu__time_duration.sum": continue
        v = float(r["Metric Value"].replace(",", ""))
        ns = v * {"nsecond": 1, "usecond": 1e3, "msecond": 1e6, "second": 1e9}.get(r.get("Metric Unit", ""), 1)
        name = re.sub(r"\s+", " ", r["Kernel Name"])[:100]
        per[name][0] += 1; per[name][1] += ns
    total = sum(t for _, t in per.values())
    print(f"== grid {grid}: {sum(c for c, _ in per.values())} kernels, {total/2e6:.2f} ms per iteration (warm-up + timed, halved)")
    for name, (c, t) in sorted(per.items(), key=lambda kv: -kv[1][1])[:14]:
        print(f"{t/2e6:8.3f} ms {c//2:4d}x  {name}")
PY
cp "$R/summary.txt" "$OUT/"
