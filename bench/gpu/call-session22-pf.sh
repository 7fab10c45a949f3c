#!/usr/bin/env bash
# One device call (2026-12-01, twenty-second session): with the backward's sums as L2 reductions, do its measured
# prefetch width (PF 4 beyond 16 cells per line) and segment length (SEG 1 at 24²–32²) still hold? Gate alone at 24² and
# 32² (P-mode gates, B·H 384) for the default and three source variants.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s22p; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
S=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
for v in "PF 8" "PF 2" "SEG 2"; do f=/tmp/v-${v// /}.cu; { echo "#define $v"; cat $S; } > $f; done
part default 40 op --grids 24,32 --forms walk --warmup 3 --iters 10
for v in PF8 PF2 SEG2; do PLSTM_FUSED_GATE_SOURCE=/tmp/v-$v.cu part $v 40 op --grids 24,32 --forms walk --warmup 3 --iters 10; done
part default-2 40 op --grids 24,32 --forms walk --warmup 3 --iters 10
