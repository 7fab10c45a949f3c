#!/usr/bin/env bash
# One device call (2026-12-01, fifteenth session): Nsight Compute details (occupancy, warp stalls, memory) of the two
# gate kernels of the fused 2D operator at 32² and 14², B·H = 384 — where the backward's 12.6 ms at 32² go.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-kp; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for grid in 32 14; do
  timeout 240 ncu --target-processes all -k regex:plstm_fused_gate --launch-skip 2 --launch-count 2 \
    --section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats \
    --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis --section SchedulerStats \
    bash .gpu/run.sh bench op --device cuda --forms kernel --grids $grid --warmup 1 --iters 1 > "$OUT/ncu$grid.txt" 2> "$R/ncu$grid.err"
  echo "grid $grid ncu exit $? ($(wc -l < "$OUT/ncu$grid.txt") lines)"; tail -3 "$R/ncu$grid.err"
done
