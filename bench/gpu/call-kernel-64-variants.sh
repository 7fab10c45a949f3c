#!/usr/bin/env bash
# One device call (2026-12-01, sixteenth session): the large-grid backward's block size (PLSTM_KERNEL_LARGE_BACKWARD_BLOCK)
# and the adjoint walk's chunk PF (source variants through PLSTM_FUSED_GATE_SOURCE) at 48² and 64², B·H 96: the operator
# fwd+bwd (kernel form) and Nsight Compute's per-kernel times at 64².
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-k64v; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for blk in ${BLOCKS:-128 256 512}; do
  for pf in ${PFS:-2 4 8}; do
    v=b$blk-pf$pf
    { echo "#define PF $pf"; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > "$R/fused_gate_$v.cu"
    echo "##### $v"
    PLSTM_KERNEL_LARGE_BACKWARD_BLOCK=$blk PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_$v.cu \
      timeout 90 ncu --csv --metrics gpu__time_duration.sum --target-processes all -k regex:plstm_fused_gate \
      bash .gpu/run.sh bench op --device cuda --forms kernel --grids 64 --bh 96 --warmup 1 --iters 1 > "$R/ncu-$v.csv" 2>/dev/null
    python3 bench/gpu/ncu_sum.py --halve --top 4 "$v grid 64=$R/ncu-$v.csv"
  done
done
cp "$R"/*.csv "$OUT/" 2>/dev/null; true
