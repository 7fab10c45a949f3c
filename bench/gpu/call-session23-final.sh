#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session, last): the committed build with the adjoint walk's prefetch width
# by line length and masked_attention.cu's backward products as one helper (two_products; no change intended): the
# whole selfcheck; the masked attention alone and the P-mode operator against fused attention; the large grids' gate
# with backward blocks of 256 (default) and 128 under the new prefetch widths; the training steps (two rounds).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s23f; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
probe
selfcheck 240
part masked 60 op --grids 14,24,32 --forms masked --warmup 3 --iters 10
# MASKED_BEFORE: the previous masked_attention.cu (e.g. `git show 670a528:src/Plstm/Ops/TwoD/Kernels/masked_attention.cu`)
if [ -n "${MASKED_BEFORE:-}" ]; then
  PLSTM_MASKED_ATTENTION_SOURCE=$MASKED_BEFORE part masked-before 60 op --grids 14,24,32 --forms masked --warmup 3 --iters 10
  part masked-2 60 op --grids 14,24,32 --forms masked --warmup 3 --iters 10
fi
part op-p 90 op --grids 14,16,24,32 --forms kernel,sdpa --mode p --warmup 3 --iters 10
part gate-large-256 60 op --grids 48,64 --bh 96 --forms walk --warmup 2 --iters 5
PLSTM_KERNEL_LARGE_BACKWARD_BLOCK=128 part gate-large-128 60 op --grids 48,64 --bh 96 --forms walk --warmup 2 --iters 5
for round in 1 2; do part "steps-$round" 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10; done
collect
