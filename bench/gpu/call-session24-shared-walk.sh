#!/usr/bin/env bash
# One device call (2026-12-01, twenty-fourth session): the P-mode gate backward with a segment's L and U in shared
# memory (fused_gate.cu SHARED_LU; static, so only short segments fit) instead of local memory, as source variants
# (PLSTM_FUSED_GATE_SOURCE) of the committed kernel: gate alone fwd + bwd (`bench op --forms walk`, B·H 384) at 12², 14²,
# 16², then `selfcheck --parts walk` of the SEG 3 shared variant.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh; probe
SRC=src/Plstm/Ops/TwoD/Kernels/fused_gate.cu
mkv() { local name=$1; shift; { for d in "$@"; do echo "#define $d"; done; cat "$SRC"; } > "/tmp/v-$name.cu"; }
mkv seg3 "SEG 3"
mkv seg3s "SEG 3" "SHARED_LU 1"
mkv seg2s "SEG 2" "SHARED_LU 1"
run_v() { local name=$1; if [ "$name" = base ]; then unset PLSTM_FUSED_GATE_SOURCE; else export PLSTM_FUSED_GATE_SOURCE=/tmp/v-$name.cu; fi
  part "$name-$2" 60 op --forms walk --grids 12,14,16 --warmup 5 --iters 40; unset PLSTM_FUSED_GATE_SOURCE; }
for round in 1 2; do for v in base seg3 seg3s seg2s; do run_v $v $round; done; done
export PLSTM_FUSED_GATE_SOURCE=/tmp/v-seg3s.cu
selfcheck 200 --parts walk
unset PLSTM_FUSED_GATE_SOURCE
collect
