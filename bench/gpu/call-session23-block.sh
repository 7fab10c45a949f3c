#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session): backward blocks of 128 threads for grids above 1,024 cells, which
# two calls measured 4 % faster at 64² (and 2–15 % slower at 48²): the walk's selfcheck with 128, then the gate at 40²,
# 56² and 64² (B·H 96) with 256 (default) and 128, alternating.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s23b; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
PLSTM_KERNEL_LARGE_BACKWARD_BLOCK=128 selfcheck 200 --parts walk
for round in 1 2; do
  part gate-256-$round 60 op --grids 40,56,64 --bh 96 --forms walk --warmup 2 --iters 5
  PLSTM_KERNEL_LARGE_BACKWARD_BLOCK=128 part gate-128-$round 60 op --grids 40,56,64 --bh 96 --forms walk --warmup 2 --iters 5
done
collect
