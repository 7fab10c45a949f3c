#!/usr/bin/env bash
# One device call (2026-12-01, seventeenth session): the segmented gate backward with the adjoint weights parked in
# local memory during each segment's second walk (PARK, fewer registers), against the committed kernel before it
# (.gpu/fused_gate_head.cu, written beside the bundle), with and without __launch_bounds__ asking for two blocks per
# multiprocessor (BWD_MIN_BLOCKS 2), and with other segment lengths. Per variant: registers and local memory (first lines
# of `plstm selfcheck`), the operator fwd+bwd at 14², 24², 32², 48² (B·H 384) and 64² (B·H 192); then the full
# selfcheck of the variants in $CHECK.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-park; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
K=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
cp .gpu/fused_gate_head.cu "$R/fused_gate_head.cu"
cp "$K" "$R/fused_gate_park.cu"
{ echo "#define BWD_MIN_BLOCKS 2"; cat "$K"; } > "$R/fused_gate_parkmin2.cu"
{ echo "#define SEG 2"; cat "$K"; } > "$R/fused_gate_parkseg2.cu"
{ echo "#define SEG 4"; cat "$K"; } > "$R/fused_gate_parkseg4.cu"
for v in ${VARIANTS:-head park parkmin2 parkseg2 parkseg4}; do
  export PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_$v.cu
  echo "##### $v"
  timeout 60 bash .gpu/run.sh selfcheck 2>&1 | head -3
  part op-$v 45 op --grids 14,24,32 --forms kernel --warmup 3 --iters 10
  part op48-$v 30 op --grids 48 --forms kernel --warmup 1 --iters 3
  part op64-$v 30 op --grids 64 --bh 192 --forms kernel --warmup 1 --iters 3
done
for v in ${CHECK:-}; do
  export PLSTM_FUSED_GATE_SOURCE=$R/fused_gate_$v.cu
  echo "##### selfcheck $v"; timeout 150 bash .gpu/run.sh selfcheck 2>&1 | grep -E "FAIL|cases agree"
done
(cd "$R" && tar czf "$OUT/results.tgz" .)
