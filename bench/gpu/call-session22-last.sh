#!/usr/bin/env bash
# One device call (2026-12-01, twenty-second session, last): the committed build with the walk's backward sums as L2
# reductions (no shared memory): the whole selfcheck; the gate alone above 1,024 cells with backward blocks of 256
# (default, chosen when the shared sums limited blocks per multiprocessor) and 128; the P-mode operator against fused
# attention; the training steps (two rounds).
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s22l; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
selfcheck 200
part gate-large-256 60 op --grids 48,64 --bh 96 --forms walk --warmup 2 --iters 5
PLSTM_KERNEL_LARGE_BACKWARD_BLOCK=128 part gate-large-128 60 op --grids 48,64 --bh 96 --forms walk --warmup 2 --iters 5
part op-p 90 op --grids 14,16,24,32 --forms kernel,sdpa --mode p --warmup 3 --iters 10
for round in 1 2; do part "steps-$round" 150 step --presets plstm_vit_t,vit_t --sizes 224,512 --warmup 3 --iters 10; done
collect
