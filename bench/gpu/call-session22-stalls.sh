#!/usr/bin/env bash
# One device call (2026-12-01, twenty-second session): where the gate walk's kernels wait — Nsight Compute's stall
# reasons per issued instruction, instruction mix and L2 reduction traffic of plstm_fused_gate_forward/backward at 14²
# and 32² (P-mode gates, B·H 384, one forward + backward).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s22s; mkdir -p "$OUT" "$R"
bash .gpu/run.sh --version > /dev/null 2>&1
timeout 280 ncu --csv --target-processes all -k regex:'plstm_fused_gate' \
  --metrics 'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,regex:smsp__inst_executed_op_.*\.sum$,smsp__inst_executed.sum,lts__t_sectors_op_red.sum,lts__t_requests_op_red.sum,gpu__time_duration.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active' \
  bash .gpu/run.sh bench op --device cuda --forms walk --grids 14,32 --warmup 0 --iters 1 > "$R/ncu.csv" 2> "$R/ncu.err"
echo "ncu exit $?"; tail -3 "$R/ncu.err"
python3 bench/gpu/ncu_metrics.py "$R/ncu.csv" > "$OUT/stalls.txt"
cat "$OUT/stalls.txt"
