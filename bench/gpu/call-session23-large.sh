#!/usr/bin/env bash
# One device call (2026-12-01, twenty-third session, last): the large grids with this session's build (the backward's
# L2 sums, prefetch widths by line length, 128-thread backward blocks beyond 56 cells per line): the P-mode operator at
# 48² (B·H 384) and 64² (B·H 192) against fused attention, and the 768- and 1024-px training steps.
set -u
OUT=${OUT:-/tmp/out}; R=/tmp/res-s23l; mkdir -p "$OUT" "$R"
. bench/gpu/common.sh
probe
part op-48 60 op --grids 48 --forms kernel,sdpa --mode p --warmup 2 --iters 5
part op-64 60 op --grids 64 --forms kernel,sdpa --mode p --bh 192 --warmup 1 --iters 3
part steps 200 step --presets plstm_vit_t,vit_t --sizes 768,1024 --batch-sizes 16@768,8@1024 --warmup 2 --iters 5
collect
