#!/usr/bin/env bash
# One device call (2026-12-01, twenty-first session, last): the whole selfcheck (the walk part now runs the one-turn
# wirings through the closed form; the masked attention kernels after their refactor), the operator with P-mode and
# D-mode gates against fused attention (issue 6's operator comparison), the training steps.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-final; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
selfcheck 280
part op-p 120 op --grids 14,16,24,32 --forms kernel,sdpa --mode p --warmup 3 --iters 10
part op-d 120 op --grids 14,16,24,32 --forms kernel --mode d --warmup 3 --iters 10
for round in 1 2; do part "steps-$round" 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10; done
collect
cp "$R/selfcheck-full.txt" "$OUT/"
