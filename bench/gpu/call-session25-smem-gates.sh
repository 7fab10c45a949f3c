#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fifth session): the P-mode walk's forward reading the gates from a copy in shared
# memory (fused_gate.cu SMEM_GATES, a source variant via PLSTM_FUSED_GATE_SOURCE) against the committed kernel: the
# forward kernel's duration (Nsight Compute) at 14², the gate alone fwd + bwd at 12²-16², then selfcheck of the walk.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
{ echo "#define SMEM_GATES 1"; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > /tmp/v-smem.cu
for v in base smem; do
  [ $v = smem ] && export PLSTM_FUSED_GATE_SOURCE=/tmp/v-smem.cu
  timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate_forward \
    bash .gpu/run.sh bench op --device cuda --forms walk --grids 14 --warmup 1 --iters 2 > "$R/ncu-$v.csv" 2>/dev/null
  echo "ncu $v exit $?"; unset PLSTM_FUSED_GATE_SOURCE
done
python3 bench/gpu/ncu_sum.py base="$R/ncu-base.csv" smem="$R/ncu-smem.csv" | tee "$R/durations.txt"
for round in 1 2; do
  part "base-$round" 40 op --forms walk --grids 12,14,16 --warmup 5 --iters 40
  PLSTM_FUSED_GATE_SOURCE=/tmp/v-smem.cu part "smem-$round" 40 op --forms walk --grids 12,14,16 --warmup 5 --iters 40
done
PLSTM_FUSED_GATE_SOURCE=/tmp/v-smem.cu selfcheck 120 --parts walk
collect "$R/durations.txt"
