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
python3 bench/gpu/ncu_sum.py --halve --top 14 "grid 32=$R/op32.csv" "grid 14=$R/op14.csv" | tee "$R/summary.txt"
cp "$R/summary.txt" "$OUT/"
