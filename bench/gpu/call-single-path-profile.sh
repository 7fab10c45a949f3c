#!/usr/bin/env bash
# One device call (2026-12-01, twentieth session): Nsight Compute on the gate kernels at 32² (B·H 384): duration, SM and
# DRAM throughput and active warps of each kernel of the closed form (single_path_*) and of the walk with D-mode gates.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
timeout 170 ncu --csv --target-processes all -k regex:'single_path|plstm_fused' \
  --metrics gpu__time_duration.sum,sm__throughput.avg.pct_of_peak_sustained_elapsed,dram__throughput.avg.pct_of_peak_sustained_elapsed,sm__warps_active.avg.pct_of_peak_sustained_active,launch__registers_per_thread \
  bash .gpu/run.sh bench op --device cuda --forms single-path,walk-d --grids 32 --warmup 0 --iters 1 > "$OUT/ncu.csv" 2> "$OUT/ncu.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_metrics.py "$OUT/ncu.csv"
