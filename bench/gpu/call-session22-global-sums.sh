#!/usr/bin/env bash
# One device call (2026-12-01, twenty-second session): the walk's backward with its per-cell sums added straight into
# global memory (GLOBAL_SUMS=1: native L2 reductions) against the block's shared sums (sm_90 compiles a shared float
# atomicAdd to a compare-and-swap loop that the block's warps make retry: Nsight counted 162 M ATOMS.CAS and 420 M
# branches at 32²). Selfcheck of the variant (walk, layer), the gate alone at 14²–64² (two rounds), the P-mode operator,
# Nsight Compute of the variant's backward.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s22g; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
V=/tmp/v-global.cu; { echo '#define GLOBAL_SUMS 1'; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > $V
PLSTM_FUSED_GATE_SOURCE=$V selfcheck 200 --parts walk,layer
for round in 1 2; do
  part gate-shared-$round 90 op --grids 14,24,32,48 --forms walk --warmup 3 --iters 10
  PLSTM_FUSED_GATE_SOURCE=$V part gate-global-$round 90 op --grids 14,24,32,48 --forms walk --warmup 3 --iters 10
done
part gate64-shared 90 op --grids 64 --bh 96 --forms walk --warmup 2 --iters 5
PLSTM_FUSED_GATE_SOURCE=$V part gate64-global 90 op --grids 64 --bh 96 --forms walk --warmup 2 --iters 5
PLSTM_FUSED_GATE_SOURCE=$V part op-global 90 op --grids 14,24,32 --forms kernel --mode p --warmup 3 --iters 10
PLSTM_FUSED_GATE_SOURCE=$V timeout 150 ncu --csv --target-processes all -k regex:'plstm_fused_gate_backward' \
  --metrics 'regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,smsp__inst_executed.sum,lts__t_sectors_op_red.sum,gpu__time_duration.sum,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active' \
  bash .gpu/run.sh bench op --device cuda --forms walk --grids 14,32 --warmup 0 --iters 1 > "$R/ncu.csv" 2> "$R/ncu.err"
echo "ncu exit $?"
python3 bench/gpu/ncu_metrics.py "$R/ncu.csv" > "$R/ncu.txt"
collect "$R/ncu.txt"
grep -E "^\| walk|^\| kernel|^===" "$OUT/all.md"; cat "$R/ncu.txt"
