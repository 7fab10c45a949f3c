#!/usr/bin/env bash
# One device call (2026-12-01, seventeenth session): the gate backward's segments (SEG scan lines whose L and U are kept
# at a time, source variants through PLSTM_FUSED_GATE_SOURCE; SEG 999 = one segment, the walk stored whole as before).
# Per variant: registers and local memory of the kernels (the first lines of `plstm selfcheck`), then the operator
# fwd+bwd (kernel form) at 14², 24², 32² (B·H 384) and 64² (B·H 192); then the full selfcheck of the variants in $CHECK.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-seg; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
for seg in ${SEGS:-999 1 2 4 8}; do
  v=seg$seg
  { echo "#define SEG $seg"; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > "$R/fused_gate_$v.cu"
  export PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_$v.cu
  echo "##### $v"
  timeout 60 bash .gpu/run.sh selfcheck 2>&1 | head -3
  part op-$v 45 op --grids 14,24,32 --forms kernel --warmup 3 --iters 10
  part op64-$v 30 op --grids 64 --bh 192 --forms kernel --warmup 1 --iters 3
done
for seg in ${CHECK:-}; do
  export PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_seg$seg.cu
  echo "##### selfcheck seg$seg"; timeout 150 bash .gpu/run.sh selfcheck 2>&1 | grep -E "FAIL|cases agree"
done
(cd "$R" && tar czf "$OUT/results.tgz" .)
