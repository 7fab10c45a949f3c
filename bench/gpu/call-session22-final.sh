#!/usr/bin/env bash
# One device call (2026-12-01, twenty-second session, last): the whole selfcheck (the walk's forward with orientation
# pairs; the four kernel classes now built through one KernelCache), the gate walk alone with the forward's registers
# uncapped (default) and capped for three blocks per multiprocessor (two rounds each), the operator with P-mode and
# D-mode gates against fused attention, the training steps.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s22f; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
selfcheck 280
{ echo '#define FWD_MIN_BLOCKS 3'; cat src/Plstm/Ops/TwoD/Kernels/fused_gate.cu; } > /tmp/v-min3.cu
for round in 1 2; do
  part gate-$round 60 op --grids 14,24,32 --forms walk --warmup 3 --iters 20
  PLSTM_FUSED_GATE_SOURCE=/tmp/v-min3.cu part gate-min3-$round 60 op --grids 14,24,32 --forms walk --warmup 3 --iters 20
done
part op-p 120 op --grids 14,16,24,32 --forms kernel,sdpa --mode p --warmup 3 --iters 10
part op-d 120 op --grids 14,16,24,32 --forms kernel --mode d --warmup 3 --iters 10
for round in 1 2; do part "steps-$round" 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10; done
collect
cp "$R/selfcheck-full.txt" "$OUT/"
