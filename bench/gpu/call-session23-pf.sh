#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session): the adjoint walk's prefetch width for lines of more than 16 cells.
# The twenty-second session measured PF 8 6 % faster than PF 4 at 32² and 4–6 % slower at 24² (no values checked).
# Variants (source files with a #define prepended, PLSTM_FUSED_GATE_SOURCE): pf8-32 (PF 8 up to 16 cells per line and
# for 25–32, else 4), pf8 (8 for every line length), pf6 (6 beyond 16). First the selfcheck of the walk with pf8-32 and
# pf8, then the gate alone (P-mode gates, fwd + bwd) at 24², 32² (B·H 384) and 48², 64² (B·H 96), default first and
# last; then the P-mode operator at 32² with pf8-32 and the default.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s23p; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
S=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
{ echo '#define PF (GY <= 16 ? 8 : GY <= 24 ? 4 : GY <= 32 ? 8 : 4)'; cat $S; } > /tmp/v-pf8-32.cu
{ echo '#define PF 8'; cat $S; } > /tmp/v-pf8.cu
{ echo '#define PF (GY <= 16 ? 8 : 6)'; cat $S; } > /tmp/v-pf6.cu
probe
PLSTM_FUSED_GATE_SOURCE=/tmp/v-pf8-32.cu selfcheck 200 --parts walk; cp "$R/selfcheck.txt" "$R/selfcheck-pf8-32.txt"
PLSTM_FUSED_GATE_SOURCE=/tmp/v-pf8.cu selfcheck 200 --parts walk; cp "$R/selfcheck.txt" "$R/selfcheck-pf8.txt"
part default 40 op --grids 24,32 --forms walk --warmup 3 --iters 10
part default-large 60 op --grids 48,64 --bh 96 --forms walk --warmup 2 --iters 5
for v in pf8-32 pf8 pf6; do
  PLSTM_FUSED_GATE_SOURCE=/tmp/v-$v.cu part $v 40 op --grids 24,32 --forms walk --warmup 3 --iters 10
  [ $v = pf8-32 ] || PLSTM_FUSED_GATE_SOURCE=/tmp/v-$v.cu part $v-large 60 op --grids 48,64 --bh 96 --forms walk --warmup 2 --iters 5
done
part default-2 40 op --grids 24,32 --forms walk --warmup 3 --iters 10
part default-large-2 60 op --grids 48,64 --bh 96 --forms walk --warmup 2 --iters 5
PLSTM_FUSED_GATE_SOURCE=/tmp/v-pf8-32.cu part op-pf8-32 60 op --grids 32 --forms kernel,sdpa --mode p --warmup 3 --iters 10
part op-default 60 op --grids 32 --forms kernel,sdpa --mode p --warmup 3 --iters 10
collect "$R"/selfcheck-pf8-32.txt "$R"/selfcheck-pf8.txt
