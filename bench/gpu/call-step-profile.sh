#!/usr/bin/env bash
# One device call (2026-11-30, twelfth session): where a pLSTM-ViT-T training step spends its GPU time, against ViT-T.
# Nsight Compute times every kernel of one step (224 px, batch 128, float32; warm-up 1, one timed step) and the kernels
# are summed by name: the list of what to fuse next (issue 6).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for preset in plstm_vit_t vit_t; do
  timeout 280 ncu --csv --metrics gpu__time_duration.sum --target-processes all \
    bash .gpu/run.sh bench step --device cuda --presets $preset --sizes 224 --warmup 1 --iters 1 > "$R/$preset.csv" 2> "$R/$preset.err"
  echo "$preset ncu exit $? ($(wc -l < "$R/$preset.csv") lines)"
done
python3 - "$R" <<'PY' | tee "$R/summary.txt"
import csv, sys, collections, io, re
root = sys.argv[1]
for preset in ("plstm_vit_t", "vit_t"):
    text = open(f"{root}/{preset}.csv", errors="replace").read()
    start = text.find('"ID"')
    rows = list(csv.DictReader(io.StringIO(text[start:]))) if start >= 0 else []
    per = collections.defaultdict(lambda: [0, 0.0])
    for r in rows:
        if r.get("Metric Name") != "gpu__time_duration.sum": continue
        v = float(r["Metric Value"].replace(",", ""))
        unit = r.get("Metric Unit", "")
        ns = v * {"nsecond": 1, "usecond": 1e3, "msecond": 1e6, "second": 1e9}.get(unit, 1)
        name = re.sub(r"\s+", " ", r["Kernel Name"])[:110]
        per[name][0] += 1; per[name][1] += ns
    total = sum(t for _, t in per.values()); count = sum(c for c, _ in per.values())
    # Warm-up and timed step both ran under ncu: halve for one step.
    print(f"== {preset}: {count} kernels, {total/1e6:.2f} ms summed over warm-up + timed step")
    for name, (c, t) in sorted(per.items(), key=lambda kv: -kv[1][1])[:40]:
        print(f"{t/1e6:9.3f} ms {c:6d}x  {name}")
PY
(cd "$R" && tar czf "$OUT/results.tgz" summary.txt *.err)
